import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Job, Service } from '../../store/index.js';
import type { PushOrigin } from '../check/push.js';
import { PushCoalescer, type PushNotice } from './coalescer.js';

const OLD = `sha256:${'0'.repeat(64)}`;
const NEW = `sha256:${'1'.repeat(64)}`;

/** Checks that finish when the test says so, with the result the test sets on the service. */
function harness(options: { reused?: boolean } = {}) {
  const started: { origin: PushOrigin; finish(status?: 'success' | 'failed', serviceOk?: boolean): void }[] = [];
  const service: Service = { id: 'svc_1', image: { ref: 'r.example.com/acme/web', tag: 'latest', digest: OLD }, checkedAt: '2026-01-01T00:00:00.000Z' } as Service;
  const finished = new Map<string, Promise<Job>>();
  const coalescer = new PushCoalescer({
    logger: pino({ level: 'silent' }),
    service: async () => structuredClone(service),
    finished: (jobId) => finished.get(jobId)!,
    checkForPush: async (serviceId, origin) => {
      const id = `chk_${started.length}`;
      let finish!: (job: Job) => void;
      finished.set(id, new Promise<Job>((resolve) => (finish = resolve)));
      started.push({
        origin,
        finish: (status = 'success', serviceOk = true) =>
          finish({ id, status, summary: { services: [{ serviceId, status: serviceOk ? 'ok' : 'failed' }] } } as unknown as Job),
      });
      return { job: { id, status: 'running' } as Job, reused: options.reused ?? false };
    },
  });
  const notice = (n: number, digest: string | undefined = NEW): PushNotice => ({
    deliveryId: `rwd_${n}`,
    source: 'distribution',
    registry: 'r.example.com',
    repository: 'r.example.com/acme/web',
    tag: 'latest',
    digest,
    eventIds: [`e${n}`],
  });
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  return { coalescer, started, service, notice, turn };
}

describe('push coalescer', () => {
  it('folds notices that arrive while a check runs into one follow-up, started only if still needed', async () => {
    const { coalescer, started, service, notice, turn } = harness();
    const first = await coalescer.request('svc_1', notice(0));
    const burst = await Promise.all(Array.from({ length: 100 }, (_, i) => coalescer.request('svc_1', notice(i + 1))));
    assert.equal(started.length, 1, 'one check for 101 notices');
    assert.ok(burst.every((check) => check.reused && check.job?.id === first.job!.id));

    // The first check read the registry before the later pushes: one follow-up for all of them.
    started[0]!.finish();
    await turn();
    await turn();
    assert.equal(started.length, 2);
    assert.equal((started[1]!.origin.audit.eventIds as string[]).length, 20, 'the summary keeps the latest event ids');
    assert.equal(started[1]!.origin.audit.deliveryId, 'rwd_100');
    assert.equal(await first.verdict, 'denied', 'the first check did not find the announced digest');

    service.candidate = { tag: 'latest', digest: NEW, archMatch: 'match', arch: [] };
    started[1]!.finish();
    await coalescer.settled();
    assert.deepEqual(new Set(await Promise.all(burst.map((check) => check.verdict))), new Set(['confirmed']));
    assert.equal(started.length, 2, 'nothing left to follow up');
  });

  it('starts no check when the service’s last check already found the announced digest', async () => {
    const { coalescer, started, service, notice } = harness();
    service.candidate = { tag: 'latest', digest: NEW, archMatch: 'match', arch: [] };
    const current = await coalescer.request('svc_1', notice(0));
    assert.equal(current.current, true);
    assert.equal(current.job, undefined);
    assert.equal(await current.verdict, 'confirmed');
    const running = await coalescer.request('svc_1', notice(1, OLD));
    assert.equal(running.current, false, 'the running digest is not what the registry has now (the candidate is)');
    assert.equal(started.length, 1);
    started[0]!.finish();
    await coalescer.settled();
  });

  it('does not take a check that was running before the notice as its answer', async () => {
    const { coalescer, started, service, notice, turn } = harness({ reused: true });
    const joined = await coalescer.request('svc_1', notice(0, undefined));
    assert.equal(joined.reused, true);
    started[0]!.finish();
    await turn();
    await turn();
    assert.equal(started.length, 2, 'a follow-up after the check it joined');
    service.checkedAt = '2026-01-02T00:00:00.000Z';
    started[1]!.finish();
    await turn();
    await turn();
    // Each follow-up joins yet another running check here, so the chain goes on while they run.
    assert.equal(started.length, 3);
    const stopping = coalescer.stop();
    started[2]!.finish();
    await stopping;
    assert.equal(started.length, 3, 'no follow-up once stopped');
    assert.equal(await joined.verdict, 'unverified', 'stopped before a check of its own answered');
  });

  it('calls a failed check unverified and does not retry what it covered', async () => {
    const { coalescer, started, notice } = harness();
    const check = await coalescer.request('svc_1', notice(0));
    started[0]!.finish('success', false);
    await coalescer.settled();
    assert.equal(await check.verdict, 'unverified');
    assert.equal(started.length, 1);
  });
});
