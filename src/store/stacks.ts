import type { Knex } from 'knex';
import { newId } from '../ids.js';
import { nowIso } from '../time.js';
import { applyArchiveFilter, archiveColumns, compact, fromJson, optional, toBool, toJson, type ArchiveFilter } from './rows.js';
import { newServiceRow, serviceFromRow, statePatchColumns, type ServiceRow } from './service-rows.js';
import type { NewService, Service } from './service-types.js';

export interface ComposeConfig {
  /** `"path"` for stacks created by discovery. */
  type: string;
  /** Absolute host paths. */
  composeFiles: string[];
  envFile?: string;
}

export type StackBackupTarget = { kind: 'docker-volume'; name: string } | { kind: 'bind-mount'; path: string };

export interface StackBackupConfig {
  targets: StackBackupTarget[];
  retention: { keepLast: number; deleteAfterStableSeconds: number };
}

export interface Stack {
  id: string;
  name: string;
  compose: ComposeConfig;
  backup: StackBackupConfig;
  archived: boolean;
  archivedAt?: string;
  archivedReason?: string;
  createdAt: string;
  updatedAt: string;
  lastCheckAt?: string;
}

export interface StackListItem extends Stack {
  /** All services of the stack, archived ones included. */
  serviceCount: number;
  archivedServiceCount: number;
  /** Services with a candidate that is not ignored, matches the host architecture and is not archived. */
  updateCount: number;
}

export interface StackWithServices extends Stack {
  services: Service[];
}

export interface NewStack {
  name: string;
  compose: ComposeConfig;
  backup?: StackBackupConfig;
  lastCheckAt?: string;
  services: NewService[];
}

export interface ServiceSyncResult {
  added: string[];
  updated: string[];
  removed: string[];
}

export const DEFAULT_STACK_BACKUP: StackBackupConfig = {
  targets: [],
  retention: { keepLast: 1, deleteAfterStableSeconds: 3600 },
};

interface StackRow {
  id: string;
  name: string;
  compose_type: string;
  compose_files: string;
  env_file: string | null;
  backup: string;
  archived: boolean | number;
  archived_at: string | null;
  archived_reason: string | null;
  created_at: string;
  updated_at: string;
  last_check_at: string | null;
}

interface StackCountsRow {
  stack_id: string;
  service_count: number | string;
  archived_service_count: number | string | null;
  update_count: number | string | null;
}

function stackFromRow(row: StackRow): Stack {
  return compact({
    id: row.id,
    name: row.name,
    compose: compact({ type: row.compose_type, composeFiles: fromJson<string[]>(row.compose_files, []), envFile: optional(row.env_file) }),
    backup: fromJson(row.backup, DEFAULT_STACK_BACKUP),
    archived: toBool(row.archived),
    archivedAt: optional(row.archived_at),
    archivedReason: optional(row.archived_reason),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastCheckAt: optional(row.last_check_at),
  });
}

function composeColumns(compose: ComposeConfig): Pick<StackRow, 'compose_type' | 'compose_files' | 'env_file'> {
  return { compose_type: compose.type, compose_files: toJson(compose.composeFiles), env_file: compose.envFile ?? null };
}

export function createStacksRepository(knex: Knex) {
  const stacks = (db: Knex | Knex.Transaction = knex) => db<StackRow>('stacks');
  const services = (db: Knex | Knex.Transaction = knex) => db<ServiceRow>('services');

  async function list(archived: ArchiveFilter = 'exclude'): Promise<StackListItem[]> {
    const query = stacks().select('*').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
    applyArchiveFilter(query, archived);
    const rows = await query;
    const counts = await countServices(rows.map((row) => row.id));
    return rows.map((row) => {
      const count = counts.get(row.id);
      return {
        ...stackFromRow(row),
        serviceCount: Number(count?.service_count ?? 0),
        archivedServiceCount: Number(count?.archived_service_count ?? 0),
        updateCount: Number(count?.update_count ?? 0),
      };
    });
  }

  async function countServices(stackIds: string[]): Promise<Map<string, StackCountsRow>> {
    if (stackIds.length === 0) return new Map();
    const rows: StackCountsRow[] = await knex('services')
      .select('stack_id')
      .count({ service_count: '*' })
      .select(
        knex.raw('sum(case when archived = ? then 1 else 0 end) as archived_service_count', [true]),
        knex.raw(
          `sum(case when archived = ? and candidate_digest is not null and candidate_arch_match = 'match'
                     and ignore_rule_id is null then 1 else 0 end) as update_count`,
          [false],
        ),
      )
      .whereIn('stack_id', stackIds)
      .groupBy('stack_id');
    return new Map(rows.map((row) => [row.stack_id, row]));
  }

  async function get(id: string): Promise<Stack | undefined> {
    const row = await stacks().where({ id }).first();
    return row ? stackFromRow(row) : undefined;
  }

  async function getWithServices(id: string): Promise<StackWithServices | undefined> {
    const stack = await get(id);
    if (!stack) return undefined;
    const rows = await services().where({ stack_id: id }).orderBy([{ column: 'name' }, { column: 'id' }]);
    return { ...stack, services: rows.map(serviceFromRow) };
  }

  /** Creates a stack and its services atomically. */
  async function create(input: NewStack): Promise<StackWithServices> {
    const id = newId('stk');
    const now = nowIso();
    await knex.transaction(async (trx) => {
      await stacks(trx).insert({
        id,
        name: input.name,
        ...composeColumns(input.compose),
        backup: toJson(input.backup ?? DEFAULT_STACK_BACKUP),
        archived: false,
        created_at: now,
        updated_at: now,
        last_check_at: input.lastCheckAt ?? null,
      });
      if (input.services.length > 0) {
        await services(trx).insert(input.services.map((service) => newServiceRow(newId('svc'), id, service, now)));
      }
    });
    return (await getWithServices(id))!;
  }

  /** Archive (reason `user_archive` unless given) or restore; false when the stack does not exist. */
  async function setArchived(id: string, archived: boolean, reason = 'user_archive'): Promise<boolean> {
    return (await stacks().where({ id }).update(archiveColumns(knex, archived, reason))) > 0;
  }

  /** Replaces the stack's backup targets and retention; false when the stack does not exist. */
  async function setBackup(id: string, backup: StackBackupConfig): Promise<boolean> {
    return (await stacks().where({ id }).update({ backup: toJson(backup), updated_at: nowIso() })) > 0;
  }

  async function setLastCheckAt(ids: string | readonly string[], at: string = nowIso()): Promise<boolean> {
    const list = typeof ids === 'string' ? [ids] : [...ids];
    if (list.length === 0) return false;
    return (await stacks().whereIn('id', list).update({ last_check_at: at, updated_at: nowIso() })) > 0;
  }

  /**
   * Makes the stack's compose config and services match what discovery found: services are matched
   * by name; a changed image ref or tag forgets the digests and candidate learnt for the old image.
   * Returns undefined when the stack does not exist.
   */
  async function syncServices(
    stackId: string,
    compose: ComposeConfig,
    wanted: NewService[],
  ): Promise<ServiceSyncResult | undefined> {
    const now = nowIso();
    return knex.transaction(async (trx) => {
      const updatedStacks = await stacks(trx).where({ id: stackId }).update({ ...composeColumns(compose), updated_at: now });
      if (updatedStacks === 0) return undefined;
      const existing = await services(trx).where({ stack_id: stackId });
      const existingByName = new Map(existing.map((row) => [row.name, row]));
      const wantedNames = new Set(wanted.map((service) => service.name));
      const result: ServiceSyncResult = { added: [], updated: [], removed: [] };

      for (const service of wanted) {
        const row = existingByName.get(service.name);
        if (!row) {
          const id = newId('svc');
          await services(trx).insert(newServiceRow(id, stackId, service, now));
          result.added.push(id);
          continue;
        }
        const imageChanged = row.image_ref !== service.image.ref || row.image_tag !== service.image.tag;
        const homepage = service.homepage ? toJson(service.homepage) : null;
        if (!imageChanged && row.homepage === homepage) continue;
        await services(trx)
          .where({ id: row.id })
          .update({
            image_ref: service.image.ref,
            image_tag: service.image.tag,
            homepage,
            ...(imageChanged ? FORGOTTEN_IMAGE_STATE : {}),
            updated_at: now,
          });
        result.updated.push(row.id);
      }

      const removed = existing.filter((row) => !wantedNames.has(row.name)).map((row) => row.id);
      if (removed.length > 0) await services(trx).whereIn('id', removed).delete();
      result.removed = removed;
      return result;
    });
  }

  return { list, get, getWithServices, create, setArchived, setBackup, setLastCheckAt, syncServices };
}

const FORGOTTEN_IMAGE_STATE = statePatchColumns({
  digest: null,
  resolvedTag: null,
  resolvedTags: null,
  candidate: null,
  ignore: null,
  checkedAt: null,
});

export type StacksRepository = ReturnType<typeof createStacksRepository>;
