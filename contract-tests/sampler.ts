import type { Contract, JsonSchema, OperationSpec } from './contract.js';

/**
 * Generates request bodies from the spec: one that should pass schema validation, and variants
 * that must not (each breaks one rule). Used to sweep every operation for 400-not-500 behaviour.
 */
export function sampleValue(contract: Contract, input: JsonSchema | undefined, depth = 0): unknown {
  const schema = contract.resolve(input) ?? {};
  if ('example' in schema) return structuredClone(schema.example);
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return structuredClone(schema.examples[0]);
  if ('const' in schema) return schema.const;
  if ('default' in schema) return structuredClone(schema.default);
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const key of ['oneOf', 'anyOf'] as const) {
    const options = schema[key] as JsonSchema[] | undefined;
    if (options?.length) return sampleValue(contract, options[0], depth + 1);
  }
  if (Array.isArray(schema.allOf)) {
    return Object.assign({}, ...(schema.allOf as JsonSchema[]).map((part) => sampleValue(contract, part, depth + 1)));
  }
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : (schema.type as string | undefined);
  switch (type) {
    case 'object': {
      const result: Record<string, unknown> = {};
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      for (const [name, property] of Object.entries(properties)) {
        if (required.has(name) || depth < 2) result[name] = sampleValue(contract, property, depth + 1);
      }
      return result;
    }
    case 'array': {
      const minItems = (schema.minItems as number | undefined) ?? 0;
      return minItems > 0 ? [sampleValue(contract, schema.items as JsonSchema, depth + 1)] : [];
    }
    case 'integer':
    case 'number':
      return (schema.minimum as number | undefined) ?? 1;
    case 'boolean':
      return true;
    case 'string': {
      if (schema.format === 'date-time') return '2026-01-01T00:00:00.000Z';
      if (schema.format === 'uri') return 'https://example.invalid/path';
      const minLength = (schema.minLength as number | undefined) ?? 0;
      return 'x'.repeat(Math.max(minLength, 1));
    }
    default:
      return {};
  }
}

export function jsonBodySchema(op: OperationSpec): JsonSchema | undefined {
  return op.requestBody?.content['application/json']?.schema;
}

export function sampleBody(contract: Contract, op: OperationSpec): unknown {
  const media = op.requestBody?.content['application/json'];
  if (!media) return undefined;
  if (media.example !== undefined) return structuredClone(media.example);
  return sampleValue(contract, media.schema);
}

export interface InvalidBody {
  label: string;
  body: unknown;
}

/** Bodies that violate the schema in one way each: wrong type, extra property, missing field, bad enum. */
export function invalidBodies(contract: Contract, op: OperationSpec): InvalidBody[] {
  const schema = contract.resolve(jsonBodySchema(op));
  if (!schema) return [];
  const variants: InvalidBody[] = [{ label: 'array instead of object', body: [1, 2, 3] }, { label: 'string body', body: 'text' }];
  const valid = sampleBody(contract, op);
  if (!valid || typeof valid !== 'object' || Array.isArray(valid)) return variants;
  if (schema.additionalProperties === false) {
    variants.push({ label: 'unknown property', body: { ...valid, unexpectedProperty: 1 } });
  }
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const name of (schema.required ?? []) as string[]) {
    const { [name]: _dropped, ...rest } = valid as Record<string, unknown>;
    variants.push({ label: `missing required ${name}`, body: rest });
  }
  for (const [name, property] of Object.entries(properties)) {
    const resolved = contract.resolve(property) ?? {};
    const types = Array.isArray(resolved.type) ? (resolved.type as string[]) : [resolved.type as string | undefined];
    if (types.includes('null') || resolved.type === undefined) continue;
    const wrong = types.includes('string') ? 12345 : 'not-the-right-type';
    variants.push({ label: `wrong type for ${name}`, body: { ...valid, [name]: wrong } });
    if (Array.isArray(resolved.enum)) variants.push({ label: `bad enum for ${name}`, body: { ...valid, [name]: 'no-such-value' } });
  }
  return variants;
}

/** Values for the required query parameters of an operation. */
export function sampleQuery(contract: Contract, op: OperationSpec): Record<string, string | number | boolean> | undefined {
  const required = op.parameters.filter((parameter) => parameter.in === 'query' && parameter.required);
  if (required.length === 0) return undefined;
  return Object.fromEntries(required.map((parameter) => [parameter.name, sampleValue(contract, parameter.schema) as string]));
}
