// Spectral functions for the dockrev-input-* rules (.spectral.yaml): every string, array and
// integer a client can send, found anywhere inside a request body or parameter schema, is bounded.
const types = (schema) => (Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type]);

function* walk(schema, path, seen = new Set()) {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
  seen.add(schema);
  yield [schema, path];
  for (const key of ['oneOf', 'anyOf', 'allOf', 'prefixItems']) {
    if (Array.isArray(schema[key])) for (const [index, part] of schema[key].entries()) yield* walk(part, [...path, key, index], seen);
  }
  for (const key of ['items', 'additionalProperties', 'not', 'contains']) {
    if (schema[key] && typeof schema[key] === 'object') yield* walk(schema[key], [...path, key], seen);
  }
  for (const [name, property] of Object.entries(schema.properties ?? {})) yield* walk(property, [...path, 'properties', name], seen);
}

export function everyWhere(accept, message) {
  return (input, _options, context) =>
    [...walk(input, context.path)]
      .filter(([schema]) => !accept(schema))
      .map(([, path]) => ({ message, path }));
}

export const everyString = everyWhere(
  (schema) => !types(schema).includes('string') || 'maxLength' in schema || 'enum' in schema || 'const' in schema || schema.format === 'date-time',
  'an input string needs maxLength, enum or const',
);
export const everyArray = everyWhere((schema) => !types(schema).includes('array') || 'maxItems' in schema, 'an input array needs maxItems');
export const everyInteger = everyWhere(
  (schema) => !types(schema).some((type) => type === 'integer' || type === 'number') || (('minimum' in schema || 'exclusiveMinimum' in schema) && ('maximum' in schema || 'exclusiveMaximum' in schema)),
  'an input integer needs minimum and maximum',
);
