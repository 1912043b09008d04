import type { Knex } from 'knex';
import { nowIso } from '../time.js';
import { compact, CURSOR_LOCKS, forUpdate, fromJson, insertCursorRow, optional, toBool, toJson } from './rows.js';
import { DomainError } from '../errors.js';

export type JobScope = 'service' | 'stack' | 'all';
export type JobStatus = 'queued' | 'running' | 'success' | 'failed' | 'rolled_back';
export type BackupMode = 'inherit' | 'skip' | 'force';
export type JobLogLevel = 'info' | 'warn' | 'error' | 'event';

/** `summary.progress` / `job.progress`; engines may add fields (planned*, currentTarget, download, …). */
export interface JobProgress {
  phase: string;
  message: string;
  current: number;
  total: number;
  percent: number;
  updatedAt: string;
  [field: string]: unknown;
}

export type JobSummary = Record<string, unknown>;

export interface Job {
  id: string;
  /** `check`, `update`, `discovery`, `runtime_scan`, `github_packages_webhook*`, … */
  type: string;
  scope: JobScope;
  stackId?: string;
  serviceId?: string;
  status: JobStatus;
  createdBy: string;
  reason: string;
  allowArchMismatch: boolean;
  backupMode: BackupMode;
  /** Free-form per job type; `summary.progress` is the latest progress. */
  summary: JobSummary;
  progress?: JobProgress;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
}

export interface NewJob {
  /** `chk_`/`job_`/`dsc_` + ULID, chosen by the caller. */
  id: string;
  type: string;
  scope: JobScope;
  stackId?: string;
  serviceId?: string;
  status: JobStatus;
  createdBy: string;
  reason: string;
  allowArchMismatch?: boolean;
  backupMode?: BackupMode;
  summary?: JobSummary;
  createdAt?: string;
  startedAt?: string;
  /** The process that runs it (`JobRunner.owner`); queued jobs get theirs when claimed. */
  owner?: string;
}

/** A running job and what is known of the process that runs it. */
export interface RunningJobOwner {
  job: Job;
  owner?: string;
  /** The owner's last heartbeat; undefined when it never beat or has retired. */
  ownerSeenAt?: string;
}

/**
 * `undefined` keeps a field. A summary without `progress` keeps the stored progress, so finishing a
 * job with a final summary does not lose it; a summary with `progress` (or `progress` itself) replaces it.
 */
export interface JobPatch {
  status?: JobStatus;
  summary?: JobSummary;
  progress?: JobProgress;
  startedAt?: string | null;
  finishedAt?: string | null;
}

export interface JobLog {
  id: number;
  jobId: string;
  ts: string;
  level: JobLogLevel;
  msg: string;
}

/** Called after a log row is committed, in this process only; other instances' rows never call it. */
export type LogAppendedListener = (jobId: string, logId: number, level: JobLogLevel) => void;

export interface JobsCursor {
  createdAt: string;
  id: string;
}

export interface JobListQuery {
  /** 1..200, default 100. */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  types?: string[];
  status?: JobStatus;
  stackId?: string;
  serviceId?: string;
}

export interface JobPage {
  jobs: Job[];
  /** Present when more jobs follow. */
  nextCursor?: string;
}

export interface JobTarget {
  type: string;
  scope?: JobScope;
  stackId?: string;
  serviceId?: string;
}

export const JOB_LIST_MAX_LIMIT = 200;
export const JOB_LIST_DEFAULT_LIMIT = 100;
const LOG_BATCH_LIMIT = 200;

export class InvalidJobsCursorError extends DomainError {
  readonly code = 'invalid_jobs_cursor';
  constructor() {
    super('invalid_cursor', 'invalid jobs cursor');
    this.name = 'InvalidJobsCursorError';
  }
}

/** base64url (no padding) of `{"createdAt","id"}`. */
export function encodeJobsCursor(cursor: JobsCursor): string {
  return Buffer.from(JSON.stringify({ createdAt: cursor.createdAt, id: cursor.id })).toString('base64url');
}

export function decodeJobsCursor(text: string): JobsCursor {
  // Buffer.from(…, 'base64url') silently skips foreign characters, so check the alphabet first.
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new InvalidJobsCursorError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidJobsCursorError();
  }
  const { createdAt, id } = (parsed ?? {}) as Partial<Record<keyof JobsCursor, unknown>>;
  if (typeof createdAt !== 'string' || typeof id !== 'string' || createdAt === '' || id === '') {
    throw new InvalidJobsCursorError();
  }
  return { createdAt, id };
}

interface JobRow {
  id: string;
  type: string;
  scope: string;
  stack_id: string | null;
  service_id: string | null;
  status: string;
  created_by: string;
  reason: string;
  allow_arch_mismatch: boolean | number;
  backup_mode: string;
  summary: string;
  progress: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  owner: string | null;
}

interface JobOwnerRow {
  owner: string;
  started_at: string;
  heartbeat_at: string;
}

interface JobLogRow {
  id: number;
  job_id: string;
  ts: string;
  level: string;
  msg: string;
}

function jobFromRow(row: JobRow): Job {
  const progress = fromJson<JobProgress | undefined>(row.progress, undefined);
  const summary = fromJson<JobSummary>(row.summary, {});
  return compact({
    id: row.id,
    type: row.type,
    scope: row.scope as JobScope,
    stackId: optional(row.stack_id),
    serviceId: optional(row.service_id),
    status: row.status as JobStatus,
    createdBy: row.created_by,
    reason: row.reason,
    allowArchMismatch: toBool(row.allow_arch_mismatch),
    backupMode: row.backup_mode as BackupMode,
    summary: progress ? { ...summary, progress } : summary,
    progress,
    createdAt: row.created_at,
    startedAt: optional(row.started_at),
    finishedAt: optional(row.finished_at),
    updatedAt: row.updated_at,
  });
}

function logFromRow(row: JobLogRow): JobLog {
  return { id: Number(row.id), jobId: row.job_id, ts: row.ts, level: row.level as JobLogLevel, msg: row.msg };
}

/** Progress lives in its own column so frequent progress writes never rewrite the summary. */
function summaryColumns(summary: JobSummary, progress: JobProgress | undefined): Partial<JobRow> {
  const { progress: summaryProgress, ...rest } = summary;
  const latest = progress ?? (summaryProgress as JobProgress | undefined);
  return { summary: toJson(rest), ...(latest ? { progress: toJson(latest) } : {}) };
}

export function createJobsRepository(knex: Knex) {
  const jobs = (db: Knex | Knex.Transaction = knex) => db<JobRow>('jobs');
  const logs = () => knex<JobLogRow>('job_logs');
  const owners = (db: Knex | Knex.Transaction = knex) => db<JobOwnerRow>('job_owners');
  // A Set rather than an EventEmitter: one listener per open stream, with no max-listener warning.
  const logListeners = new Set<LogAppendedListener>();

  async function create(input: NewJob): Promise<Job> {
    const createdAt = input.createdAt ?? nowIso();
    await jobs().insert({
      id: input.id,
      type: input.type,
      scope: input.scope,
      stack_id: input.stackId ?? null,
      service_id: input.serviceId ?? null,
      status: input.status,
      created_by: input.createdBy,
      reason: input.reason,
      allow_arch_mismatch: input.allowArchMismatch ?? false,
      backup_mode: input.backupMode ?? 'inherit',
      ...summaryColumns(input.summary ?? {}, undefined),
      created_at: createdAt,
      started_at: input.startedAt ?? null,
      finished_at: null,
      updated_at: createdAt,
      owner: input.owner ?? null,
    });
    return (await get(input.id))!;
  }

  async function get(id: string): Promise<Job | undefined> {
    const row = await jobs().where({ id }).first();
    return row ? jobFromRow(row) : undefined;
  }

  /** Newest first (createdAt, then id, descending). Throws InvalidJobsCursorError on a bad cursor. */
  async function list(query: JobListQuery = {}): Promise<JobPage> {
    const limit = query.limit ?? JOB_LIST_DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > JOB_LIST_MAX_LIMIT) {
      throw new RangeError(`limit must be between 1 and ${JOB_LIST_MAX_LIMIT}`);
    }
    const cursor = query.cursor === undefined ? undefined : decodeJobsCursor(query.cursor);
    const builder = jobs()
      .select('*')
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(limit + 1);
    if (query.types && query.types.length > 0) builder.whereIn('type', query.types);
    if (query.status) builder.where('status', query.status);
    if (query.stackId) builder.where('stack_id', query.stackId);
    if (query.serviceId) builder.where('service_id', query.serviceId);
    if (cursor) {
      builder.where((older) =>
        older
          .where('created_at', '<', cursor.createdAt)
          .orWhere((sameTime) => sameTime.where('created_at', cursor.createdAt).andWhere('id', '<', cursor.id)),
      );
    }
    const rows = await builder;
    const page = rows.slice(0, limit).map(jobFromRow);
    const last = page[page.length - 1];
    return rows.length > limit && last ? { jobs: page, nextCursor: encodeJobsCursor(last) } : { jobs: page };
  }

  /** False when the job does not exist. */
  async function update(id: string, patch: JobPatch): Promise<boolean> {
    const columns: Partial<JobRow> = compact({
      status: patch.status,
      started_at: patch.startedAt,
      finished_at: patch.finishedAt,
      ...(patch.summary ? summaryColumns(patch.summary, patch.progress) : {}),
      ...(!patch.summary && patch.progress ? { progress: toJson(patch.progress) } : {}),
      updated_at: nowIso(),
    });
    return (await jobs().where({ id }).update(columns)) > 0;
  }

  /**
   * The end of a job, written only while it is still queued or running: a job the reconciler
   * ended meanwhile (its owner looked gone) stays as it was ended. False when nothing was written.
   */
  async function finish(id: string, patch: JobPatch & Required<Pick<JobPatch, 'status' | 'finishedAt'>>): Promise<boolean> {
    const columns: Partial<JobRow> = compact({
      status: patch.status,
      finished_at: patch.finishedAt,
      ...(patch.summary ? summaryColumns(patch.summary, patch.progress) : {}),
      updated_at: nowIso(),
    });
    return (await jobs().where({ id }).whereIn('status', ['queued', 'running']).update(columns)) > 0;
  }

  /** Shallow-merges fields into the summary (read-modify-write under a row lock); false when unknown. */
  async function mergeSummary(id: string, fields: JobSummary): Promise<boolean> {
    return knex.transaction(async (trx) => {
      const row = await forUpdate(knex, jobs(trx).where({ id }).first());
      if (!row) return false;
      const merged = { ...fromJson<JobSummary>(row.summary, {}), ...fields };
      await jobs(trx).where({ id }).update({ ...summaryColumns(merged, undefined), updated_at: nowIso() });
      return true;
    });
  }

  /**
   * Ends a queued or running job as failed with `summary.terminated = {reason}`. False when the job
   * is unknown or already finished.
   */
  async function terminate(id: string, reason: string): Promise<boolean> {
    return knex.transaction(async (trx) => terminateIn(trx, id, reason));
  }

  async function terminateIn(trx: Knex.Transaction, id: string, reason: string): Promise<boolean> {
    const row = await forUpdate(knex, jobs(trx).where({ id }).whereIn('status', ['queued', 'running']).first());
    if (!row) return false;
    const now = nowIso();
    const summary = { ...fromJson<JobSummary>(row.summary, {}), terminated: { reason } };
    await jobs(trx)
      .where({ id })
      .update({ status: 'failed', finished_at: now, ...summaryColumns(summary, undefined), updated_at: now });
    return true;
  }

  /**
   * A worker takes a queued job: it becomes `running` with `startedAt`, unless another worker
   * (here or in another instance sharing the database) took it first or it was ended. True when
   * this call took it.
   */
  async function claim(id: string, owner?: string): Promise<boolean> {
    const now = nowIso();
    return (await jobs().where({ id, status: 'queued' }).update({ status: 'running', started_at: now, updated_at: now, owner: owner ?? null })) > 0;
  }

  /** Start-up recovery: every `running` job becomes failed (queued jobs stay); returns how many. */
  async function failInterruptedJobs(reason: string): Promise<number> {
    return knex.transaction(async (trx) => {
      const ids = await jobs(trx).where({ status: 'running' }).pluck('id');
      let failed = 0;
      for (const id of ids) if (await terminateIn(trx, id, reason)) failed += 1;
      return failed;
    });
  }

  /** Records that `owner` is alive (its first call registers it). */
  async function heartbeat(owner: string, at: string = nowIso()): Promise<void> {
    await owners().insert({ owner, started_at: at, heartbeat_at: at }).onConflict('owner').merge(['heartbeat_at']);
  }

  /** An owner that stops on purpose says so, and its row goes (its jobs are ended by then). */
  async function retireOwner(owner: string): Promise<void> {
    await owners().where({ owner }).delete();
  }

  /** Owners that have not beaten since `before` are forgotten (their jobs are ended first). */
  async function forgetOwnersSilentSince(before: string): Promise<number> {
    return owners().where('heartbeat_at', '<', before).whereNotIn('owner', jobs().where({ status: 'running' }).whereNotNull('owner').select('owner')).delete();
  }

  /** Every running job with its owner's last heartbeat. */
  async function runningWithOwners(): Promise<RunningJobOwner[]> {
    const rows = await jobs()
      .leftJoin<JobOwnerRow>('job_owners', 'jobs.owner', 'job_owners.owner')
      .where('jobs.status', 'running')
      .select('jobs.*', 'job_owners.heartbeat_at as owner_seen_at');
    return rows.map((row: JobRow & { owner_seen_at: string | null }) =>
      compact({ job: jobFromRow(row), owner: optional(row.owner), ownerSeenAt: optional(row.owner_seen_at) }),
    );
  }

  /**
   * The newest job of a type with the given status(es) and target. Undefined target fields match
   * anything: `{type: 'check', scope: 'service', serviceId}` finds a check of that service whatever its stack.
   */
  async function findActive(target: JobTarget, statuses: JobStatus[] = ['queued', 'running']): Promise<Job | undefined> {
    const query = jobs()
      .where('type', target.type)
      .whereIn('status', statuses)
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
    if (target.scope) query.where('scope', target.scope);
    if (target.stackId !== undefined) query.where('stack_id', target.stackId);
    if (target.serviceId !== undefined) query.where('service_id', target.serviceId);
    const row = await query.first();
    return row ? jobFromRow(row) : undefined;
  }

  async function findRunning(type: string, scope: JobScope, stackId?: string, serviceId?: string): Promise<Job | undefined> {
    return findActive({ type, scope, stackId, serviceId }, ['running']);
  }

  /** Appends a log row and returns its id, which only ever grows (it is the SSE cursor). */
  async function appendLog(jobId: string, level: JobLogLevel, msg: string): Promise<number> {
    const id = await insertCursorRow(knex, 'job_logs', CURSOR_LOCKS.jobLogs, { job_id: jobId, ts: nowIso(), level, msg });
    for (const listener of logListeners) {
      try {
        listener(jobId, id, level);
      } catch {
        // The row is stored either way; a failing listener must not fail the job that logged it.
      }
    }
    return id;
  }

  /** Subscribes to rows this process appends; returns the unsubscribe function. */
  function onLogAppended(listener: LogAppendedListener): () => void {
    logListeners.add(listener);
    return () => {
      logListeners.delete(listener);
    };
  }

  async function listLogs(jobId: string, afterId = 0, limit = LOG_BATCH_LIMIT): Promise<JobLog[]> {
    const rows = await logs().where('job_id', jobId).andWhere('id', '>', afterId).orderBy('id').limit(limit);
    return rows.map(logFromRow);
  }

  /** Structured (`event`-level) log rows of all jobs after a cursor, for the all-jobs SSE stream. */
  async function listEventLogsAfter(afterId: number, limit = LOG_BATCH_LIMIT): Promise<JobLog[]> {
    const rows = await logs().where('level', 'event').andWhere('id', '>', afterId).orderBy('id').limit(limit);
    return rows.map(logFromRow);
  }

  /** The id of the job's last log row; 0 when it has none. */
  async function lastLogId(jobId: string): Promise<number> {
    const row = await logs().where('job_id', jobId).max({ last: 'id' }).first();
    return Number(row?.last ?? 0);
  }

  /** The id of the newest log row of any job (the tail of the all-jobs stream); 0 when none. */
  async function globalLastLogId(): Promise<number> {
    const row = await logs().max({ last: 'id' }).first();
    return Number(row?.last ?? 0);
  }

  return {
    create,
    get,
    list,
    update,
    finish,
    mergeSummary,
    terminate,
    claim,
    failInterruptedJobs,
    heartbeat,
    retireOwner,
    forgetOwnersSilentSince,
    runningWithOwners,
    findActive,
    findRunning,
    appendLog,
    onLogAppended,
    listLogs,
    listEventLogsAfter,
    lastLogId,
    globalLastLogId,
  };
}

export type JobsRepository = ReturnType<typeof createJobsRepository>;
