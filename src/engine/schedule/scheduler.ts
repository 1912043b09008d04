// Background tasks that run on their own: on a cron expression (read from the settings each time,
// so a change takes effect without a restart) or every N seconds. A task never runs twice at once,
// also across instances sharing the database (a lease in the store); a run that takes longer than
// its interval makes the ticks it covered go by instead of stacking them; a tick missed while the
// server was down runs once at start-up, not once per missed tick.
import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Store } from '../../store/index.js';
import { toIso } from '../../time.js';

export type TaskSchedule = { cron: string } | { everySeconds: number };

export interface ScheduledTask {
  /** Unique, stable: it names the lease row. */
  name: string;
  /** The schedule as it is now; undefined while the task is switched off. */
  schedule(): Promise<TaskSchedule | undefined> | TaskSchedule | undefined;
  run(): Promise<unknown>;
  /** Run once at start-up when a tick was due while the server was down. */
  catchUp?: boolean;
  /** Run once right at start-up, whatever the schedule (interval tasks such as GC). */
  runAtStart?: boolean;
}

/** How long a lease holds without renewal; a crashed owner's lease expires after this. */
const LEASE_MS = 10 * 60_000;
const RENEW_MS = 60_000;
/** setTimeout cannot wait longer (about 24.8 days); a later tick is re-planned when this fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface TaskState {
  task: ScheduledTask;
  timer?: NodeJS.Timeout;
  next?: Date;
  running?: Promise<void>;
}

export class Scheduler {
  private readonly tasks = new Map<string, TaskState>();
  /** This process's name in the lease table. */
  private readonly owner = `proc_${randomUUID()}`;
  private stopped = true;

  constructor(
    private readonly store: Pick<Store, 'schedules'>,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  add(task: ScheduledTask): void {
    if (this.tasks.has(task.name)) throw new Error(`task ${task.name} is scheduled already`);
    this.tasks.set(task.name, { task });
    if (!this.stopped) void this.plan(task.name);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all([...this.tasks.keys()].map((name) => this.startTask(name)));
  }

  /** Re-reads the schedules (after the settings changed). */
  async reload(): Promise<void> {
    if (this.stopped) return;
    await Promise.all([...this.tasks.keys()].map((name) => this.plan(name)));
  }

  /** When each task runs next (null while switched off or stopped). */
  nextRuns(): Record<string, string | null> {
    return Object.fromEntries([...this.tasks].map(([name, state]) => [name, state.next ? toIso(state.next) : null]));
  }

  /** Runs a task now, as a tick would (tests, manual triggers); resolves when it has finished or was skipped. */
  async runNow(name: string): Promise<boolean> {
    const state = this.tasks.get(name);
    if (!state) throw new Error(`no task ${name}`);
    return this.fire(state);
  }

  /** Stops every timer and waits for running tasks to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const state of this.tasks.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
      state.next = undefined;
    }
    await Promise.allSettled([...this.tasks.values()].map((state) => state.running));
  }

  private async startTask(name: string): Promise<void> {
    const state = this.tasks.get(name)!;
    try {
      if (state.task.runAtStart || (state.task.catchUp && (await this.missedWhileDown(state.task)))) {
        void this.fire(state);
      }
    } catch (error) {
      this.logger.warn({ err: error, task: name }, 'cannot tell whether a scheduled run was missed');
    }
    await this.plan(name);
  }

  private async missedWhileDown(task: ScheduledTask): Promise<boolean> {
    const schedule = await task.schedule();
    const last = await this.store.schedules.lastRunAt(task.name);
    if (!schedule || !last) return false;
    const due = nextAfter(schedule, new Date(last));
    return due !== undefined && due.getTime() <= this.now().getTime();
  }

  /** (Re)arms the task's timer for its next tick from now. */
  private async plan(name: string): Promise<void> {
    const state = this.tasks.get(name);
    if (!state) return;
    clearTimeout(state.timer);
    state.timer = undefined;
    state.next = undefined;
    let schedule: TaskSchedule | undefined;
    try {
      schedule = await state.task.schedule();
    } catch (error) {
      this.logger.warn({ err: error, task: name }, 'cannot read the schedule of a background task');
    }
    if (this.stopped || !schedule) return;
    const next = nextAfter(schedule, this.now());
    if (!next) return;
    state.next = next;
    const delay = Math.max(0, next.getTime() - this.now().getTime());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      if (delay >= MAX_TIMER_MS) return void this.plan(name);
      void this.fire(state).finally(() => this.plan(name));
    }, Math.min(delay, MAX_TIMER_MS));
    state.timer.unref();
  }

  /** One run under the lease; false when it was skipped (running here or elsewhere). */
  private async fire(state: TaskState): Promise<boolean> {
    if (state.running) return false;
    const { name } = state.task;
    let release: () => void = () => undefined;
    state.running = new Promise<void>((resolve) => (release = resolve));
    try {
      const now = this.now();
      if (!(await this.store.schedules.acquire(name, this.owner, toIso(now), toIso(now.getTime() + LEASE_MS)))) {
        this.logger.debug({ task: name }, 'scheduled task runs elsewhere; skipped');
        return false;
      }
      const renewal = setInterval(() => {
        void this.store.schedules.renew(name, this.owner, toIso(this.now().getTime() + LEASE_MS)).catch(() => undefined);
      }, RENEW_MS);
      try {
        await state.task.run();
      } catch (error) {
        this.logger.warn({ err: error, task: name }, 'scheduled task failed');
      } finally {
        clearInterval(renewal);
        await this.store.schedules.release(name, this.owner, toIso(this.now())).catch((error: unknown) => {
          this.logger.warn({ err: error, task: name }, 'cannot release the lease of a scheduled task');
        });
      }
      return true;
    } catch (error) {
      this.logger.warn({ err: error, task: name }, 'cannot take the lease of a scheduled task');
      return false;
    } finally {
      state.running = undefined;
      release();
    }
  }
}

/** The first tick strictly after `after`; undefined for a cron expression that never fires again. */
export function nextAfter(schedule: TaskSchedule, after: Date): Date | undefined {
  if ('everySeconds' in schedule) return new Date(after.getTime() + schedule.everySeconds * 1000);
  return new Cron(schedule.cron, { paused: true }).nextRun(after) ?? undefined;
}
