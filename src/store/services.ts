import type { Knex } from 'knex';
import { nowIso } from '../time.js';
import { applyArchiveFilter, archiveColumns, toJson, type ArchiveFilter } from './rows.js';
import { serviceFromRow, statePatchColumns, type ServiceRow } from './service-rows.js';
import type { NewService, Service, ServiceSettings, ServiceStatePatch } from './service-types.js';

export function createServicesRepository(knex: Knex) {
  const services = () => knex<ServiceRow>('services');

  async function get(id: string): Promise<Service | undefined> {
    const row = await services().where({ id }).first();
    return row ? serviceFromRow(row) : undefined;
  }

  async function listByStack(stackId: string): Promise<Service[]> {
    const rows = await services().where({ stack_id: stackId }).orderBy([{ column: 'name' }, { column: 'id' }]);
    return rows.map(serviceFromRow);
  }

  /** Services of every stack (archived ones too unless filtered), for `all`-scope checks and scans. */
  async function list(archived: ArchiveFilter = 'include'): Promise<Service[]> {
    const query = services().select('*').orderBy([{ column: 'stack_id' }, { column: 'name' }, { column: 'id' }]);
    applyArchiveFilter(query, archived);
    return (await query).map(serviceFromRow);
  }

  /** The distinct image references and tags of all services, one stack's, or one service's (archived ones included). */
  async function imageTags(filter: { stackId?: string; serviceId?: string } = {}): Promise<{ ref: string; tag: string }[]> {
    const query = services().distinct('image_ref', 'image_tag');
    if (filter.stackId !== undefined) query.where({ stack_id: filter.stackId });
    if (filter.serviceId !== undefined) query.where({ id: filter.serviceId });
    return (await query).map((row) => ({ ref: row.image_ref, tag: row.image_tag }));
  }

  /** Archive or restore; false when the service does not exist. Archiving twice keeps the first archivedAt. */
  async function setArchived(id: string, archived: boolean, reason = 'user_archive'): Promise<boolean> {
    return (await services().where({ id }).update(archiveColumns(knex, archived, reason))) > 0;
  }

  async function getSettings(id: string): Promise<ServiceSettings | undefined> {
    return (await get(id))?.settings;
  }

  /** Replaces the stored settings; false when the service does not exist. */
  async function putSettings(id: string, settings: ServiceSettings): Promise<boolean> {
    const updated = await services()
      .where({ id })
      .update({ auto_rollback: settings.autoRollback, backup_targets: toJson(settings.backupTargets), updated_at: nowIso() });
    return updated > 0;
  }

  /** Writes check/scan/update results; false when the service does not exist. */
  async function updateState(id: string, patch: ServiceStatePatch): Promise<boolean> {
    return (await services().where({ id }).update({ ...statePatchColumns(patch), updated_at: nowIso() })) > 0;
  }

  /**
   * Several patches in one transaction: a check writes every service it looked at. Patches that only
   * move `checkedAt` to the same time (the usual case: nothing changed) become one statement.
   */
  async function updateStates(patches: readonly { id: string; patch: ServiceStatePatch }[]): Promise<void> {
    if (patches.length === 0) return;
    const now = nowIso();
    const touchOnly = new Map<string, string[]>();
    const changes: typeof patches[number][] = [];
    for (const entry of patches) {
      const keys = Object.keys(entry.patch);
      if (keys.length === 1 && keys[0] === 'checkedAt' && entry.patch.checkedAt) {
        touchOnly.set(entry.patch.checkedAt, [...(touchOnly.get(entry.patch.checkedAt) ?? []), entry.id]);
      } else {
        changes.push(entry);
      }
    }
    await knex.transaction(async (trx) => {
      for (const [checkedAt, ids] of touchOnly) {
        for (let start = 0; start < ids.length; start += 500) {
          await trx('services').whereIn('id', ids.slice(start, start + 500)).update({ checked_at: checkedAt, updated_at: now });
        }
      }
      for (const { id, patch } of changes) {
        await trx('services').where({ id }).update({ ...statePatchColumns(patch), updated_at: now });
      }
    });
  }

  /**
   * Version inference's result for a digest: written only while the service still has that digest
   * (current or candidate), so a check that moved it on meanwhile is not overwritten with stale
   * tags. True when the service row was written.
   */
  async function setResolvedTags(id: string, digest: string, resolved: { resolvedTag: string | null; resolvedTags: string[] | null }): Promise<boolean> {
    const columns = statePatchColumns({ resolvedTag: resolved.resolvedTag, resolvedTags: resolved.resolvedTags });
    return (await services().where({ id, image_digest: digest }).update({ ...columns, updated_at: nowIso() })) > 0;
  }

  async function setCandidateResolvedTag(id: string, candidateDigest: string, resolvedTag: string | null): Promise<boolean> {
    return (await services().where({ id, candidate_digest: candidateDigest }).update({ candidate_resolved_tag: resolvedTag, updated_at: nowIso() })) > 0;
  }

  return { get, listByStack, list, imageTags, setArchived, getSettings, putSettings, updateState, updateStates, setResolvedTags, setCandidateResolvedTag };
}

export type ServicesRepository = ReturnType<typeof createServicesRepository>;
