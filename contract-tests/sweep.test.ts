import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NOT_IMPLEMENTED } from '../src/handlers/not-implemented.js';
import { GithubDouble } from '../test/fixtures/github-double.js';
import { contract, startApi, urlFor, type Api } from './harness.js';
import { invalidBodies, jsonBodySchema, sampleBody, sampleQuery } from './sampler.js';

// Requests generated from the spec, for every operation: malformed, wrong-typed and
// schema-violating input must be a 400 in the envelope; a well-formed request must get a
// documented answer. The harness fails any response the spec does not document, and any 500.

const operations = [...contract.operations.values()];
const REGISTRY_TOKEN = 'sweep-registry-token-0123456789';
// Every receiver's own authentication satisfied: the webhook secret, and the registry sources' token (header or query).
const headers = { 'X-Dockrev-Webhook-Secret': 'sweep-secret', Authorization: `Bearer ${REGISTRY_TOKEN}` };
const queryFor = (op: (typeof operations)[number]) => ({
  ...sampleQuery(contract, op),
  ...(op.parameters.some((parameter) => parameter.in === 'query' && parameter.name === 'token') ? { token: REGISTRY_TOKEN } : {}),
});
const paramsFor = (path: string) => Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, `${name}_missing`]));

function expectInvalidArgument(response: { status: number; body: any }, label: string) {
  assert.equal(response.status, 400, `${label}: expected 400, got ${response.status}`);
  assert.equal(response.body.error.code, 'invalid_argument', label);
}

describe('generated requests for every operation', () => {
  let api: Api;
  let github: GithubDouble;
  before(async () => {
    github = await GithubDouble.start();
    github.addToken('ghp_example', 'octo');
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_WEBHOOK_SECRET: 'sweep-secret', DOCKREV_GITHUB_API_BASE_URL: github.baseUrl } });
    const settings = await api.store.registryWebhooks.getSettings();
    for (const source of Object.values(settings.sources)) Object.assign(source, { enabled: true, token: REGISTRY_TOKEN });
    await api.store.registryWebhooks.putSettings(settings);
  });
  after(async () => {
    await api.close();
    await github.close();
  });

  for (const op of operations) {
    const call = { params: paramsFor(op.path), query: queryFor(op), user: 'ops', headers };

    it(`${op.operationId}: a well-formed request gets a documented answer`, async () => {
      const response = await api.call(op.operationId, { ...call, body: sampleBody(contract, op) });
      const implemented = !(NOT_IMPLEMENTED as readonly string[]).includes(op.operationId);
      if (implemented) assert.notEqual(response.status, 501, `${op.operationId} is implemented but answered 501`);
      else assert.equal(response.status, 501, `${op.operationId} is listed as not implemented`);
    });

    const schema = contract.resolve(jsonBodySchema(op));
    if (schema?.type === 'object') {
      it(`${op.operationId}: malformed JSON and non-JSON bodies are 400`, async () => {
        expectInvalidArgument(await api.call(op.operationId, { ...call, rawBody: '{"unterminated": ' }), 'malformed JSON');
        expectInvalidArgument(
          await api.call(op.operationId, { ...call, rawBody: 'scope=all', contentType: 'application/x-www-form-urlencoded' }),
          'form body',
        );
        if (op.requestBody?.required) {
          expectInvalidArgument(await api.call(op.operationId, call), 'missing body');
        }
      });

      it(`${op.operationId}: schema-violating bodies are 400 with details.errors`, async () => {
        for (const variant of invalidBodies(contract, op)) {
          const response = await api.call(op.operationId, { ...call, body: variant.body });
          expectInvalidArgument(response, variant.label);
          assert.ok(Array.isArray(response.body.error.details.errors) && response.body.error.details.errors.length > 0, variant.label);
        }
      });
    }

    if (op.path.includes('{')) {
      it(`${op.operationId}: an over-long path id is 400, not a lookup`, async () => {
        const params = Object.fromEntries(Object.keys(call.params).map((name) => [name, 'x'.repeat(300)]));
        expectInvalidArgument(await api.call(op.operationId, { ...call, params, body: sampleBody(contract, op) }), 'long path id');
      });
    }

    const typedQuery = op.parameters.filter((parameter) => {
      const resolved = contract.resolve(parameter.schema) ?? {};
      return parameter.in === 'query' && (resolved.type === 'integer' || Array.isArray(resolved.enum));
    });
    if (typedQuery.length > 0) {
      it(`${op.operationId}: ill-typed query parameters are 400`, async () => {
        for (const parameter of typedQuery) {
          const response = await api.call(op.operationId, { ...call, query: { ...call.query, [parameter.name]: 'not-valid-%' } });
          expectInvalidArgument(response, `query ${parameter.name}`);
          assert.equal(response.body.error.details.errors[0].path, `/query/${parameter.name}`);
        }
      });
    }
  }

  it('ignores unknown query parameters (a cache-buster, a typo)', async () => {
    assert.equal((await api.call('listStacks', { user: 'ops', query: { archivd: 'only' } })).status, 200);
  });

  it('answers unknown routes with a 404 envelope and wrong methods with a 405 envelope', async () => {
    const unknown = await api.raw().get('/api/no-such-route').set('X-Forwarded-User', 'ops');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
    const wrongMethod = await api.raw().delete('/api/stacks').set('X-Forwarded-User', 'ops');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.body.error.code, 'method_not_allowed');
    assert.match(String(wrongMethod.headers['content-type']), /^application\/json/);
  });

  it('rejects bodies over the size limit with a 400, not a crash', async () => {
    const huge = JSON.stringify({ message: 'x'.repeat(2 * 1024 * 1024) });
    const response = await api.raw().put(urlFor('putDeployWelcome')).set('X-Forwarded-User', 'ops').set('Content-Type', 'application/json').send(huge);
    assert.equal(response.status, 413);
    assert.equal(response.body.error.code, 'payload_too_large');
  });

  it('sends misrouted supervisor requests an explanation instead of the API', async () => {
    const json = await api.raw().get('/supervisor/self-upgrade');
    assert.equal(json.status, 502);
    assert.equal(json.body.error.code, 'supervisor_misrouted');
    const page = await api.raw().get('/supervisor/');
    assert.equal(page.status, 200);
    assert.match(page.text, /supervisor/i);
  });
});
