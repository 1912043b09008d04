import { Ajv2020, type Options as AjvOptions } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { OpenAPIBackend, OpenAPIRouter, type Document, type Operation, type Request } from 'openapi-backend';

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
      compileRequestParsing(this.router);
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

type ParsedRequest = ReturnType<OpenAPIRouter['parseRequest']>;
type QueryParameter = { in?: string; name?: string; content?: Record<string, unknown>; explode?: boolean; style?: string };

/** Path parameters of a template, matched and decoded as openapi-backend's bath-es5 does. */
function pathParameters(template: string): (path: string) => Record<string, string> {
  const names = [...template.matchAll(/\{([A-Za-z0-9_-]+)\}/g)].map((match) => match[1]!);
  const pattern = new RegExp(`^${template.replace(/\{[A-Za-z0-9_-]+\}/g, '([^\\/]*)')}$`);
  return (path) => {
    const match = pattern.exec(path);
    if (!match) return {};
    const values = match.slice(1).map((value) => decodeURIComponent(value));
    // Two uses of one name must agree (bath-es5's rule); otherwise nothing matched.
    if (names.some((name, i) => names.some((other, j) => other === name && values[j] !== values[i]))) return {};
    return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
  };
}

/**
 * openapi-backend parses every request three times (before routing, after it, and again to
 * validate), each time compiling the operation's path template, deep-cloning the query with lodash
 * and rebuilding it as a query string it then discards: a third of a small request's CPU. This
 * parses the same way with what can be prepared once (per operation) prepared once. Inputs as the
 * transport gives them: express's simple query object, Node's lower-case header object.
 * Cookies are left unparsed (`{}`) unless the contract declares a cookie parameter.
 */
export function compileRequestParsing(router: OpenAPIRouter): void {
  // Cookies are parsed only for contracts that declare cookie parameters (this one does not):
  // those keep openapi-backend's own parsing.
  const declaresCookies = router
    .getOperations()
    .some((operation) => ((operation.parameters ?? []) as QueryParameter[]).some((parameter) => parameter.in === 'cookie'));
  if (declaresCookies) return;
  const paramsByPath = new Map<string, (path: string) => Record<string, string>>();
  const parametersOf = (operation: Operation): Map<string, QueryParameter> => {
    const parameters = (operation.parameters ?? []) as QueryParameter[];
    return new Map(parameters.filter((parameter) => !('$ref' in parameter) && parameter.in === 'query').map((parameter) => [parameter.name!, parameter]));
  };
  const queryParameters = new Map<Operation, Map<string, QueryParameter>>();
  router.parseRequest = ((req: Request, operation?: Operation): ParsedRequest => {
    let requestBody = req.body;
    if (req.body && typeof req.body !== 'object') {
      try {
        requestBody = JSON.parse(String(req.body));
      } catch {
        // left as it is: validation reports it
      }
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value;
    const query: Record<string, unknown> = {};
    if (typeof req.query === 'object' && req.query !== null) {
      for (const [name, value] of Object.entries(req.query)) query[name] = Array.isArray(value) ? [...value] : value;
    } else {
      Object.assign(query, originalParseQuery(router, req));
    }
    const normalized = router.normalizeRequest(req);
    let params: Record<string, string> = {};
    if (operation) {
      let extract = paramsByPath.get(operation.path);
      if (!extract) paramsByPath.set(operation.path, (extract = pathParameters(operation.path)));
      params = extract(router.normalizePath(normalized.path));
      let declared = queryParameters.get(operation);
      if (!declared) queryParameters.set(operation, (declared = parametersOf(operation)));
      for (const name of Object.keys(query)) {
        const parameter = query[name] ? declared.get(name) : undefined;
        if (!parameter) continue;
        const raw = query[name];
        if (parameter.content?.['application/json']) {
          if (typeof raw === 'string') {
            try {
              query[name] = JSON.parse(raw);
            } catch {
              // validation reports it
            }
          }
        } else if (parameter.explode === false) {
          if (Array.isArray(raw) && raw.length > 1) continue;
          const value = Array.isArray(raw) ? raw[0] : raw;
          if (typeof value !== 'string') continue;
          let decoded = value.replace(/%2C/g, ',');
          if (parameter.style === 'spaceDelimited') decoded = decoded.replace(/ /g, ',').replace(/%20/g, ',');
          if (parameter.style === 'pipeDelimited') decoded = decoded.replace(/\|/g, ',').replace(/%7C/g, ',');
          query[name] = decoded.split(',');
        }
      }
    }
    return { ...normalized, params, headers, query, cookies: {}, requestBody } as ParsedRequest;
  }) as OpenAPIRouter['parseRequest'];
}

/** A query given as a string (never by this transport) goes through openapi-backend's own parser. */
function originalParseQuery(router: OpenAPIRouter, req: Request): Record<string, unknown> {
  return OpenAPIRouter.prototype.parseRequestQuery.call(router, req) as Record<string, unknown>;
}
