import type { Knex } from 'knex';
import { nowIso } from '../time.js';
import { databaseEngine } from './db.js';

/** SQLite hands booleans back as 0/1, PostgreSQL as true/false. */
export function toBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}

/** Optional fields are absent (not null) in domain objects, as in the API's JSON. */
export function optional<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}

/** Drops keys whose value is undefined, so objects compare and serialise without phantom keys. */
export function compact<T extends object>(value: T): T {
  // A plain loop: entries/filter/fromEntries allocated three arrays per object on every row read.
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const field = value[key];
    if (field !== undefined) out[key] = field;
  }
  return out as T;
}

/** `page` (from 1) and `perPage` (clamped to 1..200, default 50) as a LIMIT and OFFSET. */
export function pageWindow(page = 1, perPage = 50): { page: number; limit: number; offset: number } {
  const limit = Math.min(Math.max(Math.trunc(perPage), 1), 200);
  // Far past the end is simply empty; the bound keeps the offset an exact integer for SQL.
  const first = Math.min(Math.max(Math.trunc(page), 1), 1_000_000);
  return { page: first, limit, offset: (first - 1) * limit };
}

/** A case-insensitive substring pattern for `lower(column) like ? escape '\'`. */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Row locks only exist on PostgreSQL; SQLite transactions already exclude other writers. */
export function forUpdate<T extends Knex.QueryBuilder>(knex: Knex, query: T): T {
  return databaseEngine(knex) === 'postgres' ? (query.forUpdate() as T) : query;
}

export type ArchiveFilter = 'exclude' | 'include' | 'only';

export function applyArchiveFilter(query: Knex.QueryBuilder, filter: ArchiveFilter): void {
  if (filter === 'exclude') query.where('archived', false);
  else if (filter === 'only') query.where('archived', true);
}

/**
 * Columns that archive or restore a row. Archiving an archived row keeps its first archivedAt and
 * reason, so archiving is idempotent.
 */
export function archiveColumns(knex: Knex, archived: boolean, reason: string): Record<string, unknown> {
  const now = nowIso();
  return archived
    ? {
        archived: true,
        archived_at: knex.raw('coalesce(archived_at, ?)', [now]),
        archived_reason: knex.raw('coalesce(archived_reason, ?)', [reason]),
        updated_at: now,
      }
    : { archived: false, archived_at: null, archived_reason: null, updated_at: now };
}

/** Keys of the PostgreSQL advisory locks that serialise inserts into cursor tables. */
export const CURSOR_LOCKS = { jobLogs: 1, deliveryEvents: 2 } as const;
const CURSOR_LOCK_NAMESPACE = 0x444b5256; // "DKRV"

/**
 * Inserts a row into a table whose autoincrement id is an SSE cursor and returns the id.
 * On PostgreSQL, concurrent transactions could commit sequence values out of order and a reader
 * resuming after id N would then miss a smaller id committed later; a transaction-scoped advisory
 * lock makes ids become visible in order. SQLite has a single writer, so order is given.
 */
export async function insertCursorRow(
  knex: Knex,
  table: string,
  lockKey: number,
  row: Record<string, unknown>,
): Promise<number> {
  if (databaseEngine(knex) === 'sqlite') return insertReturningId(knex, table, row);
  return knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?, ?)', [CURSOR_LOCK_NAMESPACE, lockKey]);
    return insertReturningId(trx, table, row);
  });
}

async function insertReturningId(knex: Knex | Knex.Transaction, table: string, row: Record<string, unknown>): Promise<number> {
  const [inserted] = await knex(table).insert(row).returning('id');
  return Number(typeof inserted === 'object' ? inserted.id : inserted);
}
