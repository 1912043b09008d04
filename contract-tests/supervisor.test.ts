import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import supertest from 'supertest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_REPO, FakeTarget } from '../test/fixtures/fake-target.js';
import { createSupervisorApp } from '../src/supervisor/app.js';
import { loadSupervisorConfig } from '../src/supervisor/config.js';
import { StateFile } from '../src/supervisor/state.js';
import { SelfUpgrade } from '../src/supervisor/upgrade.js';
import { loadContract } from './contract.js';
import { recordCoverage } from './harness.js';

const contract = loadContract('supervisor');

async function supervisor(env: Record<string, string>, target = new FakeTarget()) {
  const config = loadSupervisorConfig({ DOCKREV_LOG_LEVEL: 'silent', DOCKREV_SUPERVISOR_TARGET_IMAGE_REPO: FAKE_REPO, ...env });
  const logger = pino({ level: 'silent' });
  const file = new StateFile(join(mkdtempSync(join(tmpdir(), 'dockrev-supervisor-contract-')), 'self-upgrade.json'));
  const upgrade = await SelfUpgrade.open({ file, runtime: target, imageRepo: FAKE_REPO, healthTimeoutMs: 1000, logger });
  const agent = supertest(await createSupervisorApp({ config, logger, upgrade }));
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

  it('reads the idle state before any operation', async () => {
    const fresh = await supervisor({ APP_EFFECTIVE_VERSION: '1.2.3' });
    const state = (await fresh('getSelfUpgrade', 'get', '/supervisor/self-upgrade')).body;
    assert.deepEqual(state, {
      state: 'idle', opId: '', target: { image: FAKE_REPO, tag: 'latest', digest: null }, previous: { tag: 'unknown', digest: null },
      startedAt: null, updatedAt: null, progress: { step: 'done', message: 'idle' }, logs: [], operations: [],
    });
  });

  it('validates a start request after identity, before any work', async () => {
    const as = { user: 'alice' };
    const bad = await call('startSelfUpgrade', 'post', '/supervisor/self-upgrade', { ...as, body: { mode: 'sideways' } });
    assert.equal(bad.status, 400);
    const blank = await call('startSelfUpgrade', 'post', '/supervisor/self-upgrade', { ...as, body: { target: { tag: ' ' }, mode: 'apply', rollbackOnFailure: true } });
    assert.equal(blank.status, 400);
    assert.deepEqual(blank.body, { error: { code: 'invalid_argument', message: 'target.tag is required', details: {} } });
    const mode = await call('startSelfUpgrade', 'post', '/supervisor/self-upgrade', { ...as, body: { target: { tag: 'v2' }, mode: 'upgrade', rollbackOnFailure: true } });
    assert.equal(mode.status, 400);
    assert.equal((await call('getSelfUpgrade', 'get', '/supervisor/self-upgrade', as)).body.state, 'idle');
  });

  it('starts an upgrade, repeats the opId for the same request, refuses a different one and a rollback while it runs', async () => {
    const target = new FakeTarget();
    let release!: () => void;
    target.healthGate = new Promise((resolve) => (release = resolve));
    const running = await supervisor({}, target);
    const body = { target: { tag: '2.0.0' }, mode: 'apply', rollbackOnFailure: true };
    const first = await running('startSelfUpgrade', 'post', '/supervisor/self-upgrade', { body });
    assert.equal(first.status, 200);
    const again = await running('startSelfUpgrade', 'post', '/supervisor/self-upgrade', { body });
    assert.deepEqual(again.body, first.body);
    const other = await running('startSelfUpgrade', 'post', '/supervisor/self-upgrade', { body: { ...body, mode: 'dry-run' } });
    assert.equal(other.status, 409);
    assert.equal(other.body.error.code, 'conflict');
    const busy = await running('rollbackSelfUpgrade', 'post', '/supervisor/self-upgrade/rollback', { body: first.body });
    assert.deepEqual(busy.body, { error: { code: 'conflict', message: 'self-upgrade is running', details: {} } });

    const live = (await running('getSelfUpgrade', 'get', '/supervisor/self-upgrade')).body;
    assert.equal(live.state, 'running');
    assert.deepEqual(live.request, { mode: 'apply', rollbackOnFailure: true });
    assert.equal(live.operations[0].opId, first.body.opId);
    release();
    const done = await waitForState(running, (state) => state.state !== 'running');
    assert.equal(done.state, 'succeeded');
    assert.equal(done.request, undefined);
    assert.equal(done.previous.tag, `${FAKE_REPO}:1.0.0`);

    const unknown = await running('rollbackSelfUpgrade', 'post', '/supervisor/self-upgrade/rollback', { body: { opId: 'sup_nope' } });
    assert.deepEqual(unknown.body, { error: { code: 'invalid_argument', message: 'opId not found', details: {} } });
    const rollback = await running('rollbackSelfUpgrade', 'post', '/supervisor/self-upgrade/rollback', { body: first.body });
    assert.deepEqual(rollback.body, { ok: true });
    assert.equal((await waitForState(running, (state) => state.state !== 'running')).state, 'rolled_back');
    const page = await running('getSupervisorUi', 'get', '/supervisor/');
    assert.match(page.text, /rolled_back/, 'the page shows the state without JavaScript');
  });

  it('refuses a rollback when no previous image is known', async () => {
    const target = new FakeTarget();
    target.container = undefined;
    const lost = await supervisor({}, target);
    const started = await lost('startSelfUpgrade', 'post', '/supervisor/self-upgrade', { body: { target: { tag: '2' }, mode: 'apply', rollbackOnFailure: true } });
    assert.equal((await waitForState(lost, (state) => state.state !== 'running')).state, 'failed');
    const refused = await lost('rollbackSelfUpgrade', 'post', '/supervisor/self-upgrade/rollback', { body: started.body });
    assert.deepEqual(refused.body, { error: { code: 'conflict', message: 'no rollback target available', details: {} } });
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

async function waitForState(call: Awaited<ReturnType<typeof supervisor>>, done: (state: any) => boolean): Promise<any> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const state = (await call('getSelfUpgrade', 'get', '/supervisor/self-upgrade')).body;
    if (done(state)) return state;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the self-upgrade did not reach the expected state');
}
