import { Ajv2020, type Options as AjvOptions } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { OpenAPIBackend, type Document } from 'openapi-backend';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export function createAjv(options: AjvOptions = {}): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, ...options });
  addFormats(ajv);
  return ajv;
}

/**
 * Replaces every internal `$ref` with its own copy of the target. openapi-backend's dereferencer
 * shares one object between all users of a component, and its schema "decycler" then turns the
 * second use into a `$ref` that Ajv cannot compile; an expanded tree has nothing to share.
 */
export function inlineRefs<T>(document: T): T {
  const resolve = (pointer: string): unknown =>
    pointer
      .replace(/^#\//, '')
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], document);
  const expand = (node: unknown, trail: string[]): unknown => {
    if (Array.isArray(node)) return node.map((item) => expand(item, trail));
    if (!node || typeof node !== 'object') return node;
    const { $ref, ...siblings } = node as Record<string, unknown>;
    if (typeof $ref === 'string' && $ref.startsWith('#/')) {
      if (trail.includes($ref)) throw new Error(`cyclic $ref ${$ref} in the OpenAPI document`);
      const target = expand(resolve($ref), [...trail, $ref]) as Record<string, unknown>;
      return { ...target, ...(expand(siblings, trail) as Record<string, unknown>) };
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, expand(value, trail)]));
  };
  return expand(document, []) as T;
}

/**
 * Builds an openapi-backend instance for an OpenAPI 3.1 document.
 *
 * openapi-backend checks documents against the 3.0 meta-schema and compiles with a fresh draft-07
 * Ajv per operation. The document here is our own bundled, linted and separately validated 3.1
 * contract, so definition validation is skipped, and every validator comes from two shared
 * Ajv2020 instances: parameters need type coercion (query strings), bodies must not get it.
 */
export function createBackend(definition: Document): OpenAPIBackend {
  const paramsAjv = createAjv({ coerceTypes: true, useDefaults: true });
  const bodyAjv = createAjv({ useDefaults: true });
  class Backend extends OpenAPIBackend {
    override validateDefinition(): Document {
      return this.document;
    }
  }
  return new Backend({
    definition: inlineRefs(definition),
    // Validators compile on first use; responses are checked by the contract tests, not at runtime.
    quick: true,
    strict: true,
    coerceTypes: true,
    customizeAjv: (_fresh, options) => (options.coerceTypes ? paramsAjv : bodyAjv),
  });
}
