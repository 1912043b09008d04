// deploy/ as a self-hoster brings it up: the API, the supervisor and nginx (from Debian) doing
// forward auth, all from the images of this tree. Through the proxy: identity is required and
// forwarded, and a forged identity header sent straight to the API port is ignored. Through the
// supervisor: Dockrev upgrades itself to a second tag, rolls back by hand, rolls back on its own
// from a tag that never gets healthy, and recovers when the supervisor is SIGKILLed mid-upgrade.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../contract-tests/process.js';
import { projectRoot } from '../src/spec.js';
import { dockrevTestImages, V1_VERSION, V2_VERSION, type DockrevTestImages } from './fixtures/dockrev-image.js';
import { compose, docker, infraOrSkip, pushImage, removeImages, uniqueName, waitFor } from './fixtures/index.js';

const { infra, skip } = infraOrSkip();

// A stand-in identity provider with Authelia's answer: 200 and Remote-User / Remote-Groups for a
// known bearer token, 401 otherwise. ($ is Compose's interpolation character: none in here.)
const IDENTITY_PROVIDER = `
const users = { 'alice-token': ['alice', 'admins'], 'bob-token': ['bob', 'users'] };
require('http').createServer((req, res) => {
  const user = users[(req.headers.authorization || '').replace('Bearer ', '')];
  res.writeHead(user ? 200 : 401, user ? { 'Remote-User': user[0], 'Remote-Groups': user[1] } : {});
  res.end();
}).listen(9091);
`;
const ALICE = { Authorization: 'Bearer alice-token' };
const HEALTH_TIMEOUT_S = 20;

describe('the deploy example behind nginx, and the supervisor upgrading Dockrev', { skip, timeout: 1_500_000 }, () => {
  const run = uniqueName('dpl').toLowerCase().replace(/[^a-z0-9]/g, '');
  const repo = `${infra?.registries.open.host ?? ''}/${run}/dockrev`;
  const work = mkdtempSync(join(tmpdir(), 'dockrev-deploy-'));
  const deployDir = join(work, 'deploy');
  const files = ['-f', 'compose.yml', '-f', 'compose.test.yml'];
  const subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  let images: DockrevTestImages;
  let proxy = '';
  let direct = '';
  let up = false;

  const composeHere = (args: string[], timeoutMs = 300_000) => compose([...files, ...args], { cwd: deployDir, timeoutMs });
  const viaProxy = (path: string, init: RequestInit = {}) => fetch(`${proxy}${path}`, init);
  const json = async (response: Response) => ({ status: response.status, type: response.headers.get('content-type') ?? '', body: (await response.json()) as any });
  const supervisor = async (method: 'GET' | 'POST', path: string, body?: unknown) =>
    json(await viaProxy(`/supervisor/${path}`, {
      method,
      headers: { ...ALICE, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }));
  const state = async () => (await supervisor('GET', 'self-upgrade')).body;
  const settled = () =>
    waitFor('the self-upgrade to finish', async () => {
      const current = await state().catch(() => undefined);
      return current && current.state !== 'running' ? current : undefined;
    }, { timeoutMs: 240_000, intervalMs: 250 });
  /** The version the API container answers on its published port (the proxy re-resolves it within seconds). */
  const version = async () => ((await (await fetch(`${direct}/api/version`)).json()) as { version: string }).version;
  const containerOf = async (service: string) => {
    const { stdout } = await docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${run}`, '--filter', `label=com.docker.compose.service=${service}`]);
    return stdout.trim().split('\n')[0]!;
  };

  before(async () => {
    images = await dockrevTestImages();
    // The upgrade targets live in the registry, so that the supervisor's `docker pull` works.
    for (const [local, tag] of [[images.v1, 'v1'], [images.v2, 'v2']] as const) {
      await docker(['tag', local, `${repo}:${tag}`]);
      await pushImage(`${repo}:${tag}`, 300_000);
    }
    // A release that starts but never answers /api/health.
    mkdirSync(join(work, 'broken'));
    writeFileSync(join(work, 'broken', 'Dockerfile'), `FROM ${images.v1}\nCMD ["sleep", "3600"]\n`);
    await docker(['build', '-t', `${repo}:broken`, join(work, 'broken')], { timeoutMs: 120_000, env: { DOCKER_BUILDKIT: '0' } });
    await pushImage(`${repo}:broken`, 300_000);

    cpSync(join(projectRoot(), 'deploy'), deployDir, { recursive: true });
    mkdirSync(join(work, 'stacks'));
    const [proxyPort, apiPort] = [await freePort(), await freePort()];
    proxy = `http://127.0.0.1:${proxyPort}`;
    direct = `http://127.0.0.1:${apiPort}`;
    writeFileSync(join(deployDir, '.env'), [
      `COMPOSE_PROJECT_NAME=${run}`,
      `DOCKREV_DEPLOY_DIR=${deployDir}`,
      `DOCKREV_IMAGE=${repo}:v1`,
      `DOCKREV_IMAGE_REPO=${repo}`,
      'DOCKREV_AUTH_ALLOWED_GROUP=admins',
      `DOCKREV_STACKS_DIR=${join(work, 'stacks')}`,
      `DOCKREV_DOCKER_SOCKET=${infra!.dockerHost.replace(/^unix:\/\//, '')}`,
      `DOCKREV_SUBNET=${subnet}.0/24`,
      `DOCKREV_PROXY_ADDRESS=${subnet}.10`,
      `DOCKREV_PROXY_LISTEN=127.0.0.1:${proxyPort}`,
      `DOCKREV_PROXY_IMAGE=${images.proxy}`,
      `DOCKREV_SUPERVISOR_HEALTH_TIMEOUT_SECONDS=${HEALTH_TIMEOUT_S}`,
      '',
    ].join('\n'));
    // The test's additions: the identity provider, and the API port published so that a client
    // other than the proxy can reach it.
    writeFileSync(join(deployDir, 'compose.test.yml'), JSON.stringify({
      services: {
        identity: { image: images.v1, command: ['node', '-e', IDENTITY_PROVIDER], healthcheck: { disable: true }, networks: ['dockrev'] },
        dockrev: { ports: [`127.0.0.1:${apiPort}:50883`] },
      },
    }, null, 2));
    await composeHere(['up', '-d']);
    up = true;
    await waitFor('the API through the proxy', async () => (await viaProxy('/api/version', { headers: ALICE })).status === 200, { timeoutMs: 60_000, intervalMs: 250 });
    await waitFor('the supervisor through the proxy', async () => (await viaProxy('/supervisor/health', { headers: ALICE })).status === 200, { timeoutMs: 60_000, intervalMs: 250 });
  }, { timeout: 1_500_000 });

  after(async () => {
    if (up) await composeHere(['down', '-v', '-t', '2']).catch(() => undefined);
    await removeImages([`${repo}:v1`, `${repo}:v2`, `${repo}:broken`]).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a request without identity at the proxy, before it reaches Dockrev', async () => {
    for (const path of ['/api/stacks', '/supervisor/', '/api/version']) {
      const response = await viaProxy(path);
      assert.equal(response.status, 401, path);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/, 'the answer is nginx\'s page, not the API\'s envelope');
      assert.match(await response.text(), /401 Authorization Required/);
    }
    assert.equal((await viaProxy('/api/stacks', { headers: { Authorization: 'Bearer forged' } })).status, 401);
    const health = await viaProxy('/api/health');
    assert.equal(await health.text(), 'ok', 'the health probe is public for uptime monitors');
  });

  it('passes the identity the provider answered to the API, replacing what the client sent', async () => {
    const stacks = await json(await viaProxy('/api/stacks', { headers: ALICE }));
    assert.equal(stacks.status, 200);
    const settings = await json(await viaProxy('/api/settings', { headers: { ...ALICE, 'X-Forwarded-User': 'mallory', 'Remote-Groups': 'root' } }));
    assert.equal(settings.body.auth.currentUser, 'alice');
    assert.equal(settings.body.auth.matchedBy, 'group');
    const bob = await json(await viaProxy('/api/stacks', { headers: { Authorization: 'Bearer bob-token', 'Remote-Groups': 'admins' } }));
    assert.equal(bob.status, 401, 'bob is known to the provider but not in the allowed group');
    assert.equal(bob.body.error.details.reason, 'authz_no_match');
    assert.equal(bob.body.error.details.currentUser, 'bob');
  });

  it('routes /supervisor/ to the supervisor and the rest to the API', async () => {
    const page = await viaProxy('/supervisor/', { headers: ALICE });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Dockrev supervisor <small>v1\.0\.0-e2e<\/small>/);
    assert.equal((await state()).state, 'idle');
    const version = await json(await viaProxy('/api/version', { headers: ALICE }));
    assert.deepEqual(version.body, { version: V1_VERSION, selfUpgradeUrl: '/supervisor/' });
  });

  it('ignores a forged identity sent straight to the API port from an address that is not the proxy', async () => {
    const forged = await json(await fetch(`${direct}/api/stacks`, { headers: { 'X-Forwarded-User': 'alice', 'Remote-Groups': 'admins' } }));
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error.details.reason, 'identity_missing');
    assert.equal(forged.body.error.details.currentUser, undefined);
  });

  it('upgrades the running Dockrev to the second tag, then rolls it back by hand', async (t) => {
    const requested = Date.now();
    const started = await supervisor('POST', 'self-upgrade', { target: { tag: 'v2' }, mode: 'apply', rollbackOnFailure: true });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    await waitFor('the new version to answer', async () => (await version().catch(() => '')) === V2_VERSION, { timeoutMs: 180_000, intervalMs: 100 });
    const upgradeMs = Date.now() - requested;
    const done = await settled();
    assert.equal(done.state, 'succeeded', JSON.stringify(done.logs));
    assert.equal(done.opId, started.body.opId);
    assert.equal(done.previous.tag, `${repo}:v1`);
    assert.match(done.previous.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(done.operations[0].state, 'succeeded');
    t.diagnostic(`self-upgrade from request to the new version answering: ${upgradeMs} ms`);
    await waitFor('the proxy to follow the recreated API', async () => (await viaProxy('/api/version', { headers: ALICE })).status === 200, { timeoutMs: 30_000 });

    const rolled = await supervisor('POST', 'self-upgrade/rollback', { opId: started.body.opId });
    assert.deepEqual(rolled.body, { ok: true });
    const back = await settled();
    assert.equal(back.state, 'rolled_back', JSON.stringify(back.logs));
    assert.equal(await version(), V1_VERSION);
  });

  it('rolls back on its own from a tag that never answers its health check', async () => {
    const started = await supervisor('POST', 'self-upgrade', { target: { tag: 'broken' }, mode: 'apply', rollbackOnFailure: true });
    assert.equal(started.status, 200);
    const done = await settled();
    assert.equal(done.state, 'rolled_back', JSON.stringify(done.logs));
    assert.ok(done.logs.some((line: any) => line.level === 'ERROR' && /did not answer \/api\/health/.test(line.msg)));
    assert.equal(await version(), V1_VERSION, 'the old version runs again');
  });

  it('leaves the target running and the state consistent when the supervisor is SIGKILLed during the health wait', async () => {
    const started = await supervisor('POST', 'self-upgrade', { target: { tag: 'broken' }, mode: 'apply', rollbackOnFailure: true });
    assert.equal(started.status, 200);
    await waitFor('the health wait', async () => (await state()).progress.step === 'wait_healthy', { timeoutMs: 120_000, intervalMs: 100 });
    const id = await containerOf('supervisor');
    await docker(['kill', '--signal', 'KILL', id]);
    await docker(['start', id]);

    const done = await settled();
    assert.equal(done.state, 'rolled_back', JSON.stringify(done.logs));
    assert.equal(done.opId, started.body.opId);
    assert.ok(done.logs.some((line: any) => line.msg === 'supervisor restarted; previous operation interrupted'));
    const onDisk = JSON.parse((await docker(['exec', id, 'cat', '/data/supervisor/self-upgrade.json'])).stdout);
    assert.equal(onDisk.state, done.state);
    assert.equal(onDisk.opId, done.opId);
    const target = JSON.parse((await docker(['inspect', await containerOf('dockrev')])).stdout)[0];
    assert.equal(target.State.Running, true);
    assert.equal(await version(), V1_VERSION);
    assert.deepEqual(done.operations.map((op: any) => op.state), ['rolled_back', 'rolled_back', 'rolled_back']);
  });
});
