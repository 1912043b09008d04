import type { Knex } from 'knex';
import { nowIso } from '../time.js';
import { applyArchiveFilter, archiveColumns, compact, fromJson, optional, toBool, toJson, type ArchiveFilter } from './rows.js';

export type DiscoveryProjectStatus = 'active' | 'missing' | 'invalid';

/** A Compose project seen by discovery, keyed by its project name. */
export interface DiscoveryProject {
  project: string;
  status: DiscoveryProjectStatus;
  stackId?: string;
  configFiles?: string[];
  lastSeenAt?: string;
  lastScanAt?: string;
  lastError?: string;
  archived: boolean;
  archivedAt?: string;
  archivedReason?: string;
  createdAt: string;
  updatedAt: string;
}

export interface DiscoveryProjectUpsert {
  project: string;
  status: DiscoveryProjectStatus;
  stackId?: string | null;
  configFiles?: string[] | null;
  lastSeenAt?: string | null;
  lastScanAt?: string | null;
  lastError?: string | null;
}

interface DiscoveryProjectRow {
  project: string;
  status: string;
  stack_id: string | null;
  config_files: string | null;
  last_seen_at: string | null;
  last_scan_at: string | null;
  last_error: string | null;
  archived: boolean | number;
  archived_at: string | null;
  archived_reason: string | null;
  created_at: string;
  updated_at: string;
}

function projectFromRow(row: DiscoveryProjectRow): DiscoveryProject {
  return compact({
    project: row.project,
    status: row.status as DiscoveryProjectStatus,
    stackId: optional(row.stack_id),
    configFiles: fromJson<string[] | undefined>(row.config_files, undefined),
    lastSeenAt: optional(row.last_seen_at),
    lastScanAt: optional(row.last_scan_at),
    lastError: optional(row.last_error),
    archived: toBool(row.archived),
    archivedAt: optional(row.archived_at),
    archivedReason: optional(row.archived_reason),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export function createDiscoveryProjectsRepository(knex: Knex) {
  const projects = () => knex<DiscoveryProjectRow>('discovery_projects');

  async function list(archived: ArchiveFilter = 'exclude'): Promise<DiscoveryProject[]> {
    const query = projects().select('*').orderBy('project');
    applyArchiveFilter(query, archived);
    return (await query).map(projectFromRow);
  }

  async function get(project: string): Promise<DiscoveryProject | undefined> {
    const row = await projects().where({ project }).first();
    return row ? projectFromRow(row) : undefined;
  }

  /**
   * Records what a scan saw. Fields left undefined keep their stored values; a project seen
   * `active` again is un-archived.
   */
  async function upsert(input: DiscoveryProjectUpsert): Promise<DiscoveryProject> {
    const now = nowIso();
    const fields: Partial<DiscoveryProjectRow> = compact({
      status: input.status,
      stack_id: input.stackId,
      config_files: input.configFiles === undefined ? undefined : input.configFiles === null ? null : toJson(input.configFiles),
      last_seen_at: input.lastSeenAt,
      last_scan_at: input.lastScanAt,
      last_error: input.lastError,
      ...(input.status === 'active' ? { archived: false, archived_at: null, archived_reason: null } : {}),
      updated_at: now,
    });
    await projects()
      .insert({ archived: false, ...fields, project: input.project, created_at: now })
      .onConflict('project')
      .merge(Object.keys(fields) as (keyof DiscoveryProjectRow)[]);
    return (await get(input.project))!;
  }

  /** Archive (reason `user_archive` unless given) or restore; false when the project is unknown. */
  async function setArchived(project: string, archived: boolean, reason = 'user_archive'): Promise<boolean> {
    return (await projects().where({ project }).update(archiveColumns(knex, archived, reason))) > 0;
  }

  /** Marks projects that a scan did not see; returns those that were not already missing. */
  async function markMissing(names: string[], scanAt: string = nowIso()): Promise<string[]> {
    if (names.length === 0) return [];
    return knex.transaction(async (trx) => {
      const newlyMissing = await trx<DiscoveryProjectRow>('discovery_projects')
        .whereIn('project', names)
        .whereNot('status', 'missing')
        .pluck('project');
      await trx<DiscoveryProjectRow>('discovery_projects')
        .whereIn('project', names)
        .update({ status: 'missing', last_scan_at: scanAt, updated_at: nowIso() });
      return newlyMissing;
    });
  }

  /** Start-up recovery: archives every missing, not archived project; returns how many. */
  async function archiveMissing(reason = 'auto_archive_on_restart'): Promise<number> {
    return projects().where({ status: 'missing', archived: false }).update(archiveColumns(knex, true, reason));
  }

  return { list, get, upsert, setArchived, markMissing, archiveMissing };
}

export type DiscoveryProjectsRepository = ReturnType<typeof createDiscoveryProjectsRepository>;
