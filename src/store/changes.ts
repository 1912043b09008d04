import type { Knex } from 'knex';
import { databaseEngine } from './db.js';

/**
 * Which tables this process has written, as counters: a reader that keeps a copy of what it read
 * (the stack overview) compares a counter instead of asking the database again. Every statement
 * that writes a watched table bumps its counter when it has run, whichever repository issued it,
 * so a new write path needs no extra call.
 */
export interface TableChanges {
  /** A number that grows after every statement that wrote one of these tables. */
  version(...tables: string[]): number;
  /**
   * True when other processes may write too (PostgreSQL shared by instances): their writes bump
   * nothing here, so kept copies also need a time limit.
   */
  readonly shared: boolean;
}

const READ_METHODS = new Set(['select', 'first', 'pluck', 'columnInfo']);

interface QueryEvent {
  method?: string;
  sql?: string;
}

/** Counts writes to `tables` through this knex instance (its `query-response` events). */
export function watchTableChanges(knex: Knex, tables: readonly string[]): TableChanges {
  const counters = new Map(tables.map((table) => [table, 0]));
  const patterns = tables.map((table) => [table, new RegExp(`\\b${table}\\b`, 'i')] as const);
  // A knex transaction statement reports its response before COMMIT; with SQLite's single
  // connection no other reader runs in between. With PostgreSQL a concurrent read may still see
  // the old rows, which `shared` readers bound with their time limit.
  const bump = (query: QueryEvent) => {
    if (!query.sql || (query.method && READ_METHODS.has(query.method))) return;
    if (query.method === 'raw' && /^\s*(select|with|pragma)\b/i.test(query.sql)) return;
    for (const [table, pattern] of patterns) if (pattern.test(query.sql)) counters.set(table, counters.get(table)! + 1);
  };
  knex.on('query-response', (_response: unknown, query: QueryEvent) => bump(query));
  knex.on('query-error', (_error: unknown, query: QueryEvent) => bump(query));
  return {
    version: (...wanted) =>
      wanted.reduce((sum, table) => {
        const count = counters.get(table);
        if (count === undefined) throw new Error(`table ${table} is not watched for changes (watched: ${tables.join(', ')})`);
        return sum + count;
      }, 0),
    shared: databaseEngine(knex) === 'postgres',
  };
}
