// Runs queued webhook management jobs. The queue is the jobs table, so jobs outlive a restart and
// any instance sharing the database may run them: a worker takes a job by moving it from `queued`
// to `running` in one conditional update. Lanes as in the original: register/unregister/audit one
// at a time, sync-all one at a time, sync-repo up to five at once. A retry waits for its
// `notBefore`. New jobs of this process wake the worker at once; it also polls for the others.
import type { Logger } from 'pino';
import type { Job } from '../../store/index.js';
import type { JobOutcome, JobRunner, RunningJob } from '../jobs/runner.js';
import { opOf, SYNC_ALL_JOB, SYNC_REPO_JOB, type WebhookJobs } from './webhook-jobs.js';

const LANE_LIMITS: Record<string, number> = { webhook: 1, [SYNC_ALL_JOB]: 1, [SYNC_REPO_JOB]: 5 };
// As the original's workers: every 0.4 s.
const DEFAULT_POLL_MS = 0.4 * 1000;

function laneOf(job: Job): string {
  return job.type === SYNC_ALL_JOB || job.type === SYNC_REPO_JOB ? job.type : 'webhook';
}

function notBefore(job: Job): number {
  const at = typeof job.summary.notBefore === 'string' ? Date.parse(job.summary.notBefore) : NaN;
  return Number.isNaN(at) ? 0 : at;
}

export interface WebhookWorkerOptions {
  queue: WebhookJobs;
  jobs: JobRunner;
  logger: Logger;
  work(job: Job, running: RunningJob): Promise<JobOutcome>;
  pollMs?: number;
}

export class WebhookWorker {
  private readonly running = new Map<string, string>();
  private passing: Promise<void> | undefined;
  private again = false;
  private poll: NodeJS.Timeout | undefined;
  private deferred: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: WebhookWorkerOptions) {}

  /** Polls for queued jobs (other instances', those a restart left) until stopped. */
  start(): void {
    this.stopped = false;
    this.poll ??= setInterval(() => this.kick(), this.options.pollMs ?? DEFAULT_POLL_MS);
    this.poll.unref();
    this.kick();
  }

  /** Looks for work now; a call during a pass makes one more pass after it. */
  kick(): void {
    if (this.stopped) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = this.pass()
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'github webhook worker pass failed'))
      .finally(() => {
        this.passing = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Stops taking jobs; jobs already running finish (JobRunner.idle waits for them). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    clearTimeout(this.deferred);
    this.poll = this.deferred = undefined;
    await this.passing;
  }

  private busy(lane: string): number {
    let count = 0;
    for (const taken of this.running.values()) if (taken === lane) count += 1;
    return count;
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    let wakeAt = Infinity;
    for (const job of await this.options.queue.active()) {
      if (job.status !== 'queued' || this.running.has(job.id)) continue;
      const due = notBefore(job);
      if (due > now) {
        wakeAt = Math.min(wakeAt, due);
        continue;
      }
      const lane = laneOf(job);
      if (this.busy(lane) >= (LANE_LIMITS[lane] ?? 1)) continue;
      this.running.set(job.id, lane);
      const op = opOf(job) ?? 'unknown';
      const taken = await this.options.jobs.runQueued(
        job,
        { startMessage: `github webhook ${op} started`, failureMessage: `github webhook ${op} failed` },
        (running) => this.options.work(job, running),
      );
      if (!taken) {
        this.running.delete(job.id);
        continue;
      }
      void this.options.jobs.settled(job.id).finally(() => {
        this.running.delete(job.id);
        this.kick();
      });
    }
    this.planWake(wakeAt);
  }

  /** Comes back for the earliest deferred retry even when nothing polls (no background loops). */
  private planWake(at: number): void {
    clearTimeout(this.deferred);
    this.deferred = undefined;
    if (at === Infinity || this.stopped) return;
    this.deferred = setTimeout(() => this.kick(), Math.max(0, at - Date.now()) + 5);
    this.deferred.unref();
  }
}
