import type { Knex } from 'knex';
import { newId } from '../ids.js';
import { nowIso } from '../time.js';
import { compact, fromJson, optional, toJson } from './rows.js';

/** `running` | `success` | `failed` | `skipped` */
export type BackupStatus = string;

export interface BackupRecord {
  id: string;
  jobId: string;
  stackId: string;
  status: BackupStatus;
  artifactPath?: string;
  sizeBytes?: number;
  /** Per-target decisions, error text, …: whatever the backup step reports. */
  details?: Record<string, unknown>;
  createdAt: string;
  finishedAt?: string;
  cleanupAfter?: string;
  deletedAt?: string;
}

/** `undefined` keeps a field, `null` clears it. */
export interface BackupPatch {
  status?: BackupStatus;
  artifactPath?: string | null;
  sizeBytes?: number | null;
  details?: Record<string, unknown> | null;
  finishedAt?: string | null;
  cleanupAfter?: string | null;
  deletedAt?: string | null;
}

interface BackupRow {
  id: string;
  job_id: string;
  stack_id: string;
  status: string;
  artifact_path: string | null;
  size_bytes: number | string | null;
  details: string | null;
  created_at: string;
  finished_at: string | null;
  cleanup_after: string | null;
  deleted_at: string | null;
}

function backupFromRow(row: BackupRow): BackupRecord {
  return compact({
    id: row.id,
    jobId: row.job_id,
    stackId: row.stack_id,
    status: row.status,
    artifactPath: optional(row.artifact_path),
    sizeBytes: row.size_bytes === null ? undefined : Number(row.size_bytes),
    details: fromJson<Record<string, unknown> | undefined>(row.details, undefined),
    createdAt: row.created_at,
    finishedAt: optional(row.finished_at),
    cleanupAfter: optional(row.cleanup_after),
    deletedAt: optional(row.deleted_at),
  });
}

export function createBackupsRepository(knex: Knex) {
  const backups = () => knex<BackupRow>('backups');

  /** Inserts a `bkp_…` record for a backup that is starting. */
  async function create(input: { jobId: string; stackId: string; status: BackupStatus }): Promise<BackupRecord> {
    const row: BackupRow = {
      id: newId('bkp'),
      job_id: input.jobId,
      stack_id: input.stackId,
      status: input.status,
      artifact_path: null,
      size_bytes: null,
      details: null,
      created_at: nowIso(),
      finished_at: null,
      cleanup_after: null,
      deleted_at: null,
    };
    await backups().insert(row);
    return backupFromRow(row);
  }

  async function get(id: string): Promise<BackupRecord | undefined> {
    const row = await backups().where({ id }).first();
    return row ? backupFromRow(row) : undefined;
  }

  /** False when the record does not exist. */
  async function update(id: string, patch: BackupPatch): Promise<boolean> {
    const columns: Partial<BackupRow> = compact({
      status: patch.status,
      artifact_path: patch.artifactPath,
      size_bytes: patch.sizeBytes,
      details: patch.details === undefined ? undefined : patch.details === null ? null : toJson(patch.details),
      finished_at: patch.finishedAt,
      cleanup_after: patch.cleanupAfter,
      deleted_at: patch.deletedAt,
    });
    if (Object.keys(columns).length === 0) return (await get(id)) !== undefined;
    return (await backups().where({ id }).update(columns)) > 0;
  }

  /** Newest first. */
  async function listByStack(stackId: string): Promise<BackupRecord[]> {
    const rows = await backups()
      .where({ stack_id: stackId })
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
    return rows.map(backupFromRow);
  }

  /** Successful, not yet deleted backups whose cleanup time has come, oldest first. */
  async function listDueForCleanup(now: string = nowIso()): Promise<BackupRecord[]> {
    const rows = await backups()
      .where({ status: 'success' })
      .whereNull('deleted_at')
      .whereNotNull('cleanup_after')
      .andWhere('cleanup_after', '<=', now)
      .orderBy([{ column: 'cleanup_after' }, { column: 'id' }]);
    return rows.map(backupFromRow);
  }

  /**
   * After a stable update: the job's successful backups of the stack become removable at
   * `cleanupAfter` (retention keeps the newest ones regardless). Returns how many were scheduled.
   */
  async function scheduleCleanup(jobId: string, stackId: string, cleanupAfter: string): Promise<number> {
    return backups().where({ job_id: jobId, stack_id: stackId, status: 'success' }).whereNull('deleted_at').update({ cleanup_after: cleanupAfter });
  }

  /** Successful backups of the stack whose archive has not been removed, newest first. */
  async function listKept(stackId: string): Promise<BackupRecord[]> {
    const rows = await backups()
      .where({ stack_id: stackId, status: 'success' })
      .whereNull('deleted_at')
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
    return rows.map(backupFromRow);
  }

  /** Deletes the record; false when it was gone already. */
  async function remove(id: string): Promise<boolean> {
    return (await backups().where({ id }).delete()) > 0;
  }

  return { create, get, update, listByStack, listDueForCleanup, scheduleCleanup, listKept, remove };
}

export type BackupsRepository = ReturnType<typeof createBackupsRepository>;
