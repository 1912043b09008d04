// Whether a failure means "the database is not answering" (an outage, a restart, a pool that
// cannot hand out a connection) rather than a bug: the API answers the first with 503 and a
// Retry-After, the second with 500. Only the store knows its drivers' error shapes and where its
// database listens, so that an unreachable Docker engine or registry is not mistaken for it; a
// socket error that names no endpoint is settled by asking the database.
import { isIP } from 'node:net';
import type { Knex } from 'knex';
import { withDeadline } from '../deadline.js';

/** SQLSTATE classes and codes of a lost or refused PostgreSQL connection (08: connection exception; 57P01–57P03: shutdown, crash, starting up). */
const PG_UNAVAILABLE = /^(08\d{3}|57P0[123])$/;
/** pg's own words when the server goes away under a connection or a query (knex puts the SQL before them). */
const PG_CONNECTION_LOST = /(^|- )(Connection terminated|Client has encountered a connection error|Connection ended unexpectedly)/;
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  port?: unknown;
  address?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** How long a failing request waits for the database to answer a probe, when its error names no endpoint. */
const PROBE_TIMEOUT_MS = 1000;

export function unavailabilityOf(knex: Knex): (error: unknown) => Promise<boolean> {
  if (knex.client.config.client !== 'pg') {
    // better-sqlite3 waits out a lock for its busy timeout, then gives up with SQLITE_BUSY.
    return async (error) => chain(error).some((link) => link.code === 'SQLITE_BUSY' || link.name === 'KnexTimeoutError');
  }
  const { host, port } = pgEndpoint(knex);
  const isOurs = (link: ErrorShape) =>
    typeof link.code === 'string' && NET_CODES.has(link.code) && Number(link.port) === port && (!isIP(host) || link.address === host || link.address === undefined);
  const definite = (links: ErrorShape[]) =>
    links.some(
      (link) =>
        link.name === 'KnexTimeoutError' ||
        (typeof link.code === 'string' && PG_UNAVAILABLE.test(link.code)) ||
        (typeof link.message === 'string' && PG_CONNECTION_LOST.test(link.message)) ||
        isOurs(link),
    );
  return async (error) => {
    const links = chain(error);
    if (definite(links)) return true;
    // A socket error that names no endpoint (`read ECONNRESET` while pg sets up a connection) may
    // be the database's or Docker's: it is the database's when the database does not answer now.
    if (!links.some((link) => typeof link.code === 'string' && NET_CODES.has(link.code) && link.port === undefined)) return false;
    return !(await answers(knex));
  };
}

function answers(knex: Knex): Promise<boolean> {
  return withDeadline(Promise.resolve(knex.raw('select 1')), PROBE_TIMEOUT_MS, () => new Error('the database did not answer')).then(
    () => true,
    () => false,
  );
}

function pgEndpoint(knex: Knex): { host: string; port: number } {
  const connection = knex.client.config.connection as { connectionString?: string; host?: string; port?: number } | undefined;
  try {
    const url = new URL(connection?.connectionString ?? 'postgres://localhost');
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 5432) };
  } catch {
    return { host: connection?.host ?? 'localhost', port: connection?.port ?? 5432 };
  }
}

/** The error, its causes and the members of an AggregateError (a connect over IPv4 and IPv6). */
function chain(error: unknown): ErrorShape[] {
  const links: ErrorShape[] = [];
  const pending: unknown[] = [error];
  while (pending.length > 0 && links.length < 16) {
    const next = pending.shift();
    if (typeof next !== 'object' || next === null) continue;
    const link = next as ErrorShape;
    links.push(link);
    if (link.cause !== undefined) pending.push(link.cause);
    if (Array.isArray(link.errors)) pending.push(...link.errors);
  }
  return links;
}
