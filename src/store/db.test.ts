import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from './db.js';

test('SQLite connections reuse prepared statements, and reused ones see schema changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-db-'));
  const knex = await openDatabase({ sqlitePath: join(dir, 'test.sqlite3') });
  try {
    const connection = (await knex.client.acquireConnection()) as BetterSqlite3.Database;
    try {
      assert.equal(connection.prepare('SELECT 1 AS one'), connection.prepare('SELECT 1 AS one'));
      assert.notEqual(connection.prepare('SELECT 1 AS one'), connection.prepare('SELECT 2 AS two'));
    } finally {
      await knex.client.releaseConnection(connection);
    }
    await knex.schema.createTable('things', (table) => table.string('name'));
    await knex('things').insert({ name: 'a' });
    assert.deepEqual(await knex('things').select('*'), [{ name: 'a' }]);
    await knex.schema.alterTable('things', (table) => table.integer('size'));
    // The same SQL text again: the kept statement must not answer with the old columns.
    assert.deepEqual(await knex('things').select('*'), [{ name: 'a', size: null }]);
  } finally {
    await knex.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
