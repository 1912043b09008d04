// The version-inference operations against a local registry double (the registry API v2 subset
// of src/engine/registry/testing/fake-registry.ts): every documented status, and the SSE stream's
// resume and overflow.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeRegistry } from '../src/engine/registry/testing/fake-registry.js';
import type { Service, Store } from '../src/store/index.js';
import { contract, startApi, type Api } from './harness.js';
import { openSse } from './sse-client.js';

const as = { user: 'ops' };
const PLATFORM = 'linux/amd64';
const EMPTY_SCAN = { repoTagsTotal: 0, repoTagsConsidered: 0, manifestsOk: 0, manifestsTimeout: 0, manifestsError: 0 };

describe('version inference routes', () => {
  let api: Api;
  let registry: FakeRegistry;
  let web: Service;
  let current = '';
  let candidate = '';

  const seed = async (store: Store, name: string, image: { ref: string; tag: string }, state: Parameters<Store['services']['updateState']>[1]) => {
    const stack = await store.stacks.create({ name, compose: { type: 'path', composeFiles: [`/srv/${name}/compose.yml`] }, services: [{ name: 'web', image }] });
    await store.services.updateState(stack.services[0]!.id, state);
    return (await store.services.get(stack.services[0]!.id))!;
  };

  before(async () => {
    registry = await FakeRegistry.start();
    current = registry.pushImage('acme/web', '1.4.2', PLATFORM);
    registry.tag('acme/web', 'latest', current);
    candidate = registry.pushImage('acme/web', '1.5.0', PLATFORM);
    registry.pushImage('acme/web', 'edge', PLATFORM);
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_HOST_PLATFORM: PLATFORM } });
    web = await seed(api.store, 'vi-web', { ref: `${registry.host}/acme/web`, tag: 'latest' }, {
      digest: current,
      candidate: { tag: 'latest', digest: candidate, archMatch: 'match', arch: [PLATFORM] },
    });
  });
  after(async () => {
    await api.close();
    await registry.close();
  });

  const snapshot = (digest: string, serviceId = web.id) => api.call('getServiceDigestTagsSnapshot', { ...as, params: { serviceId }, query: { digest } });

  it('lists the repository tags without a digest, and scans them live with one', async () => {
    const listed = await api.call('getServiceDigestTags', { ...as, params: { serviceId: web.id } });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body, { digest: current, tags: [], repoTags: ['1.5.0', '1.4.2', 'latest', 'edge'], scan: { ...EMPTY_SCAN, repoTagsTotal: 4 } });

    const scanned = await api.call('getServiceDigestTags', { ...as, params: { serviceId: web.id }, query: { digest: current.slice('sha256:'.length) } });
    assert.equal(scanned.status, 200);
    assert.deepEqual(scanned.body, { digest: current, tags: ['1.4.2', 'latest'], scan: { repoTagsTotal: 4, repoTagsConsidered: 4, manifestsOk: 4, manifestsTimeout: 0, manifestsError: 0 } });
    // The live scan is stored: the cached route serves it now.
    assert.deepEqual((await snapshot(current)).body.tags, ['1.4.2', 'latest']);
  });

  it('answers 400, 404 and a registry failure in the envelope', async () => {
    const bad = await api.call('getServiceDigestTags', { ...as, params: { serviceId: web.id }, query: { digest: 'not-a-digest' } });
    assert.deepEqual([bad.status, bad.body.error.message], [400, 'digest is required']);
    const unknown = await api.call('getServiceDigestTags', { ...as, params: { serviceId: web.id }, query: { digest: `sha256:${'f'.repeat(64)}` } });
    assert.deepEqual([unknown.status, unknown.body.error.message], [404, 'digest snapshot not found']);
    const missing = await api.call('getServiceDigestTags', { ...as, params: { serviceId: 'svc_missing' } });
    assert.deepEqual([missing.status, missing.body.error.message], [404, 'service not found']);

    registry.interceptor = (_req, res, kind) => {
      if (kind !== 'tags') return false;
      res.writeHead(500, { 'Content-Type': 'application/json' }).end('{}');
      return true;
    };
    try {
      const failed = await api.call('getServiceDigestTags', { ...as, params: { serviceId: web.id }, allowInternalError: true });
      assert.equal(failed.status, 500);
      assert.equal(failed.body.error.code, 'internal');
      assert.equal(failed.body.error.message, 'registry error');
      assert.equal(failed.body.error.details.op, 'list_tags');
      const withDigest = await api.call('getServiceDigestTags', { ...as, params: { serviceId: web.id }, query: { digest: candidate } });
      assert.equal(withDigest.status, 200, 'a failed listing is a snapshot with an error, not a failure');
      assert.deepEqual(withDigest.body, { digest: candidate, tags: [], scan: { ...EMPTY_SCAN, manifestsError: 1 } });
    } finally {
      registry.interceptor = undefined;
    }
  });

  it('answers the snapshot routes 202 while a snapshot is pending, and refuses bad input', async () => {
    const edge = await seed(api.store, 'vi-edge', { ref: `${registry.host}/acme/web`, tag: 'edge' }, { digest: `sha256:${'1'.repeat(64)}` });
    const pending = await snapshot(`sha256:${'1'.repeat(64)}`, edge.id);
    assert.equal(pending.status, 202);
    assert.deepEqual(pending.body, { status: 'pending', digest: `sha256:${'1'.repeat(64)}`, retryAfterMs: 800 });

    const refreshed = await api.call('refreshServiceVersionInference', { ...as, params: { serviceId: edge.id }, body: { digest: `sha256:${'1'.repeat(64)}` } });
    assert.equal(refreshed.status, 202);
    assert.deepEqual(refreshed.body, { status: 'pending', serviceId: edge.id, imageRepo: `${registry.host}/acme/web`, digest: `sha256:${'1'.repeat(64)}`, reason: 'running' });
    const forced = await api.call('refreshServiceVersionInference', { ...as, params: { serviceId: web.id }, body: { digest: current } });
    assert.equal(forced.body.reason, 'force');
    assert.equal((await snapshot(current)).status, 202, 'a forced refresh in flight hides the stored snapshot');

    const blank = await api.call('refreshServiceVersionInference', { ...as, params: { serviceId: web.id }, body: { digest: ' ' } });
    assert.deepEqual([blank.status, blank.body.error.message], [400, 'digest is required']);
    assert.equal((await snapshot('')).status, 400);
    assert.equal((await snapshot(`sha256:${'f'.repeat(64)}`)).status, 404);
    assert.equal((await api.call('refreshServiceVersionInference', { ...as, params: { serviceId: 'svc_missing' }, body: { digest: current } })).status, 404);
    const badRef = await seed(api.store, 'vi-bad', { ref: 'Not/A Valid Ref', tag: 'latest' }, { digest: current });
    const refused = await snapshot(current, badRef.id);
    assert.deepEqual([refused.status, refused.body.error.message], [400, 'invalid service image ref']);
  });

  it('lists snapshots and tasks in the overview, filtered and paged', async () => {
    const old = new Date(Date.now() - 8 * 24 * 3600_000).toISOString();
    const scan = { ...EMPTY_SCAN, repoTagsTotal: 1, repoTagsConsidered: 1, manifestsOk: 1 };
    for (let index = 0; index < 5; index++) {
      await api.store.snapshots.upsert({ imageRepo: `ghcr.io/acme/ready${index}`, digest: `sha256:${String(index).repeat(64)}`, hostPlatform: PLATFORM, tags: ['1.0.0'], checkedAt: new Date().toISOString(), scan });
    }
    await api.store.snapshots.upsert({ imageRepo: 'ghcr.io/acme/stale', digest: `sha256:${'5'.repeat(64)}`, hostPlatform: PLATFORM, tags: ['1.0.0'], checkedAt: old, scan });
    await api.store.snapshots.upsert({ imageRepo: 'ghcr.io/acme/broken', digest: `sha256:${'6'.repeat(64)}`, hostPlatform: PLATFORM, tags: [], checkedAt: new Date().toISOString(), scan: { ...EMPTY_SCAN, manifestsError: 1 } });

    const all = (await api.call('getVersionInferenceOverview', as)).body;
    assert.equal(all.worker.maxConcurrency, 4);
    assert.ok(all.worker.queued >= 1, 'the pending snapshot above is queued (the worker does not run in this server)');
    assert.deepEqual(all.gc, { retentionDays: 30, intervalSeconds: 86400 });
    assert.equal(all.summary.stale, 1);
    assert.equal(all.summary.allFailed, 2, 'the broken one, and the candidate whose listing failed above');
    assert.equal(all.rows[0].status, 'queued', 'in-flight rows first');
    const webRow = all.rows.find((row: any) => row.digest === current);
    assert.equal(webRow.serviceCount, 1);

    const stale = (await api.call('getVersionInferenceOverview', { ...as, query: { status: 'stale' } })).body;
    assert.deepEqual(stale.rows.map((row: any) => [row.imageRepo, row.reason]), [['ghcr.io/acme/stale', 'cache_stale']]);
    assert.equal(stale.total, 1);
    assert.equal(stale.summary.snapshotsTotal, all.summary.snapshotsTotal, 'the summary ignores filters');

    const pageTwo = (await api.call('getVersionInferenceOverview', { ...as, query: { q: 'ACME/READY', perPage: 2, page: 2 } })).body;
    assert.deepEqual([pageTwo.total, pageTwo.rows.length, pageTwo.page, pageTwo.perPage], [5, 2, 2, 2]);
    const far = (await api.call('getVersionInferenceOverview', { ...as, query: { page: 1_000_000_000, perPage: 1000 } })).body;
    assert.deepEqual([far.rows, far.perPage], [[], 200]);
    const bad = await api.call('getVersionInferenceOverview', { ...as, query: { status: 'missing' } });
    assert.equal(bad.status, 400);
  });

  it('streams events from the tail, resumes after an id, and asks for a resync once the range is gone', async () => {
    const base = await api.listen();
    const headers = { 'X-Forwarded-User': 'ops' };
    const { inference } = api.engine;
    await inference.collectGarbage();
    const resumeFrom = inference.ring.latestId;
    await inference.collectGarbage();
    await inference.collectGarbage();

    const tail = await openSse(base, '/api/version-inference/events', headers);
    assert.equal(tail.status, 200);
    assert.equal(tail.headers['cache-control'], 'no-cache');
    await inference.collectGarbage();
    const live = await tail.waitFor(1);
    tail.close();
    assert.deepEqual(live.map((frame) => [frame.event, frame.data.type, frame.id]), [['version_inference_event', 'gc_ran', inference.ring.latestId]]);

    const resumed = await openSse(base, `/api/version-inference/events?afterId=${resumeFrom}`, headers);
    const replay = await resumed.waitFor(3);
    resumed.close();
    assert.deepEqual(replay.map((frame) => frame.id), [resumeFrom + 1, resumeFrom + 2, resumeFrom + 3]);

    for (let run = 0; run < 2005; run++) await inference.collectGarbage();
    const lost = await openSse(base, '/api/version-inference/events', { ...headers, 'Last-Event-ID': String(resumeFrom) });
    const [resync] = await lost.waitFor(1);
    await inference.collectGarbage();
    const [, next] = await lost.waitFor(2);
    lost.close();
    assert.deepEqual(contract.checkFrames('streamVersionInferenceEvents', [...live, ...replay, resync!, next!]), []);
    assert.equal(resync!.data.type, 'resync_required');
    assert.deepEqual(
      { requestedAfterId: resync!.data.requestedAfterId, reason: resync!.data.reason, latestEventId: resync!.data.latestEventId },
      { requestedAfterId: resumeFrom, reason: 'buffer_overflow', latestEventId: inference.ring.latestId - 1 },
    );
    assert.equal(resync!.data.oldestAvailableId, inference.ring.latestId - 2000);
    assert.equal(next!.id, inference.ring.latestId, 'then live events from the newest on');
  });

  it('runs the queued snapshots once the worker starts, and the stack detail shows the resolved tags', async () => {
    await api.engine.inference.start();
    await api.engine.inference.whenSettled([current, candidate], 20_000);
    const { stack } = (await api.call('getStack', { ...as, params: { stackId: web.stackId } })).body;
    const [service] = stack.services;
    assert.equal(service.image.resolvedTag, '1.4.2');
    assert.equal(service.candidate.resolvedTag, undefined, 'the candidate listing failed above; nothing was known to keep');
    assert.equal(service.versionInference.status, 'ready');
    assert.equal((await snapshot(current)).status, 200);
  });
});

describe('version inference and registry credentials', () => {
  const secret = 'planted-secret-5f3a9c';
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-vi-secret-'));
  let api: Api;
  let registry: FakeRegistry;

  before(async () => {
    registry = await FakeRegistry.start({ scheme: 'basic', username: 'reader', password: 'the-right-one' });
    const digest = registry.pushImage('acme/private', 'latest', PLATFORM);
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`reader:${secret}`).toString('base64') } } }));
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_DOCKER_CONFIG: config } });
    const stack = await api.store.stacks.create({ name: 'vi-private', compose: { type: 'path', composeFiles: ['/srv/p/compose.yml'] }, services: [{ name: 'app', image: { ref: `${registry.host}/acme/private`, tag: 'latest' } }] });
    await api.store.services.updateState(stack.services[0]!.id, { digest });
    await api.engine.inference.start();
  });
  after(async () => {
    await api.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never shows the configured password in answers or inference events when the registry refuses it', async () => {
    const [service] = await api.store.services.list();
    const listed = await api.call('getServiceDigestTags', { ...as, params: { serviceId: service!.id }, allowInternalError: true });
    assert.equal(listed.status, 500);
    assert.match(listed.body.error.details.error, /access denied with the configured credentials/);
    const scanned = await api.call('getServiceDigestTags', { ...as, params: { serviceId: service!.id }, query: { digest: service!.image.digest! } });
    assert.equal(scanned.body.scan.manifestsError, 1);
    await api.call('refreshServiceVersionInference', { ...as, params: { serviceId: service!.id }, body: { digest: service!.image.digest! } });
    await api.engine.inference.whenSettled([service!.image.digest!], 10_000);
    const overview = await api.call('getVersionInferenceOverview', as);
    const everything = [listed.text, scanned.text, overview.text, JSON.stringify(api.engine.inference.ring.after(0, 2000))].join('\n');
    assert.ok(registry.count({ kind: 'tags' }) > 0, 'the registry was asked');
    assert.ok(!everything.includes(secret), 'the password leaked');
    assert.ok(!everything.includes(Buffer.from(`reader:${secret}`).toString('base64')), 'the encoded credentials leaked');
  });
});
