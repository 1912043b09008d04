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

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    readonly events: EngineEvents = new EngineEvents(logger),
  ) {}

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
    });
    await this.store.jobs.appendLog(job.id, 'info', spec.startMessage);
    this.track(job, { failureMessage: spec.failureMessage, summary: spec.summary }, work);
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
    if (!(await this.store.jobs.claim(job.id))) return false;
    await this.store.jobs.appendLog(job.id, 'info', messages.startMessage);
    this.track(job, { failureMessage: messages.failureMessage, summary: job.summary }, work);
    return true;
  }

  private track(job: Job, failure: { failureMessage: string; summary?: JobSummary }, work: (job: RunningJob) => Promise<JobOutcome>): void {
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
    spec: { failureMessage: string; summary?: JobSummary },
    running: RunningJob,
    work: (job: RunningJob) => Promise<JobOutcome>,
  ): Promise<void> {
    try {
      let outcome: JobOutcome;
      try {
        outcome = await work(running);
      } catch (error) {
        const message = errorText(error);
        await this.store.jobs.appendLog(job.id, 'error', `${spec.failureMessage}: ${message}`);
        outcome = { status: 'failed', summary: { ...(spec.summary ?? {}), error: message } };
      }
      const summary = running.lastProgress ? { ...outcome.summary, progress: running.lastProgress } : outcome.summary;
      const status = outcome.status ?? 'success';
      const finishedAt = nowIso();
      await this.store.jobs.update(job.id, { status, summary, finishedAt });
      this.events.publishAll(outcome.events ?? []);
      const { id: jobId, type, scope, stackId, serviceId, createdBy, reason, createdAt } = job;
      this.events.publish('job.finished', { jobId, type, status, scope, stackId, serviceId, createdBy, reason, createdAt, finishedAt, summary });
    } catch (error) {
      // The store itself failed (database gone): leave the job for start-up recovery to settle.
      this.logger.error({ err: error, jobId: job.id }, 'cannot record job outcome');
    }
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
