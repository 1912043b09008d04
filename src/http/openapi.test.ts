import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenAPIRouter, type Request } from 'openapi-backend';
import { loadSpec } from '../spec.js';
import { compileRequestParsing, compileRouting, inlineRefs } from './openapi.js';

/** Every operation's path with its templates filled, plus near misses around each. */
function requestsFor(router: OpenAPIRouter): Request[] {
  const methods = ['get', 'post', 'put', 'delete', 'patch'];
  const paths = new Set<string>(['/', '/api', '/nope', '/api/nope', '/api/jobs/', '/api//jobs', '/API/jobs', '/api/jobs/x/y/z']);
  for (const operation of router.getOperations()) {
    const filled = operation.path.replace(/\{[^}]+\}/g, 'x1');
    paths.add(filled);
    paths.add(`${filled}/`);
    paths.add(`${filled}?a=1`);
    paths.add(`${filled}/extra`);
    paths.add(filled.replace(/\/[^/]+$/, ''));
  }
  return [...paths].flatMap((path) => methods.map((method) => ({ method, path, headers: {} })));
}

function outcome(router: OpenAPIRouter, request: Request): string {
  try {
    return router.matchOperation(request, true).operationId ?? '?';
  } catch (error) {
    return (error as Error).message;
  }
}

for (const name of ['dockrev', 'supervisor'] as const) {
  test(`compiled routing answers exactly like openapi-backend's router (${name} contract)`, () => {
    const definition = inlineRefs(loadSpec(name));
    const original = new OpenAPIRouter({ definition });
    const compiled = new OpenAPIRouter({ definition });
    compileRouting(compiled);
    const requests = requestsFor(original);
    assert.ok(requests.length > 100, `only ${requests.length} requests generated`);
    const outcomes = new Set<string>();
    for (const request of requests) {
      const expected = outcome(original, request);
      outcomes.add(expected.startsWith('404') || expected.startsWith('405') ? expected : 'operation');
      assert.equal(outcome(compiled, request), expected, `${request.method.toUpperCase()} ${request.path}`);
      assert.equal(compiled.matchOperation(request)?.operationId, original.matchOperation(request)?.operationId);
    }
    // The sample reaches all three kinds of answer, so the comparison means something.
    assert.equal(outcomes.size, 3, [...outcomes].join(', '));
    for (const operation of original.getOperations()) {
      assert.equal(compiled.getOperation(operation.operationId!)?.path, operation.path);
    }
  });
}

test('compiled routing prefers the most specific template, as openapi-backend does', () => {
  const definition = {
    openapi: '3.1.0',
    info: { title: 't', version: '1' },
    paths: {
      '/items/{id}': { get: { operationId: 'getItem', responses: {} } },
      '/items/special': { post: { operationId: 'postSpecial', responses: {} } },
      '/{kind}/special': { get: { operationId: 'getSpecialOfKind', responses: {} } },
    },
  };
  const original = new OpenAPIRouter({ definition });
  const compiled = new OpenAPIRouter({ definition });
  compileRouting(compiled);
  for (const [method, path, expected] of [
    ['get', '/items/special', 'getSpecialOfKind'],
    ['post', '/items/special', 'postSpecial'],
    ['get', '/items/7', 'getItem'],
    ['delete', '/items/7', '405-methodNotAllowed: this method is not registered for the route'],
    ['get', '/other/7', '404-notFound: no route matches request'],
  ] as const) {
    const request = { method, path, headers: {} };
    assert.equal(outcome(original, request), expected);
    assert.equal(outcome(compiled, request), expected, `${method} ${path}`);
  }
});

test('compiled request parsing reads params, query, headers and body exactly like openapi-backend', () => {
  const definition = inlineRefs(loadSpec('dockrev'));
  const original = new OpenAPIRouter({ definition });
  const compiled = new OpenAPIRouter({ definition });
  compileRouting(compiled);
  compileRequestParsing(compiled);
  const queries: Request['query'][] = [{}, { archived: 'include' }, { afterId: '12', limit: ['1', '2'] }, { type: 'check,update', empty: '' }];
  let compared = 0;
  for (const operation of original.getOperations()) {
    const path = operation.path.replace(/\{[^}]+\}/g, (name) => `v%20${name.length}`);
    for (const query of queries) {
      const request: Request = {
        method: operation.method.toUpperCase(),
        path: `/api${path}`,
        query,
        headers: { 'content-type': 'application/json', 'x-forwarded-user': 'ops', cookie: 'a=1' },
        body: operation.method === 'post' ? { scope: 'all' } : undefined,
      };
      for (const matched of [undefined, operation]) {
        const { cookies: _dropped, ...expected } = original.parseRequest(request, matched);
        const { cookies, ...actual } = compiled.parseRequest(request, matched);
        assert.deepEqual(actual, expected, `${request.method} ${request.path} ${JSON.stringify(query)}`);
        assert.deepEqual(cookies, {});
        compared += 1;
      }
    }
  }
  assert.ok(compared > 200, `only ${compared} requests compared`);
});
