// Version inference with a real store (SQLite), a fake registry and the engine's event bus; no HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { DomainError } from '../../errors.js';
import { openStore, type Service, type Store } from '../../store/index.js';
import { EngineEvents } from '../events.js';
import { client, fakeRegistry } from '../registry/testing/client-fixture.js';
import type { FakeRegistry } from '../registry/testing/fake-registry.js';
import { VersionInference } from './inference.js';

const PLATFORM = 'linux/amd64';

describe('version inference', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-inference-'));
  let store: Store;
  let registry: FakeRegistry;
  let events: EngineEvents;
  let inference: VersionInference;
  let release142 = '';
  let release150 = '';

  before(async () => {
    store = await openStore({ sqlitePath: join(dir, 'dockrev.sqlite3') });
    registry = await fakeRegistry();
    release142 = registry.pushImage('acme/app', '1.4.2', PLATFORM);
    for (const alias of ['1.4', '1', 'latest']) registry.tag('acme/app', alias, release142);
    registry.pushImage('acme/app', '1.4.1', PLATFORM);
    release150 = registry.pushImage('acme/app', '1.5.0', PLATFORM);
    events = new EngineEvents();
    inference = new VersionInference({ store, registry: client(), hostPlatform: PLATFORM, events, logger: pino({ level: 'silent' }) });
    await inference.start();
  });

  after(async () => {
    await inference.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stackWith = async (services: { name: string; tag: string; repo?: string }[]) => {
    const stack = await store.stacks.create({
      name: `s-${Math.random().toString(36).slice(2, 8)}`,
      compose: { type: 'path', composeFiles: ['/srv/x/compose.yml'] },
      services: services.map((service) => ({ name: service.name, image: { ref: `${registry.host}/${service.repo ?? 'acme/app'}`, tag: service.tag } })),
    });
    return stack;
  };
  const service = async (id: string) => (await store.services.get(id)) as Service;
  const checked = (stackId: string) =>
    events.publish('check.finished', { jobId: 'chk_1', reason: 'ui', createdBy: 'ops', scope: 'stack', stackIds: [stackId], servicesChecked: 1, servicesWithCandidate: 0, newCandidates: [] });

  it('resolves a service on latest to the version tags of its digest after a check', async () => {
    const stack = await stackWith([{ name: 'web', tag: 'latest' }]);
    const web = stack.services[0]!;
    await store.services.updateState(web.id, { digest: release142 });
    registry.resetCounters();
    checked(stack.id);
    await inference.whenSettled([release142], 10_000);
    const image = (await service(web.id)).image;
    assert.equal(image.resolvedTag, '1.4.2');
    assert.deepEqual(image.resolvedTags, ['1.4.2', '1.4', '1']);
    assert.equal(registry.count({ kind: 'tags' }), 1);
    assert.equal(registry.count({ method: 'GET', kind: 'manifest' }), 0);

    const states = await inference.serviceStates([await service(web.id)]);
    assert.equal(states.get(web.id)?.status, 'ready');
    assert.match(states.get(web.id)?.checkedAt ?? '', /^\d{4}-/);
  });

  it('resolves a new candidate with reason new_version, and another service on the same digest without a second scan', async () => {
    const stack = await stackWith([{ name: 'a', tag: 'latest' }, { name: 'b', tag: 'stable' }]);
    const a = stack.services.find((each) => each.name === 'a');
    const b = stack.services.find((each) => each.name === 'b');
    const candidate = { tag: 'latest', digest: release150, archMatch: 'match' as const, arch: [PLATFORM] };
    await store.services.updateState(a!.id, { digest: release142, candidate });
    let enqueued: unknown;
    const off = inference.ring.onPush(() => (enqueued ??= inference.ring.after(inference.ring.latestId - 1, 1)[0]?.event));
    events.publish('candidate.found', {
      jobId: 'chk_2', reason: 'schedule', stackId: stack.id, stackName: stack.name, serviceId: a!.id, serviceName: 'a',
      imageRef: `${registry.host}/acme/app`, tag: 'latest', currentDigest: release142, candidateDigest: release150, archMatch: 'match', ignored: false,
    });
    await inference.whenSettled([release150], 10_000);
    off();
    assert.equal((enqueued as { type: string; reason: string }).reason, 'new_version');
    assert.equal((await service(a!.id)).candidate?.resolvedTag, '1.5.0');

    registry.resetCounters();
    await store.services.updateState(b!.id, { digest: release142 });
    checked(stack.id);
    await inference.whenSettled([release142], 10_000);
    assert.equal((await service(b!.id)).image.resolvedTag, '1.4.2', 'the fresh snapshot of that digest is applied at once');
    assert.equal(registry.requests.length, 0);
  });

  it('keeps the last known resolved tag when a refresh fails, and says all_failed', async () => {
    const stack = await stackWith([{ name: 'web', tag: 'latest' }]);
    const web = stack.services[0]!;
    await store.services.updateState(web.id, { digest: release142, resolvedTag: '1.4.2' });
    registry.interceptor = (_req, res, kind) => {
      if (kind !== 'tags') return false;
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{}');
      return true;
    };
    try {
      await inference.refresh(web.id, release142);
      await inference.whenSettled([release142], 10_000);
    } finally {
      registry.interceptor = undefined;
    }
    const snapshot = await inference.readSnapshot(web.id, release142);
    assert.equal(snapshot.status, 'ready');
    assert.deepEqual(snapshot.status === 'ready' && [snapshot.snapshot.tags, snapshot.snapshot.scan.manifestsError], [[], 1]);
    assert.equal((await service(web.id)).image.resolvedTag, '1.4.2', 'an incomplete scan does not clear what was known');
    assert.deepEqual((await inference.serviceStates([await service(web.id)])).get(web.id), { status: 'ready', reason: 'all_failed', checkedAt: snapshot.status === 'ready' ? snapshot.snapshot.checkedAt : '' });
  });

  it('answers a digest the service does not have with not found, asking no registry and storing nothing', async () => {
    const stack = await stackWith([{ name: 'web', tag: 'latest' }]);
    const web = stack.services[0]!;
    await store.services.updateState(web.id, { digest: release142 });
    const before = (await store.snapshots.list()).length;
    registry.resetCounters();
    const other = `sha256:${'e'.repeat(64)}`;
    for (const call of [() => inference.readSnapshot(web.id, other), () => inference.refresh(web.id, other), () => inference.digestTags(web.id, other)]) {
      await assert.rejects(call(), (error: unknown) => error instanceof DomainError && error.kind === 'unknown' && error.message === 'digest snapshot not found');
    }
    await assert.rejects(inference.readSnapshot(web.id, '  '), (error: unknown) => error instanceof DomainError && error.kind === 'invalid_input' && error.message === 'digest is required');
    await assert.rejects(inference.readSnapshot('svc_unknown', release142), (error: unknown) => error instanceof DomainError && error.message === 'service not found');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(registry.requests.length, 0);
    assert.equal((await store.snapshots.list()).length, before);
    assert.equal(inference.tasks().length, 0);
  });

  it('reads pending, then the snapshot; a bare hex digest is accepted', async () => {
    const stack = await stackWith([{ name: 'web', tag: 'edge', repo: 'acme/edge' }]);
    const edge = registry.pushImage('acme/edge', 'edge', PLATFORM);
    registry.tag('acme/edge', '2.0.0', edge);
    const web = stack.services[0]!;
    await store.services.updateState(web.id, { digest: edge });
    const first = await inference.readSnapshot(web.id, edge.slice('sha256:'.length).toUpperCase());
    assert.deepEqual(first, { status: 'pending', digest: edge, retryAfterMs: 800 });
    await inference.whenSettled([edge], 10_000);
    const second = await inference.readSnapshot(web.id, edge);
    assert.equal(second.status, 'ready');
    assert.deepEqual(second.status === 'ready' && second.snapshot.tags, ['2.0.0', 'edge']);
  });

  it('needs nothing for strict semver tags and reports a missing snapshot as pending cache_miss', async () => {
    const stack = await stackWith([{ name: 'pinned', tag: '1.4.2' }, { name: 'floating', tag: '1.4', repo: 'acme/floating' }]);
    const pinned = stack.services.find((each) => each.name === 'pinned');
    const floating = stack.services.find((each) => each.name === 'floating');
    await store.services.updateState(pinned!.id, { digest: release142 });
    const floatingDigest = registry.pushImage('acme/floating', '1.4', PLATFORM);
    await store.services.updateState(floating!.id, { digest: floatingDigest });
    const states = await inference.serviceStates([await service(pinned!.id), await service(floating!.id)]);
    assert.deepEqual(states.get(pinned!.id), { status: 'ready', reason: 'not_required' });
    assert.deepEqual(states.get(floating!.id), { status: 'pending', reason: 'cache_miss' });
    await inference.whenSettled([floatingDigest], 10_000);
  });

  it('enqueues snapshots for digests an update or a runtime scan changed, with their reasons', async () => {
    const updated = registry.pushImage('acme/moved', 'latest', PLATFORM);
    const drifted = registry.pushImage('acme/drift', 'latest', PLATFORM);
    const stack = await stackWith([{ name: 'moved', tag: 'latest', repo: 'acme/moved' }, { name: 'drift', tag: 'latest', repo: 'acme/drift' }]);
    const moved = stack.services.find((each) => each.name === 'moved')!;
    const drift = stack.services.find((each) => each.name === 'drift')!;
    await store.services.updateState(moved.id, { digest: updated });
    await store.services.updateState(drift.id, { digest: drifted });
    const reasons = new Map<string, unknown>();
    const off = inference.ring.onPush(() => {
      const { event } = inference.ring.after(inference.ring.latestId - 1, 1)[0]!;
      if (event.type === 'task_enqueued') reasons.set(event.digest as string, event.reason);
    });
    events.publish('update.finished', {
      jobId: 'job_1', reason: 'ui', createdBy: 'ops', mode: 'apply', status: 'success',
      stacks: [{ stackId: stack.id, stackName: stack.name, status: 'success', changed: [{ serviceId: moved.id, serviceName: 'moved', oldDigest: release142, newDigest: updated }], rolledBack: [], failed: [] }],
    });
    events.publish('runtime_scan.finished', { jobId: 'job_2', reason: 'schedule', drifted: [{ stackId: stack.id, serviceId: drift.id, previousDigest: release142, runtimeDigest: drifted }] });
    await inference.whenSettled([updated, drifted], 10_000);
    off();
    assert.deepEqual(Object.fromEntries(reasons), { [updated]: 'update_digest_changed', [drifted]: 'runtime_scan_digest_changed' });
  });

  it('scans on connections of its own: a registry that hangs holds up inference, not the engine client', async () => {
    const slow = await fakeRegistry();
    const engineClient = client({ timeoutMs: 5000, perHostConcurrency: 2 });
    const inferenceClient = engineClient.sibling({ perHostConcurrency: 2, timeoutMs: 5000 });
    slow.pushImage('acme/slow', 'latest', PLATFORM);
    slow.delayMs = 600;
    const target = { registry: slow.host, repository: 'acme/slow' };
    const stuck = Array.from({ length: 4 }, () => inferenceClient.listTags(target));
    const started = Date.now();
    await engineClient.headManifest(target, 'latest');
    // Behind a shared limit of 2 it would wait for two rounds of the four (1.2 s) before its own 0.6 s.
    assert.ok(Date.now() - started < 1100, `the engine client queued behind inference (${Date.now() - started} ms)`);
    await Promise.all(stuck);
  });

  it('collects snapshots older than 30 days and reports the run', async () => {
    await store.snapshots.upsert({
      imageRepo: `${registry.host}/acme/old`, digest: `sha256:${'0'.repeat(64)}`, hostPlatform: PLATFORM, tags: [], checkedAt: '2020-01-01T00:00:00.000Z',
      scan: { repoTagsTotal: 0, repoTagsConsidered: 0, manifestsOk: 0, manifestsTimeout: 0, manifestsError: 0 },
    });
    assert.equal(await inference.collectGarbage(), 1);
    const event = inference.ring.after(inference.ring.latestId - 1, 1)[0]!.event;
    assert.deepEqual([event.type, event.deleted, event.ok], ['gc_ran', 1, true]);
    const { gc } = await inference.overview({});
    assert.equal(gc.lastDeleted, 1);
  });
});
