import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { openStore, type Store } from '../../store/index.js';
import { EngineEvents } from '../events.js';
import { JobOwnership, OWNER_GONE } from './ownership.js';
import { JobRunner, OUTCOME_NOT_RECORDED } from './runner.js';

const logger = pino({ level: 'silent' });
const fast = { outcomeDelaysMs: [5, 5, 5], failedEndEveryMs: 10 };
const spec = { prefix: 'chk', type: 'check', scope: 'all', createdBy: 'ops', reason: 'ui', startMessage: 'check started', failureMessage: 'check failed' } as const;

/** The store's jobs with writes that fail while `down` is set, as with a database that went away. */
function flaky(store: Store): { store: Store; down: Set<'finish' | 'terminate' | 'appendLog'> } {
  const down = new Set<'finish' | 'terminate' | 'appendLog'>();
  const jobs = new Proxy(store.jobs, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || !down.has(name as never)) return value;
      return async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      };
    },
  });
  return { store: { ...store, jobs }, down };
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('jobs whose end cannot be written, and jobs whose owner is gone', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dockrev-ownership-'));
    store = await openStore({ sqlitePath: join(dir, 'dockrev.sqlite3') });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the real outcome once the database takes writes again', async () => {
    const { store: outage, down } = flaky(store);
    const runner = new JobRunner(outage, logger, new EngineEvents(logger), { outcomeDelaysMs: [20, 20, 20, 20, 20, 20, 20, 20], failedEndEveryMs: 10 });
    let release: (() => void) | undefined;
    const job = await runner.start(spec, async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return { summary: { servicesChecked: 3 } };
    });
    await until('the work to start', async () => release !== undefined);
    down.add('finish');
    release!();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await store.jobs.get(job.id))?.status, 'running');
    down.clear();
    await runner.settled(job.id);
    const ended = await store.jobs.get(job.id);
    assert.deepEqual([ended?.status, ended?.summary.servicesChecked], ['success', 3]);
  });

  it('ends the job as failed with a reason when its outcome never lands, so it blocks nothing', async () => {
    const { store: outage, down } = flaky(store);
    const runner = new JobRunner(outage, logger, new EngineEvents(logger), fast);
    const finished = runner.events.next('job.finished');
    const job = await runner.start(spec, async (running) => {
      down.add('finish').add('terminate').add('appendLog');
      await running.log('info', 'this log cannot be written');
      return { summary: {} };
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal((await store.jobs.get(job.id))?.status, 'running', 'still down: nothing could be written');
    down.clear();
    await runner.settled(job.id);
    const ended = await store.jobs.get(job.id);
    assert.equal(ended?.status, 'failed');
    assert.equal((ended?.summary.terminated as { reason: string }).reason, OUTCOME_NOT_RECORDED);
    assert.equal(await store.jobs.findRunning('check', 'all'), undefined, 'a new check of all stacks is not blocked');
    const event = await finished;
    assert.deepEqual([event.jobId, event.status], [job.id, 'failed']);
  });

  it('gives up at shutdown and leaves the job to the reconciler of the next owner', async () => {
    const { store: outage, down } = flaky(store);
    const runner = new JobRunner(outage, logger, new EngineEvents(logger), fast);
    const job = await runner.start(spec, async () => ({ summary: {} }));
    down.add('finish').add('terminate');
    // The outcome may have been written before the outage began; only a job still running is left over.
    runner.stopRetrying();
    await runner.idle();
    down.clear();
    const next = new JobRunner(store, logger);
    const ownership = new JobOwnership({ store, runner: next, logger });
    const ended = await ownership.reconcile();
    const row = await store.jobs.get(job.id);
    assert.notEqual(row?.status, 'running');
    if (ended.some((entry) => entry.id === job.id)) assert.equal((row?.summary.terminated as { reason: string }).reason, OWNER_GONE);
  });

  it('ends, across instances sharing the database, the running jobs of an owner that went silent', async () => {
    let clock = Date.parse('2026-01-01T00:00:00.000Z');
    const now = () => clock;
    const first = new JobRunner(store, logger);
    const second = new JobRunner(store, logger);
    const firstOwnership = new JobOwnership({ store, runner: first, logger, now, timing: { staleMs: 30_000 } });
    const endedByOther: string[][] = [];
    const secondOwnership = new JobOwnership({ store, runner: second, logger, now, timing: { staleMs: 30_000 }, onEnded: async (jobs) => void endedByOther.push(jobs.map((job) => job.id)) });
    await firstOwnership.start();
    await secondOwnership.start();
    let releaseFirst: (() => void) | undefined;
    let releaseSecond: (() => void) | undefined;
    const firstJob = await first.start(spec, () => new Promise((resolve) => (releaseFirst = () => resolve({ summary: {} }))));
    const secondJob = await second.start({ ...spec, scope: 'stack', stackId: 'stk_1' }, () => new Promise((resolve) => (releaseSecond = () => resolve({ summary: {} }))));

    assert.deepEqual(await secondOwnership.reconcile(), [], 'both owners are alive');
    // The first instance is killed: it beats no more. The second keeps beating.
    await firstOwnership.stop().catch(() => undefined);
    await store.jobs.heartbeat(first.owner, '2026-01-01T00:00:00.000Z');
    clock += 31_000;
    await store.jobs.heartbeat(second.owner, new Date(clock).toISOString());
    const ended = await secondOwnership.reconcile();
    assert.deepEqual(ended.map((job) => job.id), [firstJob.id]);
    assert.deepEqual(endedByOther, [[firstJob.id]]);
    const orphan = await store.jobs.get(firstJob.id);
    assert.deepEqual([orphan?.status, (orphan?.summary.terminated as { reason: string }).reason], ['failed', OWNER_GONE]);
    assert.equal((await store.jobs.get(secondJob.id))?.status, 'running', 'a live owner keeps its job');

    await until('both jobs to run', async () => releaseFirst !== undefined && releaseSecond !== undefined);
    releaseFirst!();
    releaseSecond!();
    await Promise.all([first.idle(), second.idle()]);
    assert.equal((await store.jobs.get(firstJob.id))?.status, 'failed', 'a late outcome does not revive an ended job');
    await secondOwnership.stop();
  });

  it('ends a job its own process owns but no longer runs', async () => {
    const runner = new JobRunner(store, logger);
    const ownership = new JobOwnership({ store, runner, logger });
    await ownership.start();
    await store.jobs.create({ id: 'chk_01JNR1Y6QK3G7W9T8E2M4B5C7Z', type: 'check', scope: 'all', status: 'running', createdBy: 'ops', reason: 'ui', owner: runner.owner });
    await until('the orphan to be ended', async () => (await ownership.reconcile()).length === 1);
    assert.equal((await store.jobs.get('chk_01JNR1Y6QK3G7W9T8E2M4B5C7Z'))?.status, 'failed');
    await ownership.stop();
  });
});
