// Requests generated from the spec for the fuzz suite: for each operation, well-formed ones and
// ones broken in one way each (missing fields, wrong types, extra properties, huge and deep
// values, bad escapes, wrong content types, bad query values, unknown query parameters).
import type { Contract, JsonSchema, OperationSpec } from './contract.js';
import { invalidBodies, jsonBodySchema, sampleBody, sampleQuery, sampleValue } from './sampler.js';

export interface FuzzRequest {
  operationId: string;
  /** What kind of request this is, for the report. */
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A small seeded PRNG (mulberry32), so a failing run can be repeated. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEGMENTS = ['stk_missing', 'svc_01JNR1Y6QK3G7W9T8E2M4B5C6E', 'job_01JNR1Y6QK3G7W9T8E2M4B5C6F', '%ZZ', '%', '%E0%A4%A', 'x'.repeat(300), '%F0%9F%90%B3', '..', 'a%2Fb', '%00', 'demo'];
const STRINGS = ['', ' ', 'x'.repeat(5000), '\u0000', '\ud800', '💥', '../../etc/passwd', '${jndi:x}', '<script>', 'null', '-1', '1e309'];

function deep(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level += 1) value = level % 2 === 0 ? [value] : { nested: value };
  return value;
}

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)]!;
}

function withQuery(path: string, query: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (Array.isArray(value)) for (const item of value) search.append(name, String(item));
    else if (value !== undefined) search.append(name, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value) ?? 'null');
}

/** A broken copy of a valid body: one property replaced by a hostile value. */
function mutateProperty(next: () => number, valid: Record<string, unknown>, contract: Contract, schema: JsonSchema): Record<string, unknown> {
  const names = Object.keys((contract.resolve(schema)?.properties ?? {}) as object);
  const name = names.length > 0 ? pick(next, names) : 'unexpected';
  const hostile = pick(next, [null, 0, -1, 2 ** 63, 1.5, true, [], {}, pick(next, STRINGS), deep(60), Array.from({ length: 2000 }, () => 'x')] as unknown[]);
  return { ...valid, [name]: hostile };
}

export function requestsFor(contract: Contract, op: OperationSpec, next: () => number, identity: Record<string, string>): FuzzRequest[] {
  const method = op.method.toUpperCase();
  const template = (segment: () => string) => op.path.replace(/\{\w+\}/g, () => encodeSegment(segment()));
  const encodeSegment = (value: string) => (/%|\.\./.test(value) ? value : encodeURIComponent(value));
  const validQuery = { ...sampleQuery(contract, op) };
  const base = (kind: string, path: string, headers: Record<string, string> = {}, body?: Buffer): FuzzRequest => ({
    operationId: op.operationId,
    kind,
    method,
    path,
    headers: { ...identity, ...headers },
    body,
  });
  const path = () => withQuery(template(() => pick(next, SEGMENTS.slice(0, 3))), validQuery);
  const requests: FuzzRequest[] = [];
  const bodySchema = jsonBodySchema(op);
  const valid = sampleBody(contract, op);
  const asJson = { 'Content-Type': 'application/json' };

  requests.push(base('valid', path(), bodySchema ? asJson : {}, bodySchema ? json(valid) : undefined));
  if (method === 'GET') requests.push({ ...base('head', path()), method: 'HEAD' });
  if (op.path.includes('{')) requests.push(base('bad path segment', withQuery(template(() => pick(next, SEGMENTS)), validQuery), bodySchema ? asJson : {}, bodySchema ? json(valid) : undefined));
  requests.push(base('unknown query parameter', withQuery(template(() => 'stk_missing'), { ...validQuery, [`zz${Math.floor(next() * 1000)}`]: pick(next, STRINGS) }), bodySchema ? asJson : {}, bodySchema ? json(valid) : undefined));

  for (const parameter of op.parameters.filter((entry) => entry.in === 'query')) {
    const hostile = pick(next, [...STRINGS, 'not-a-number', '-5', '99999999999999999999', 'only', 'true']);
    requests.push(base(`query ${parameter.name}`, withQuery(template(() => 'stk_missing'), { ...validQuery, [parameter.name]: hostile }), bodySchema ? asJson : {}, bodySchema ? json(valid) : undefined));
    requests.push(base(`query ${parameter.name} repeated`, withQuery(template(() => 'stk_missing'), { ...validQuery, [parameter.name]: [sampleValue(contract, parameter.schema), hostile] }), bodySchema ? asJson : {}, bodySchema ? json(valid) : undefined));
  }
  for (const parameter of op.parameters.filter((entry) => entry.in === 'header')) {
    requests.push(base(`header ${parameter.name}`, path(), { [parameter.name]: pick(next, ['yesterday', '-1', '99999999999999999999', 'x'.repeat(2000), '12']) }));
  }

  if (bodySchema) {
    for (const variant of invalidBodies(contract, op)) requests.push(base(`body: ${variant.label}`, path(), asJson, json(variant.body)));
    if (valid && typeof valid === 'object' && !Array.isArray(valid)) {
      for (let count = 0; count < 3; count += 1) requests.push(base('body: hostile property', path(), asJson, json(mutateProperty(next, valid as Record<string, unknown>, contract, bodySchema))));
      requests.push(base('body: extra property', path(), asJson, json({ ...(valid as object), [`extra${Math.floor(next() * 100)}`]: 1 })));
    }
    requests.push(base('body: deep nesting', path(), asJson, Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`)));
    requests.push(base('body: huge string', path(), asJson, json({ value: 'x'.repeat(200_000) })));
    requests.push(base('body: malformed JSON', path(), asJson, Buffer.from(pick(next, ['{"a":', '{,}', '\u0000', 'nul', '{"a":1}}', '[1,]']))));
    requests.push(base('body: not JSON', path(), { 'Content-Type': pick(next, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', '']) }, Buffer.from('scope=all&x=1')));
    requests.push(base('body: JSON under the wrong type', path(), { 'Content-Type': 'text/plain' }, json(valid)));
    requests.push(base('body: empty', path(), asJson, Buffer.alloc(0)));
    requests.push(base('body: scalar', path(), asJson, json(pick(next, [1, 'text', null, true, []]))));
  } else if (method !== 'GET') {
    requests.push(base('unexpected body', path(), asJson, json({ surprise: true })));
  }
  return requests;
}
