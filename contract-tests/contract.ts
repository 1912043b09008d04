import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { projectRoot } from '../src/spec.js';

// An independent reading of the bundled contract: its own Ajv2020, no openapi-backend, so a bug
// in the server's validation wiring cannot hide a response that breaks the spec.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export interface JsonSchema {
  [key: string]: unknown;
}

export interface ResponseSpec {
  description?: string;
  content?: Record<string, { schema?: JsonSchema; example?: unknown }>;
}

export interface OperationSpec {
  operationId: string;
  method: string;
  path: string;
  public: boolean;
  securitySchemes: string[];
  parameters: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: JsonSchema; example?: unknown }> };
  responses: Record<string, ResponseSpec>;
}

export interface Contract {
  document: Record<string, unknown>;
  operations: Map<string, OperationSpec>;
  /** Validates `body` against the schema of (operationId, status, contentType). */
  checkResponse(operationId: string, status: number, contentType: string | undefined, body: unknown): string[];
  resolve(schema: JsonSchema | undefined): JsonSchema | undefined;
  /** Validates SSE frames (`{id?, event, data}`) against the stream's documented frame schema. */
  checkFrames(operationId: string, frames: readonly { id?: number; event: string; data: unknown }[]): string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function pointerGet(document: unknown, pointer: string): unknown {
  return pointer
    .replace(/^#\//, '')
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
}

export function loadContract(name: 'dockrev' | 'supervisor'): Contract {
  const file = join(projectRoot(), 'src', 'generated', `${name}.openapi.json`);
  const document = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(document, name);

  const deref = <T>(node: T): T => {
    let current: unknown = node;
    while (current && typeof current === 'object' && '$ref' in (current as object)) {
      current = pointerGet(document, (current as { $ref: string }).$ref);
    }
    return current as T;
  };

  const rootSecurity = (document.security ?? []) as Record<string, unknown>[];
  const operations = new Map<string, OperationSpec>();
  for (const [path, rawItem] of Object.entries(document.paths as Record<string, unknown>)) {
    const item = deref(rawItem) as Record<string, unknown>;
    for (const method of METHODS) {
      const op = item[method] as Record<string, unknown> | undefined;
      if (!op) continue;
      const security = (op.security ?? rootSecurity) as Record<string, unknown>[];
      const schemes = security.flatMap((requirement) => Object.keys(requirement));
      const parameters = [...((item.parameters ?? []) as unknown[]), ...((op.parameters ?? []) as unknown[])].map(
        (parameter) => deref(parameter) as OperationSpec['parameters'][number],
      );
      const responses = Object.fromEntries(
        Object.entries((op.responses ?? {}) as Record<string, unknown>).map(([status, response]) => [status, deref(response) as ResponseSpec]),
      );
      operations.set(op.operationId as string, {
        operationId: op.operationId as string,
        method,
        path,
        public: security.length === 0 || security.some((requirement) => Object.keys(requirement).length === 0),
        securitySchemes: schemes,
        parameters,
        requestBody: op.requestBody ? (deref(op.requestBody) as OperationSpec['requestBody']) : undefined,
        responses,
      });
    }
  }

  const validators = new Map<string, ValidateFunction>();
  const validatorFor = (operationId: string, status: string, contentType: string): ValidateFunction | undefined => {
    const key = `${operationId} ${status} ${contentType}`;
    if (!validators.has(key)) {
      const op = operations.get(operationId)!;
      const schema = op.responses[status]?.content?.[contentType]?.schema;
      if (!schema) return undefined;
      // Compile by reference into the registered document so internal $refs resolve.
      const pathItem = `#/paths/${op.path.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const rawItem = pointerGet(document, pathItem) as Record<string, unknown>;
      const itemBase = '$ref' in rawItem ? (rawItem.$ref as string) : pathItem;
      const responseRef = ((pointerGet(document, `${itemBase}/${op.method}/responses`) as Record<string, unknown>)[status] ?? {}) as Record<string, unknown>;
      const responseBase = '$ref' in responseRef ? (responseRef.$ref as string) : `${itemBase}/${op.method}/responses/${status}`;
      const ref = `${name}${responseBase}/content/${contentType.replace(/~/g, '~0').replace(/\//g, '~1')}/schema`;
      validators.set(key, ajv.compile({ $ref: ref }));
    }
    return validators.get(key);
  };

  return {
    document,
    operations,
    resolve: (schema) => (schema ? deref(schema) : undefined),
    checkFrames(operationId, frames) {
      const validate = validatorFor(operationId, '200', 'text/event-stream');
      if (!validate) return [`${operationId}: no frame schema documented for its 200 text/event-stream`];
      return frames.flatMap((frame, index) => {
        const value = frame.id === undefined ? { event: frame.event, data: frame.data } : { id: frame.id, event: frame.event, data: frame.data };
        if (validate(value)) return [];
        const errors = (validate.errors ?? []).slice(0, 5).map((error) => `${error.instancePath || '/'} ${error.message}`);
        return [`${operationId} frame ${index} (${frame.event}): ${errors.join('; ')} — ${JSON.stringify(value).slice(0, 300)}`];
      });
    },
    checkResponse(operationId, status, contentType, body) {
      const op = operations.get(operationId);
      if (!op) return [`unknown operation ${operationId}`];
      const response = op.responses[String(status)];
      if (!response) return [`${operationId}: status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`];
      const documentedTypes = Object.keys(response.content ?? {});
      if (documentedTypes.length === 0) return body === undefined || body === '' ? [] : [`${operationId} ${status}: body where none is documented`];
      const mediaType = (contentType ?? '').split(';')[0]!.trim();
      if (!documentedTypes.includes(mediaType)) {
        return [`${operationId} ${status}: content type '${contentType}' is not documented (${documentedTypes.join(', ')})`];
      }
      const validate = validatorFor(operationId, String(status), mediaType);
      if (!validate || mediaType === 'text/event-stream' || mediaType === 'image/png') return [];
      if (validate(body)) return [];
      return (validate.errors ?? []).map((error) => `${operationId} ${status}: ${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`);
    },
  };
}
