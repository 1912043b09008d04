import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { openStore, type Store } from '../../store/index.js';
import { nextAfter, Scheduler, type TaskSchedule } from './scheduler.js';

const logger = pino({ level: 'silent' });

describe('Scheduler', () => {
  let dir: string;
  let store: Store;
  const schedulers: Scheduler[] = [];
  const scheduler = () => {
    const created = new Scheduler(store, logger);
    schedulers.push(created);
    return created;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dockrev-scheduler-'));
    store = await openStore({ sqlitePath: join(dir, 'dockrev.sqlite3') });
  });
  after(async () => {
    await Promise.all(schedulers.map((each) => each.stop()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a 6-field cron every second, and not at all once the schedule is switched off', async () => {
    const runs: number[] = [];
    let schedule: TaskSchedule | undefined = { cron: '* * * * * *' };
    const tasks = scheduler();
    tasks.add({ name: 'every-second', schedule: () => schedule, run: async () => void runs.push(Date.now()) });
    await tasks.start();
    assert.ok(tasks.nextRuns()['every-second']);
    await sleep(2600);
    assert.ok(runs.length >= 2 && runs.length <= 3, `${runs.length} runs in 2.6 s`);
    schedule = undefined;
    await tasks.reload();
    assert.equal(tasks.nextRuns()['every-second'], null);
    const before = runs.length;
    await sleep(1500);
    assert.equal(runs.length, before);
  });

  it('lets the ticks a slow run covers go by instead of stacking them', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const tasks = scheduler();
    tasks.add({
      name: 'slow',
      schedule: () => ({ cron: '* * * * * *' }),
      run: async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(2200);
        running--;
      },
    });
    await tasks.start();
    await sleep(4500);
    await tasks.stop();
    assert.equal(maxRunning, 1);
    assert.ok(runs <= 2, `${runs} runs of a 2.2 s task in 4.5 s`);
  });

  it('runs a task on one of two instances sharing the database', async () => {
    let runs = 0;
    const task = { name: 'shared', schedule: () => undefined, run: async () => void (runs++, await sleep(300)) };
    const first = scheduler();
    const second = scheduler();
    first.add(task);
    second.add(task);
    await Promise.all([first.start(), second.start()]);
    const [ranFirst, ranSecond] = await Promise.all([first.runNow('shared'), second.runNow('shared')]);
    assert.equal(runs, 1);
    assert.notEqual(ranFirst, ranSecond);
  });

  it('runs a tick missed while down once at start-up, not once per missed tick', async () => {
    const hourAgo = new Date(Date.now() - 60 * 60_000).toISOString();
    assert.equal(await store.schedules.acquire('missed', 'previous-process', hourAgo, hourAgo), true);
    await store.schedules.release('missed', 'previous-process', hourAgo);
    let runs = 0;
    const tasks = scheduler();
    tasks.add({ name: 'missed', catchUp: true, schedule: () => ({ cron: '*/5 * * * *' }), run: async () => void runs++ });
    await tasks.start();
    await sleep(300);
    assert.equal(runs, 1, 'twelve ticks were missed; one run catches up');
    assert.ok(Date.parse((await store.schedules.lastRunAt('missed'))!) > Date.parse(hourAgo));

    let quiet = 0;
    const fresh = scheduler();
    fresh.add({ name: 'never-ran', catchUp: true, schedule: () => ({ cron: '*/5 * * * *' }), run: async () => void quiet++ });
    await fresh.start();
    await sleep(300);
    assert.equal(quiet, 0, 'a task that never ran has missed nothing');
  });

  it('keeps running after a task throws, and runs start-up tasks at once', async () => {
    let runs = 0;
    const tasks = scheduler();
    tasks.add({
      name: 'flaky',
      runAtStart: true,
      schedule: () => ({ everySeconds: 1 }),
      run: async () => {
        runs++;
        throw new Error('boom');
      },
    });
    await tasks.start();
    await sleep(1600);
    assert.ok(runs >= 2, `${runs} runs`);
  });

  it('computes the next tick after a moment for cron and interval schedules', () => {
    const at = new Date('2026-12-01T10:07:30.000Z');
    assert.equal(nextAfter({ cron: '*/30 * * * *' }, at)?.toISOString(), '2026-12-01T10:30:00.000Z');
    assert.equal(nextAfter({ cron: '*/2 * * * * *' }, at)?.toISOString(), '2026-12-01T10:07:32.000Z');
    assert.equal(nextAfter({ everySeconds: 60 }, at)?.toISOString(), '2026-12-01T10:08:30.000Z');
  });
});
