import type { Knex } from 'knex';
import { newId } from '../ids.js';
import { nowIso } from '../time.js';
import { compact, optional, toBool } from './rows.js';

/** `exact` | `prefix` | `regex` | `semver`; other kinds are kept and behave as `exact` when matching. */
export type IgnoreMatchKind = string;

export interface IgnoreRule {
  id: string;
  enabled: boolean;
  scope: { type: 'service'; serviceId: string };
  match: { kind: IgnoreMatchKind; value: string };
  note?: string;
  createdAt: string;
}

export interface NewIgnoreRule {
  enabled?: boolean;
  scope: { type: 'service'; serviceId: string };
  match: { kind: IgnoreMatchKind; value: string };
  note?: string | null;
}

interface IgnoreRuleRow {
  id: string;
  enabled: boolean | number;
  scope_type: string;
  service_id: string;
  match_kind: string;
  match_value: string;
  note: string | null;
  created_at: string;
}

function ruleFromRow(row: IgnoreRuleRow): IgnoreRule {
  return compact({
    id: row.id,
    enabled: toBool(row.enabled),
    scope: { type: 'service' as const, serviceId: row.service_id },
    match: { kind: row.match_kind, value: row.match_value },
    note: optional(row.note),
    createdAt: row.created_at,
  });
}

const NEWEST_FIRST = [
  { column: 'created_at', order: 'desc' as const },
  { column: 'id', order: 'desc' as const },
];

export function createIgnoreRulesRepository(knex: Knex) {
  const rules = (db: Knex | Knex.Transaction = knex) => db<IgnoreRuleRow>('ignore_rules');

  async function list(): Promise<IgnoreRule[]> {
    return (await rules().select('*').orderBy(NEWEST_FIRST)).map(ruleFromRow);
  }

  async function get(id: string): Promise<IgnoreRule | undefined> {
    const row = await rules().where({ id }).first();
    return row ? ruleFromRow(row) : undefined;
  }

  async function create(input: NewIgnoreRule): Promise<IgnoreRule> {
    const row: IgnoreRuleRow = {
      id: newId('ign'),
      enabled: input.enabled ?? true,
      scope_type: input.scope.type,
      service_id: input.scope.serviceId,
      match_kind: input.match.kind,
      match_value: input.match.value,
      note: input.note ?? null,
      created_at: nowIso(),
    };
    await rules().insert(row);
    return ruleFromRow(row);
  }

  /**
   * Deletes a rule; false when it did not exist. Services whose candidate it ignored stop being
   * ignored at once rather than at their next check.
   */
  async function remove(id: string): Promise<boolean> {
    return knex.transaction(async (trx) => {
      const deleted = await rules(trx).where({ id }).delete();
      if (deleted === 0) return false;
      await trx('services').where({ ignore_rule_id: id }).update({ ignore_rule_id: null, ignore_reason: null, updated_at: nowIso() });
      return true;
    });
  }

  /** Enabled rules of a service, newest first (the first match wins). */
  async function listEnabledForService(serviceId: string): Promise<IgnoreRule[]> {
    const rows = await rules().where({ service_id: serviceId, enabled: true }).orderBy(NEWEST_FIRST);
    return rows.map(ruleFromRow);
  }

  return { list, get, create, delete: remove, listEnabledForService };
}

export type IgnoreRulesRepository = ReturnType<typeof createIgnoreRulesRepository>;
