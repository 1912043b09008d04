import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexPackage from 'knex';
import type { Knex } from 'knex';
import type BetterSqlite3 from 'better-sqlite3';
import { migrationSource } from './migrations/index.js';
import { LruCache } from '../lru.js';
import { errorText } from '../errors.js';

// knex is CommonJS: under NodeNext its default import is the whole module object.
const { knex: createKnex } = knexPackage;

export interface DatabaseOptions {
  /** PostgreSQL connection URL (`DATABASE_URL`); the embedded SQLite file is used when unset or empty. */
  databaseUrl?: string;
  /** SQLite file (`DOCKREV_DB_PATH`); its directory is created when missing. */
  sqlitePath: string;
  /** PostgreSQL schema to work in instead of the database's default one; created when missing. */
  pgSchema?: string;
}

export type DatabaseEngine = 'sqlite' | 'postgres';

const POSTGRES_INT8_OID = 20;
const SQLITE_BUSY_TIMEOUT_MS = 5000;
const PREPARED_STATEMENTS_KEPT = 256;
const PG_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens (and checks) the database. Throws an Error naming the environment variable to fix when the
 * database cannot be reached or opened; callers report it and exit.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<Knex> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.pgSchema) : openSqlite(opts.sqlitePath);
}

export function databaseEngine(knex: Knex): DatabaseEngine {
  return knex.client.config.client === 'pg' ? 'postgres' : 'sqlite';
}

export async function migrateLatest(knex: Knex): Promise<void> {
  await knex.migrate.latest({ migrationSource, tableName: 'schema_migrations' });
}

/**
 * knex prepares every query anew, and preparing costs about as much as running a small query. The
 * same few dozen SQL texts come back on every check and every job poll, and better-sqlite3
 * statements can be run again, so the connection keeps the recently used ones (bounded: `whereIn`
 * lists of different lengths are different texts).
 */
function reusePreparedStatements(connection: BetterSqlite3.Database): void {
  const prepare = connection.prepare.bind(connection);
  const statements = new LruCache<string, BetterSqlite3.Statement>(PREPARED_STATEMENTS_KEPT);
  connection.prepare = ((source: string) => {
    let statement = statements.get(source);
    if (!statement) {
      statement = prepare(source);
      statements.set(source, statement);
    }
    return statement;
  }) as BetterSqlite3.Database['prepare'];
}

async function openSqlite(sqlitePath: string): Promise<Knex> {
  const filename = resolve(sqlitePath);
  try {
    mkdirSync(dirname(filename), { recursive: true });
  } catch (error) {
    throw new Error(`cannot create the directory of DOCKREV_DB_PATH=${sqlitePath}: ${errorText(error)}`);
  }
  const knex = createKnex({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      // One connection: SQLite serialises writers anyway, and this keeps transactions simple.
      min: 1,
      max: 1,
      afterCreate(connection: BetterSqlite3.Database, done: (error: Error | null, connection: unknown) => void) {
        try {
          connection.pragma('journal_mode = WAL');
          connection.pragma('foreign_keys = ON');
          connection.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
          // WAL + NORMAL stays consistent after a crash and avoids an fsync per commit.
          connection.pragma('synchronous = NORMAL');
          reusePreparedStatements(connection);
          done(null, connection);
        } catch (error) {
          done(error as Error, connection);
        }
      },
    },
  });
  await probe(knex, `cannot open the SQLite database at DOCKREV_DB_PATH=${sqlitePath}`);
  return knex;
}

async function openPostgres(databaseUrl: string, pgSchema: string | undefined): Promise<Knex> {
  const shownUrl = redactUrl(databaseUrl);
  if (shownUrl === undefined) {
    throw new Error('DATABASE_URL is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  // Loaded only for PostgreSQL, so an SQLite instance does not carry the driver.
  const { default: pg } = await import('pg');
  const parsePgInt8AsNumber = (oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) =>
    oid === POSTGRES_INT8_OID ? Number : pg.types.getTypeParser(oid, format ?? 'text');
  const knex = createKnex({
    client: 'pg',
    connection: {
      connectionString: databaseUrl,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      // Counts and bigint columns arrive as strings by default; every value we store fits a JS number.
      types: { getTypeParser: parsePgInt8AsNumber },
    } as Knex.PgConnectionConfig,
    searchPath: pgSchema ? [pgSchema] : undefined,
  });
  await probe(knex, `cannot connect to PostgreSQL at DATABASE_URL=${shownUrl}`);
  if (pgSchema) await knex.raw('create schema if not exists ??', [pgSchema]);
  return knex;
}

async function probe(knex: Knex, message: string): Promise<void> {
  try {
    await knex.raw('select 1');
  } catch (error) {
    await knex.destroy().catch(() => undefined);
    throw new Error(`${message}: ${errorText(error)}`);
  }
}

function redactUrl(databaseUrl: string): string | undefined {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return undefined;
  }
}

