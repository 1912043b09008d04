import { Ajv2020, type Options as AjvOptions } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { OpenAPIBackend, type Document, type Operation, type OpenAPIRouter, type Request } from 'openapi-backend';

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

    override async init(): Promise<this> {
      await super.init();
      compileRouting(this.router);
      return this;
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

/** `/jobs/{jobId}/events` → /^\/jobs\/[^/]+\/events$/, literal parts escaped (as openapi-backend does). */
function pathPattern(template: string): RegExp {
  const literal = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('[^/]+')}$`);
}

/**
 * openapi-backend's router rebuilds its operation list (a lodash chain over the whole document)
 * and a RegExp for every path on each lookup, several lookups per request: most of a small
 * request's CPU. The document does not change after init, so both are built once here. Matching
 * keeps the router's rules: the exact path first, then templates from the most specific, 404 when
 * no path matches and 405 when no matching path has the method.
 */
export function compileRouting(router: OpenAPIRouter): void {
  const operations = router.getOperations();
  const byId = new Map(operations.map((operation) => [operation.operationId, operation]));
  const exact = new Map(operations.map((operation) => [`${operation.method} ${operation.path}`, operation]));
  const root = router.apiRoot.replace(/\/$/, '');
  const underApiRoot = (path: string) => root === '' || path === root || path.startsWith(`${root}/`);
  const templates = operations
    .map((operation) => ({ operation, pattern: pathPattern(operation.path), specificity: operation.path.replace(/\{.*?\}/g, '').length }))
    .sort((a, b) => b.specificity - a.specificity);
  router.getOperations = () => operations;
  router.getOperation = (operationId: string) => byId.get(operationId);
  router.matchOperation = ((request: Request, strict?: boolean): Operation | undefined => {
    const { path: requestPath, method } = router.normalizeRequest(request);
    const fail = (message: string) => {
      if (strict) throw new Error(message);
      return undefined;
    };
    if (!underApiRoot(requestPath)) return fail('404-notFound: no route matches request');
    const path = router.normalizePath(requestPath);
    const found = exact.get(`${method} ${path}`);
    if (found) return found;
    const matching = templates.filter(({ pattern }) => pattern.test(path));
    if (matching.length === 0) return fail('404-notFound: no route matches request');
    return matching.find(({ operation }) => operation.method === method)?.operation ?? fail('405-methodNotAllowed: this method is not registered for the route');
  }) as OpenAPIRouter['matchOperation'];
}
