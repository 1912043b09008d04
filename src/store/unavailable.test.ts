import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import knexPackage from 'knex';
import { unavailabilityOf } from './unavailable.js';

const { knex: createKnex } = knexPackage;

// knex connects lazily: these instances never open a connection.
const pg = createKnex({ client: 'pg', connection: { connectionString: 'postgres://dockrev:secret@127.0.0.1:55432/dockrev' } });
const sqlite = createKnex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
after(async () => {
  await Promise.all([pg.destroy(), sqlite.destroy()]);
});

const failure = (fields: Record<string, unknown>, message = 'failure') => Object.assign(new Error(message), fields);

const reset = () => failure({ code: 'ECONNRESET', errno: -104, syscall: 'read' }, 'read ECONNRESET');

describe('database unavailability', () => {
  it('settles a socket error that names no endpoint by asking the database', async (t) => {
    // Nothing listens on port 1: the database does not answer, so the reset was its.
    const gone = createKnex({ client: 'pg', connection: { connectionString: 'postgres://dockrev@127.0.0.1:1/dockrev', connectionTimeoutMillis: 500 } });
    t.after(() => gone.destroy());
    assert.equal(await unavailabilityOf(gone)(reset()), true);
    const url = process.env.DOCKREV_TEST_DATABASE_URL;
    if (!url) {
      t.skip('DOCKREV_TEST_DATABASE_URL is not set: the case of a database that answers needs one');
      return;
    }
    const live = createKnex({ client: 'pg', connection: { connectionString: url } });
    t.after(() => live.destroy());
    assert.equal(await unavailabilityOf(live)(reset()), false, 'the database answers: the reset was somebody else’s');
  });

  it('recognises a PostgreSQL that refuses, drops or has not started, and nothing else', async () => {
    const unavailable = unavailabilityOf(pg);
    const refused = failure({ code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 55432 }, 'connect ECONNREFUSED 127.0.0.1:55432');
    assert.equal(await unavailable(refused), true);
    assert.equal(await unavailable(new AggregateError([refused], 'all attempts failed')), true, 'a connect over several addresses');
    assert.equal(await unavailable(failure({ cause: refused }, 'acquire failed')), true);
    assert.equal(await unavailable(failure({ code: '57P01' }, 'terminating connection due to administrator command')), true);
    assert.equal(await unavailable(failure({ code: '57P03' }, 'the database system is starting up')), true);
    assert.equal(await unavailable(failure({ code: '08006' })), true);
    assert.equal(await unavailable(new Error('Connection terminated unexpectedly')), true);
    assert.equal(await unavailable(new Error('select * from "jobs" where "status" in ($1) - Connection terminated unexpectedly')), true, 'as knex words it');
    assert.equal(await unavailable(failure({ name: 'KnexTimeoutError' }, 'Knex: Timeout acquiring a connection')), true);

    // The Docker engine, a registry or a bug are no database outage.
    assert.equal(await unavailable(failure({ code: 'ECONNREFUSED', address: '127.0.0.1', port: 2375 })), false, 'another port');
    assert.equal(await unavailable(failure({ code: 'ECONNREFUSED', address: '10.0.0.9', port: 55432 })), false, 'another host');
    assert.equal(await unavailable(failure({ code: 'ENOENT', syscall: 'connect', address: '/var/run/docker.sock' })), false);
    assert.equal(await unavailable(failure({ code: '23505' }, 'duplicate key value violates unique constraint')), false);
    assert.equal(await unavailable(new TypeError("Cannot read properties of undefined (reading 'id')")), false);
    assert.equal(await unavailable(undefined), false);
    assert.equal(await unavailable('ECONNREFUSED'), false);
  });

  it('recognises a SQLite file locked past its busy timeout', async () => {
    const unavailable = unavailabilityOf(sqlite);
    assert.equal(await unavailable(failure({ code: 'SQLITE_BUSY' }, 'database is locked')), true);
    assert.equal(await unavailable(failure({ code: 'SQLITE_CONSTRAINT_UNIQUE' })), false);
    assert.equal(await unavailable(failure({ code: 'ECONNREFUSED', port: 55432 })), false);
  });
});
