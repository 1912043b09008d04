import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { newId, type IdPrefix } from '../../ids.js';
import { nowIso } from '../../time.js';
import type { BackupMode, Job, JobScope, JobStatus, JobSummary, Store } from '../../store/index.js';
import { errorText } from '../../errors.js';
import { EngineEvents, type PendingEvent } from '../events.js';
import { encodeJobEvent } from './event-codec.js';

/** What a job reports while it runs; `percent` and `updatedAt` are computed here. */
export interface ProgressUpdate {
  phase: string;
  message: string;
  current: number;
  /** 0 means indeterminate. */
  total: number;
  plannedCurrent?: number;
  plannedTotal?: number;
  currentTarget?: string;
  download?: Record<string, unknown>;
}

export interface JobProgressRecord extends ProgressUpdate {
  [field: string]: unknown;
  percent: number;
  plannedPercent?: number | null;
  updatedAt: string;
}

export interface RunningJob {
  readonly id: string;
  log(level: 'info' | 'warn' | 'error', message: string): Promise<void>;
  /** A structured event (`type` plus fields), streamed to SSE clients as its own event name. */
  event(type: string, fields?: Record<string, unknown>): Promise<void>;
  progress(update: ProgressUpdate): Promise<JobProgressRecord>;
  /** The latest progress, so a final summary can carry it. */
  readonly lastProgress: JobProgressRecord | undefined;
}

export interface JobOutcome {
  status?: Extract<JobStatus, 'success' | 'failed' | 'rolled_back'>;
  summary: JobSummary;
  /** Published once the job's row is final, before `job.finished`. */
  events?: PendingEvent[];
}

/** What a job is about and who asked for it, whether it starts at once or waits in the queue. */
interface JobDescription {
  type: string;
  scope: JobScope;
  stackId?: string;
  serviceId?: string;
  createdBy: string;
  reason: string;
  summary?: JobSummary;
}

export interface JobSpec extends JobDescription {
  prefix: Extract<IdPrefix, 'job' | 'chk' | 'dsc'>;
  allowArchMismatch?: boolean;
  backupMode?: BackupMode;
  /** First log line, e.g. "check started". */
  startMessage: string;
  /** Log prefix when the work throws, e.g. "check failed". */
  failureMessage: string;
}

/** A job that waits in the queue (`queued`, no `startedAt`) until a worker takes it. */
export interface QueuedJobSpec extends JobDescription {
  /** First log line, e.g. "github webhook register queued". */
  queuedMessage: string;
  /** Fields of the `job_enqueued` event (besides `jobType`). */
  enqueuedEvent?: Record<string, unknown>;
}

/** What a worker logs when it takes a queued job and when the work throws. */
export interface QueuedJobMessages {
  startMessage: string;
  failureMessage: string;
}

/** How a runner retries the write that ends a job while the database is away. */
export interface OutcomeRetry {
  /** Waits before each retry of the job's own outcome; then it is ended as failed instead. */
  outcomeDelaysMs: readonly number[];
  /** Then the failed end is retried this often until it lands or the runner stops. */
  failedEndEveryMs: number;
}

// Doubling waits, about 9 s in all, before the job is ended as failed instead.
const DEFAULT_OUTCOME_RETRY: OutcomeRetry = { outcomeDelaysMs: [150, 300, 600, 1200, 2400, 4800], failedEndEveryMs: 2000 };

/** `summary.terminated.reason` of a job whose outcome could not be written. */
export const OUTCOME_NOT_RECORDED = 'outcome_not_recorded';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export function percentOf(current: number, total: number): number {
  if (total <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((current * 100) / total)));
}

/**
 * Runs background work as jobs: a row that is `running` while the work runs, logs and structured
 * events as rows (the SSE cursor), and a terminal status with a summary. A failure inside the work
 * becomes a failed job, never an unhandled rejection.
 */
export class JobRunner {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** This process in the jobs' `owner` column and the heartbeat table: `<instance>:<uuid>`. */
  readonly owner: string;
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    readonly events: EngineEvents = new EngineEvents(logger),
    private readonly retry: OutcomeRetry = DEFAULT_OUTCOME_RETRY,
    /** Stays the same across restarts of one deployment (DOCKREV_INSTANCE_ID, default the host name). */
    readonly instance: string = hostname(),
  ) {
    this.owner = `${instance}:${randomUUID()}`;
  }

  /** Whether this runner still works on (or records the end of) the job. */
  runs(jobId: string): boolean {
    return this.inFlight.has(jobId);
  }

  /** Outcome writes that still fail give up (shutdown): the job is left to the reconciler. */
  stopRetrying(): void {
    this.stopping = true;
  }

  async start(spec: JobSpec, work: (job: RunningJob) => Promise<JobOutcome>): Promise<Job> {
    const now = nowIso();
    const job = await this.store.jobs.create({
      id: newId(spec.prefix),
      type: spec.type,
      scope: spec.scope,
      stackId: spec.stackId,
      serviceId: spec.serviceId,
      status: 'running',
      createdBy: spec.createdBy,
      reason: spec.reason,
      allowArchMismatch: spec.allowArchMismatch ?? false,
      backupMode: spec.backupMode ?? 'inherit',
      summary: spec.summary ?? {},
      createdAt: now,
      startedAt: now,
      owner: this.owner,
    });
    // From here on the row exists: whatever fails, the runner is the one that ends it.
    this.track(job, { startMessage: spec.startMessage, failureMessage: spec.failureMessage, summary: spec.summary }, work);
    return job;
  }

  /** Stores a queued job for a worker to take later (`runQueued`), possibly in another instance or after a restart. */
  async enqueue(spec: QueuedJobSpec): Promise<Job> {
    const job = await this.store.jobs.create({
      id: newId('job'),
      type: spec.type,
      scope: spec.scope,
      stackId: spec.stackId,
      serviceId: spec.serviceId,
      status: 'queued',
      createdBy: spec.createdBy,
      reason: spec.reason,
      summary: spec.summary ?? {},
      createdAt: nowIso(),
    });
    await this.store.jobs.appendLog(job.id, 'info', spec.queuedMessage);
    await this.store.jobs.appendLog(job.id, 'event', encodeJobEvent(job.id, 'job_enqueued', nowIso(), { jobType: spec.type, ...spec.enqueuedEvent }));
    return job;
  }

  /**
   * Takes a queued job and runs its work like `start` does. False when the job was no longer
   * queued (another worker took it, or it was ended), in which case nothing runs.
   */
  async runQueued(job: Job, messages: QueuedJobMessages, work: (job: RunningJob) => Promise<JobOutcome>): Promise<boolean> {
    if (!(await this.store.jobs.claim(job.id, this.owner))) return false;
    this.track(job, { startMessage: messages.startMessage, failureMessage: messages.failureMessage, summary: job.summary }, work);
    return true;
  }

  private track(job: Job, failure: { startMessage: string; failureMessage: string; summary?: JobSummary }, work: (job: RunningJob) => Promise<JobOutcome>): void {
    const running = this.handle(job.id);
    const done = this.execute(job, failure, running, work).finally(() => this.inFlight.delete(job.id));
    this.inFlight.set(job.id, done);
  }

  /** Resolves when the job this runner started has finished (immediately when it has). */
  async settled(jobId: string): Promise<void> {
    await this.inFlight.get(jobId);
  }

  /** Resolves when every job started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private async execute(
    job: Job,
    spec: { startMessage: string; failureMessage: string; summary?: JobSummary },
    running: RunningJob,
    work: (job: RunningJob) => Promise<JobOutcome>,
  ): Promise<void> {
    let outcome: JobOutcome;
    try {
      await this.store.jobs.appendLog(job.id, 'info', spec.startMessage);
      outcome = await work(running);
    } catch (error) {
      const message = errorText(error);
      // Best effort: the failure may be the database itself, and the summary carries the text anyway.
      await this.store.jobs.appendLog(job.id, 'error', `${spec.failureMessage}: ${message}`).catch(() => undefined);
      outcome = { status: 'failed', summary: { ...(spec.summary ?? {}), error: message } };
    }
    const summary = running.lastProgress ? { ...outcome.summary, progress: running.lastProgress } : outcome.summary;
    let status = outcome.status ?? 'success';
    let finishedAt = nowIso();
    let events = outcome.events ?? [];
    let final = summary;
    const recorded = await this.recordOutcome(job.id, { status, summary, finishedAt });
    if (recorded === 'ended_elsewhere') {
      this.logger.warn({ jobId: job.id }, 'job was ended meanwhile (its owner looked gone); its outcome is dropped');
      return;
    }
    if (recorded === 'lost') {
      const ended = await this.endUnrecorded(job.id);
      if (!ended) return;
      ({ status, finishedAt, summary: final } = ended);
      // The job's own events described an outcome that was never stored.
      events = [];
    }
    // The last row of the job: its event streams end on it.
    await this.store.jobs
      .appendLog(job.id, 'event', encodeJobEvent(job.id, 'job_finished', finishedAt, { status, jobType: job.type, finishedAt }))
      .catch((error: unknown) => this.logger.warn({ err: error, jobId: job.id }, 'cannot record the end of a job on its stream'));
    this.events.publishAll(events);
    const { id: jobId, type, scope, stackId, serviceId, createdBy, reason, createdAt } = job;
    this.events.publish('job.finished', { jobId, type, status, scope, stackId, serviceId, createdBy, reason, createdAt, finishedAt, summary: final });
  }

  /** Writes the job's outcome, retrying while the database is away. */
  private async recordOutcome(
    jobId: string,
    patch: { status: JobOutcome['status'] & string; summary: JobSummary; finishedAt: string },
  ): Promise<'recorded' | 'ended_elsewhere' | 'lost'> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return (await this.store.jobs.finish(jobId, patch)) ? 'recorded' : 'ended_elsewhere';
      } catch (error) {
        const delay = this.retry.outcomeDelaysMs[attempt];
        if (delay === undefined || this.stopping) {
          this.logger.error({ err: error, jobId }, 'cannot record job outcome');
          return 'lost';
        }
        this.logger.warn({ err: error, jobId, attempt: attempt + 1 }, 'cannot record job outcome yet; retrying');
        await sleep(delay);
      }
    }
  }

  /**
   * The outcome could not be written: the job is ended as failed with a reason as soon as the
   * database takes a write again, so that it never blocks new work. Undefined when the runner
   * stopped first (the reconciler of the next owner ends it then).
   */
  private async endUnrecorded(jobId: string): Promise<{ status: 'success' | 'failed' | 'rolled_back'; finishedAt: string; summary: JobSummary } | undefined> {
    while (!this.stopping) {
      try {
        if (await this.store.jobs.terminate(jobId, OUTCOME_NOT_RECORDED)) {
          await this.store.jobs.appendLog(jobId, 'warn', `job terminated: reason=${OUTCOME_NOT_RECORDED}`).catch(() => undefined);
        }
        // Usually failed now; the first write may have landed after all, and then the row says how it ended.
        const ended = await this.store.jobs.get(jobId);
        const status = ended && ended.status !== 'running' && ended.status !== 'queued' ? ended.status : 'failed';
        return { status, finishedAt: ended?.finishedAt ?? nowIso(), summary: ended?.summary ?? { terminated: { reason: OUTCOME_NOT_RECORDED } } };
      } catch (error) {
        this.logger.warn({ err: error, jobId }, 'cannot end a job whose outcome was lost yet; retrying');
        await sleep(this.retry.failedEndEveryMs);
      }
    }
    return undefined;
  }

  private handle(jobId: string): RunningJob {
    const store = this.store;
    let lastProgress: JobProgressRecord | undefined;
    return {
      id: jobId,
      get lastProgress() {
        return lastProgress;
      },
      async log(level, message) {
        await store.jobs.appendLog(jobId, level, message);
      },
      async event(type, fields = {}) {
        await store.jobs.appendLog(jobId, 'event', encodeJobEvent(jobId, type, nowIso(), fields));
      },
      async progress(update) {
        const record: JobProgressRecord = { ...update, percent: percentOf(update.current, update.total), updatedAt: nowIso() };
        if (update.plannedTotal !== undefined) {
          record.plannedPercent = update.plannedTotal > 0 ? percentOf(update.plannedCurrent ?? 0, update.plannedTotal) : null;
        }
        lastProgress = record;
        await store.jobs.update(jobId, { progress: record });
        await store.jobs.appendLog(jobId, 'event', encodeJobEvent(jobId, 'job_progress', record.updatedAt, record));
        return record;
      },
    };
  }
}
