import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import supertest from 'supertest';
import { createSupervisorApp } from '../src/supervisor/app.js';
import { loadSupervisorConfig } from '../src/supervisor/config.js';
import { loadContract } from './contract.js';
import { recordCoverage } from './harness.js';

const contract = loadContract('supervisor');

async function supervisor(env: Record<string, string>) {
  const config = loadSupervisorConfig({ DOCKREV_LOG_LEVEL: 'silent', ...env });
  const agent = supertest(await createSupervisorApp({ config, logger: pino({ level: 'silent' }) }));
  return async (operationId: string, method: 'get' | 'post', url: string, options: { user?: string; body?: unknown } = {}) => {
    let request = agent[method](url);
    if (options.user) request = request.set('X-Forwarded-User', options.user);
    if (options.body !== undefined) request = request.set('Content-Type', 'application/json').send(JSON.stringify(options.body));
    const response = await request;
    recordCoverage('supervisor', operationId, response.status);
    const contentType = response.headers['content-type'] as string | undefined;
    const body = contentType?.startsWith('application/json') ? response.body : response.text;
    assert.deepEqual(contract.checkResponse(operationId, response.status, contentType, body), [], `${method} ${url}: ${response.text}`);
    return response;
  };
}

describe('supervisor', () => {
  let call: Awaited<ReturnType<typeof supervisor>>;
  before(async () => {
    call = await supervisor({ DOCKREV_AUTH_ALLOWED_USER: 'alice', DOCKREV_AUTH_ALLOW_ANONYMOUS_IN_DEV: 'false', APP_EFFECTIVE_VERSION: '1.2.3' });
  });
  after(() => undefined);

  it('protects health, version and the UI, with an empty 401 details block', async () => {
    for (const [operationId, url] of [
      ['getSupervisorHealth', '/supervisor/health'],
      ['getSupervisorVersion', '/supervisor/version'],
      ['getSupervisorUi', '/supervisor'],
      ['getSelfUpgrade', '/supervisor/self-upgrade'],
    ] as const) {
      const response = await call(operationId, 'get', url);
      assert.equal(response.status, 401, url);
      assert.deepEqual(response.body.error.details, {});
      assert.equal(response.body.error.code, 'auth_required');
    }
  });

  it('checks identity before reading the body of self-upgrade requests', async () => {
    for (const [operationId, url] of [
      ['startSelfUpgrade', '/supervisor/self-upgrade'],
      ['rollbackSelfUpgrade', '/supervisor/self-upgrade/rollback'],
    ] as const) {
      const response = await call(operationId, 'post', url, { body: { nonsense: true } });
      assert.equal(response.status, 401);
    }
    const badRollback = await call('rollbackSelfUpgrade', 'post', '/supervisor/self-upgrade/rollback', { user: 'alice', body: {} });
    assert.equal(badRollback.status, 400);
  });

  it('answers health and version for the allowed user', async () => {
    assert.deepEqual((await call('getSupervisorHealth', 'get', '/supervisor/health', { user: 'alice' })).body, { ok: true });
    const version = (await call('getSupervisorVersion', 'get', '/supervisor/version', { user: 'alice' })).body;
    assert.equal(version.version, '1.2.3');
    assert.match(version.repository, /^https:\/\//);
  });

  it('serves the UI with and without the trailing slash, and the favicon publicly', async () => {
    for (const url of ['/supervisor', '/supervisor/']) {
      const page = await call('getSupervisorUi', 'get', url, { user: 'alice' });
      assert.equal(page.status, 200);
      assert.match(page.text, /Dockrev supervisor/);
    }
    const icon = await call('getSupervisorFavicon', 'get', '/supervisor/favicon.png');
    assert.equal(icon.status, 200);
    assert.equal(icon.headers['content-type'], 'image/png');
    assert.deepEqual([...icon.body.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });

  it('says self-upgrade is not implemented yet, after validating input', async () => {
    const bad = await call('startSelfUpgrade', 'post', '/supervisor/self-upgrade', { user: 'alice', body: { mode: 'sideways' } });
    assert.equal(bad.status, 400);
    const start = await call('startSelfUpgrade', 'post', '/supervisor/self-upgrade', {
      user: 'alice',
      body: { target: { tag: 'latest' }, mode: 'dry-run', rollbackOnFailure: true },
    });
    assert.equal(start.status, 501);
    const rollback = await call('rollbackSelfUpgrade', 'post', '/supervisor/self-upgrade/rollback', { user: 'alice', body: { opId: 'sup_x' } });
    assert.equal(rollback.status, 501);
    assert.equal((await call('getSelfUpgrade', 'get', '/supervisor/self-upgrade', { user: 'alice' })).status, 501);
  });

  it('serves a configured base path instead of /supervisor', async () => {
    const mounted = await supervisor({ DOCKREV_SUPERVISOR_BASE_PATH: '/ops/upgrade/', APP_EFFECTIVE_VERSION: '1.2.3' });
    assert.equal((await mounted('getSupervisorHealth', 'get', '/ops/upgrade/health')).status, 200);
    const page = await mounted('getSupervisorUi', 'get', '/ops/upgrade');
    assert.match(page.text, /\/ops\/upgrade\/favicon\.png/);
  });

  it('rejects a bad base path at start-up', () => {
    assert.throws(() => loadSupervisorConfig({ DOCKREV_SUPERVISOR_BASE_PATH: '/' }), /DOCKREV_SUPERVISOR_BASE_PATH/);
    assert.throws(() => loadSupervisorConfig({ DOCKREV_SUPERVISOR_BASE_PATH: 'supervisor' }), /DOCKREV_SUPERVISOR_BASE_PATH/);
  });
});
