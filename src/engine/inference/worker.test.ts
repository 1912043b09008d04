import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { InferenceEventRing } from './event-ring.js';
import { SnapshotWorker, type InferenceTask, type TaskRunner } from './worker.js';

const logger = pino({ level: 'silent' });
const key = (digest: string, imageRepo = 'ghcr.io/acme/web') => ({ imageRepo, digest, hostPlatform: 'linux/amd64' });

/** A runner whose tasks finish when the test says so. */
function controlledRunner() {
  const started: InferenceTask[] = [];
  const finish = new Map<string, () => void>();
  let running = 0;
  let maxRunning = 0;
  const run: TaskRunner = async (task) => {
    started.push({ ...task });
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    await new Promise<void>((resolve) => finish.set(task.key, resolve));
    running -= 1;
    return { checkedAt: new Date().toISOString() };
  };
  return { run, started, finish: (text: string) => finish.get(text)?.(), maxRunning: () => maxRunning };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('snapshot worker', () => {
  it('runs at most four tasks at once, deduplicates keys and promotes a forced refresh', async () => {
    const runner = controlledRunner();
    const ring = new InferenceEventRing();
    const worker = new SnapshotWorker(runner.run, ring, logger);
    for (let index = 0; index < 6; index++) assert.equal(worker.enqueue(key(`sha256:${index}`), 'cache_miss'), 'enqueued');
    assert.equal(worker.enqueue(key('sha256:0'), 'new_version'), 'joined');
    assert.equal(worker.enqueue(key('sha256:5'), 'force'), 'promoted');
    assert.equal(worker.enqueue(key('sha256:5'), 'force'), 'joined');
    assert.equal(runner.started.length, 0, 'nothing runs before start');
    worker.start();
    await tick();
    assert.equal(runner.started.length, 4);
    assert.deepEqual(worker.stats(), { maxConcurrency: 4, queued: 2, running: 4, inFlight: 6, queueCapacity: 1000, dropped: 0 });
    // The forced one jumped the queue: it runs first of all.
    assert.equal(runner.started[0]!.digest, 'sha256:5');
    assert.equal(runner.started[0]!.reason, 'force');
    for (const task of [...runner.started]) runner.finish(task.key);
    await tick();
    await tick();
    for (const task of [...runner.started]) runner.finish(task.key);
    await tick();
    await tick();
    assert.equal(runner.started.length, 6);
    assert.equal(runner.maxRunning(), 4);
    assert.equal(worker.list().length, 0);
    const types = ring.after(0, 100).map(({ event }) => event.type);
    assert.equal(types.filter((type) => type === 'task_enqueued').length, 6);
    assert.equal(types.filter((type) => type === 'task_finished').length, 6);
  });

  it('drops background tasks when the queue is full, never what a user asked for', () => {
    const worker = new SnapshotWorker(controlledRunner().run, new InferenceEventRing(), logger, 4, 2);
    assert.equal(worker.enqueue(key('sha256:1'), 'startup_warmup'), 'enqueued');
    assert.equal(worker.enqueue(key('sha256:2'), 'cache_miss'), 'enqueued');
    assert.equal(worker.enqueue(key('sha256:3'), 'new_version'), 'dropped');
    assert.equal(worker.enqueue(key('sha256:4'), 'api_snapshot_read_miss'), 'enqueued');
    assert.equal(worker.enqueue(key('sha256:5'), 'force'), 'enqueued');
    const stats = worker.stats();
    assert.equal(stats.dropped, 1);
    assert.equal(stats.queued, 4);
    assert.match(stats.lastDroppedAt ?? '', /^\d{4}-/);
  });

  it('reports a failing task as finished with an error and goes on', async () => {
    const ring = new InferenceEventRing();
    const worker = new SnapshotWorker(async () => Promise.reject(new Error('registry unreachable')), ring, logger);
    worker.start();
    worker.enqueue(key('sha256:1'), 'cache_miss');
    await worker.whenSettled(['sha256:1'], 5000);
    const finished = ring.after(0, 10).find(({ event }) => event.type === 'task_finished')!.event;
    assert.deepEqual([finished.status, finished.error, finished.digest], ['error', 'registry unreachable', 'sha256:1']);
  });

  it('settles once no task concerns the digests, waits for held digests, and gives up at the timeout', async () => {
    const runner = controlledRunner();
    const worker = new SnapshotWorker(runner.run, new InferenceEventRing(), logger);
    worker.start();
    worker.enqueue(key('sha256:a'), 'new_version');
    let settled = false;
    const waiting = worker.whenSettled(['SHA256:A', 'sha256:other'], 10_000).then(() => (settled = true));
    await tick();
    await tick();
    assert.equal(settled, false);
    runner.finish(runner.started[0]!.key);
    await waiting;

    const release = worker.hold(['sha256:b']);
    let heldSettled = false;
    const held = worker.whenSettled(['sha256:b'], 10_000).then(() => (heldSettled = true));
    await tick();
    await tick();
    assert.equal(heldSettled, false, 'a subscriber is still deciding');
    release();
    await held;

    // A task that never finishes: the timeout ends the wait, without a rejection.
    worker.enqueue(key('sha256:c'), 'cache_miss');
    const started = Date.now();
    await worker.whenSettled(['sha256:c'], 50);
    assert.ok(Date.now() - started >= 45);

    // Queued on a worker that does not run (never started): nothing would settle, so nobody waits.
    const idle = new SnapshotWorker(runner.run, new InferenceEventRing(), logger);
    idle.enqueue(key('sha256:d'), 'cache_miss');
    const idleStarted = Date.now();
    await idle.whenSettled(['sha256:d'], 5000);
    assert.ok(Date.now() - idleStarted < 1000);
    await worker.whenSettled([], 10_000);
  });

  it('forgets its queue on stop and enqueues nothing afterwards', async () => {
    const runner = controlledRunner();
    const worker = new SnapshotWorker(runner.run, new InferenceEventRing(), logger);
    worker.enqueue(key('sha256:1'), 'cache_miss');
    await worker.stop();
    assert.equal(worker.list().length, 0);
    assert.equal(worker.enqueue(key('sha256:2'), 'force'), 'dropped');
  });
});

describe('inference event ring', () => {
  it('keeps the newest events with consecutive ids and says when a resume point was overwritten', () => {
    const ring = new InferenceEventRing(3);
    assert.deepEqual([ring.latestId, ring.oldestId, ring.lost(0)], [0, 1, false]);
    for (let index = 0; index < 5; index++) ring.push({ type: 'gc_ran', n: index });
    assert.deepEqual([ring.latestId, ring.oldestId], [5, 3]);
    assert.deepEqual(ring.after(3, 10).map(({ id }) => id), [4, 5]);
    assert.deepEqual(ring.after(0, 2).map(({ id }) => id), [3, 4]);
    assert.equal(ring.lost(2), false, 'event 3 is the next one and still held');
    assert.equal(ring.lost(1), true, 'event 2 is gone');
    assert.equal(ring.lost(0), false, 'no cursor: the tail');
    assert.deepEqual(ring.resume(0), { cursor: 5 });
    assert.deepEqual(ring.resume(2), { cursor: 2 });
    const { cursor, resync } = ring.resume(1);
    assert.equal(cursor, 5);
    assert.deepEqual({ ...resync, ts: undefined }, { type: 'resync_required', ts: undefined, requestedAfterId: 1, oldestAvailableId: 3, latestEventId: 5, reason: 'buffer_overflow' });
  });
});
