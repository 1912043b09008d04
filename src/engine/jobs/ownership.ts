// Jobs outlive nothing by accident: each process beats in the store while it runs, and a running
// job whose owner went silent (killed, cut off from the database, gone with its host) is ended as
// failed by whichever instance sharing the database looks next — the reconciler runs as a leased
// scheduler task, so one instance does it at a time. A job this process owns but no longer runs
// (its end could not be written) is ended the same way.
import type { Logger } from 'pino';
import type { Job, Store } from '../../store/index.js';
import { toIso } from '../../time.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { JobRunner } from './runner.js';

export interface OwnershipTiming {
  heartbeatMs: number;
  /** An owner silent this long is gone. */
  staleMs: number;
  reconcileEverySeconds: number;
}

export const DEFAULT_OWNERSHIP_TIMING: OwnershipTiming = { heartbeatMs: 5_000, staleMs: 30_000, reconcileEverySeconds: 15 };

/** `summary.terminated.reason` of a job whose owner process is gone. */
export const OWNER_GONE = 'owner_gone';

export const RECONCILER_TASK = 'job-reconciler';

export interface OwnershipOptions {
  store: Store;
  runner: JobRunner;
  logger: Logger;
  timing?: Partial<OwnershipTiming>;
  /** Told about the jobs a reconciliation ended (GitHub work is queued again, updates recovered). */
  onEnded?: (jobs: Job[]) => Promise<void>;
  now?: () => number;
}

export class JobOwnership {
  private readonly timing: OwnershipTiming;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: OwnershipOptions) {
    this.timing = { ...DEFAULT_OWNERSHIP_TIMING, ...options.timing };
    this.now = options.now ?? Date.now;
  }

  /** Jobs of owners silent since this time are presumed orphaned. */
  staleBefore(): string {
    return toIso(this.now() - this.timing.staleMs);
  }

  /** Beats now and then every `heartbeatMs`; a failed beat is retried on the next one. */
  async start(): Promise<void> {
    await this.beat();
    this.timer ??= setInterval(() => void this.beat(), this.timing.heartbeatMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.options.store.jobs.retireOwner(this.options.runner.owner).catch(() => undefined);
  }

  register(scheduler: Scheduler): void {
    scheduler.add({ name: RECONCILER_TASK, runAtStart: true, schedule: () => ({ everySeconds: this.timing.reconcileEverySeconds }), run: () => this.reconcile() });
  }

  private async beat(): Promise<void> {
    try {
      await this.options.store.jobs.heartbeat(this.options.runner.owner, toIso(this.now()));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'cannot record the job owner heartbeat');
    }
  }

  /** Ends running jobs nobody works on any more; returns them. */
  async reconcile(): Promise<Job[]> {
    const { store, runner, logger } = this.options;
    const staleBefore = this.staleBefore();
    const ended: Job[] = [];
    for (const { job, owner, ownerSeenAt } of await store.jobs.runningWithOwners()) {
      const mine = owner === runner.owner;
      const orphaned = mine ? !runner.runs(job.id) : ownerSeenAt === undefined || ownerSeenAt < staleBefore;
      if (!orphaned || !(await store.jobs.terminate(job.id, OWNER_GONE))) continue;
      await store.jobs.appendLog(job.id, 'warn', `job terminated: reason=${OWNER_GONE}`);
      ended.push(job);
    }
    await store.jobs.forgetOwnersSilentSince(staleBefore);
    if (ended.length > 0) {
      logger.warn({ jobs: ended.map((job) => job.id) }, 'ended jobs whose owner is gone');
      await this.options.onEnded?.(ended);
    }
    return ended;
  }
}
