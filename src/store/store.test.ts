import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_NOTIFICATION_SETTINGS,
  DEFAULT_REGISTRY_WEBHOOK_SETTINGS,
  DEFAULT_SYSTEM_SETTINGS,
  InvalidJobsCursorError,
  decodeJobsCursor,
  encodeJobsCursor,
  openStore,
  type DatabaseOptions,
  type NewJob,
  type NewService,
  type RegistryDelivery,
  type Store,
} from './index.js';

// The same suite runs on SQLite (a temp file) and, when DOCKREV_TEST_DATABASE_URL is set, on
// PostgreSQL (a fresh schema per run, dropped afterwards).
const postgresUrl = process.env.DOCKREV_TEST_DATABASE_URL || undefined;
const postgresRequired = process.env.DOCKREV_TEST_REQUIRE_POSTGRES === '1';

const TABLES_CHILD_FIRST = [
  'job_logs',
  'jobs',
  'discovery_projects',
  'services',
  'stacks',
  'ignore_rules',
  'documents',
  'web_push_subscriptions',
  'new_version_notifications',
  'github_packages_targets',
  'github_packages_repos',
  'github_packages_delivery_events',
  'github_packages_deliveries',
  'digest_tags_snapshots',
  'backups',
  'schedule_leases',
  'notification_deliveries',
  'registry_webhook_deliveries',
  'registry_webhook_seen',
  'job_owners',
];

interface Engine {
  options: DatabaseOptions;
  dispose(store: Store): Promise<void>;
}

function sqliteEngine(): Engine {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-store-'));
  return {
    options: { sqlitePath: join(dir, 'nested', 'dockrev.sqlite3') },
    async dispose(store) {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresEngine(databaseUrl: string): Engine {
  const pgSchema = `dockrev_test_${process.pid}_${Date.now()}`;
  return {
    options: { databaseUrl, sqlitePath: '/nonexistent/unused.sqlite3', pgSchema },
    async dispose(store) {
      await store.knex.raw('drop schema if exists ?? cascade', [pgSchema]);
      await store.close();
    },
  };
}

defineStoreSuite('sqlite', sqliteEngine);
if (postgresUrl) {
  defineStoreSuite('postgres', () => postgresEngine(postgresUrl));
} else if (postgresRequired) {
  it('postgres store suite', () => {
    assert.fail('DOCKREV_TEST_REQUIRE_POSTGRES=1 but DOCKREV_TEST_DATABASE_URL is not set');
  });
} else {
  describe('postgres store', { skip: 'set DOCKREV_TEST_DATABASE_URL to run the store suite on PostgreSQL' }, () => {});
}

describe('opening a database that is not there', () => {
  it('names DATABASE_URL and hides the password when PostgreSQL is unreachable', async () => {
    await assert.rejects(
      openStore({ databaseUrl: 'postgres://dockrev:s3cret@127.0.0.1:1/dockrev', sqlitePath: 'unused' }),
      (error: Error) => {
        assert.match(error.message, /DATABASE_URL/);
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      },
    );
  });

  it('names DATABASE_URL when it is not a URL', async () => {
    await assert.rejects(openStore({ databaseUrl: 'not a url', sqlitePath: 'unused' }), /DATABASE_URL is not a valid URL/);
  });

  it('names DOCKREV_DB_PATH when the SQLite file is not a database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockrev-store-'));
    try {
      const path = join(dir, 'garbage.sqlite3');
      writeFileSync(path, 'this is not a database file, but it is long enough to have a header'.repeat(20));
      await assert.rejects(openStore({ sqlitePath: path }), /DOCKREV_DB_PATH/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function service(name: string, tag = 'latest'): NewService {
  return { name, image: { ref: `ghcr.io/acme/${name}`, tag } };
}

function defineStoreSuite(engineName: string, makeEngine: () => Engine): void {
  describe(`store on ${engineName}`, () => {
    let engine: Engine;
    let store: Store;

    before(async () => {
      engine = makeEngine();
      store = await openStore(engine.options);
    });

    after(async () => {
      if (store) await engine.dispose(store);
    });

    beforeEach(async () => {
      for (const table of TABLES_CHILD_FIRST) await store.knex(table).delete();
    });

    it('enforces foreign keys (and runs SQLite in WAL mode)', async () => {
      await assert.rejects(
        store.knex('services').insert({
          id: 'svc_orphan',
          stack_id: 'stk_missing',
          name: 'x',
          image_ref: 'x',
          image_tag: 'x',
          backup_targets: '{}',
          created_at: 'x',
          updated_at: 'x',
        }),
      );
      if (engineName === 'sqlite') {
        const [{ journal_mode }] = await store.knex.raw('pragma journal_mode');
        assert.equal(journal_mode, 'wal');
      }
    });

    describe('stacks', () => {
      it('creates a stack with its services and reads it back with booleans and defaults', async () => {
        const created = await store.stacks.create({
          name: 'demo',
          compose: { type: 'path', composeFiles: ['/srv/demo/compose.yml'], envFile: '/srv/demo/.env' },
          services: [service('web'), { ...service('db', '16'), homepage: { name: 'DB' } }],
        });
        assert.match(created.id, /^stk_[0-9A-Z]{26}$/);
        const stack = await store.stacks.getWithServices(created.id);
        assert.ok(stack);
        assert.equal(stack.archived, false);
        assert.equal(stack.archivedAt, undefined);
        assert.deepEqual(stack.compose, { type: 'path', composeFiles: ['/srv/demo/compose.yml'], envFile: '/srv/demo/.env' });
        assert.deepEqual(stack.backup, { targets: [], retention: { keepLast: 1, deleteAfterStableSeconds: 3600 } });
        assert.deepEqual(
          stack.services.map((s) => [s.name, s.image.ref, s.image.tag]),
          [
            ['db', 'ghcr.io/acme/db', '16'],
            ['web', 'ghcr.io/acme/web', 'latest'],
          ],
        );
        const web = stack.services[1];
        assert.match(web.id, /^svc_/);
        assert.equal(web.archived, false);
        assert.deepEqual(web.settings, { autoRollback: true, backupTargets: { bindPaths: {}, volumeNames: {} } });
        assert.equal(web.candidate, undefined);
        assert.deepEqual(stack.services[0].homepage, { name: 'DB' });
        assert.equal(await store.stacks.getWithServices('stk_unknown'), undefined);
      });

      it('lists by archived filter, newest first, with service, archived and update counts', async () => {
        const older = await store.stacks.create({
          name: 'older',
          compose: { type: 'path', composeFiles: ['/srv/older/compose.yml'] },
          services: [service('updatable'), service('mismatched'), service('archived'), service('ignored'), service('current')],
        });
        await sleep(5);
        const newer = await store.stacks.create({ name: 'newer', compose: { type: 'path', composeFiles: [] }, services: [] });
        await sleep(5);
        const archived = await store.stacks.create({ name: 'archived', compose: { type: 'path', composeFiles: [] }, services: [service('x')] });
        assert.equal(await store.stacks.setArchived(archived.id, true), true);

        const byName = new Map(older.services.map((s) => [s.name, s.id]));
        const candidate = { tag: 'latest', digest: 'sha256:new', archMatch: 'match' as const, arch: ['linux/amd64'] };
        await store.services.updateState(byName.get('updatable')!, { candidate });
        await store.services.updateState(byName.get('mismatched')!, { candidate: { ...candidate, archMatch: 'mismatch' } });
        await store.services.updateState(byName.get('archived')!, { candidate });
        await store.services.setArchived(byName.get('archived')!, true);
        await store.services.updateState(byName.get('ignored')!, {
          candidate,
          ignore: { matched: true, ruleId: 'ign_1', reason: 'matched ignore rule for tag latest' },
        });

        const active = await store.stacks.list();
        assert.deepEqual(
          active.map((s) => s.name),
          ['newer', 'older'],
        );
        const olderItem = active[1];
        assert.equal(olderItem.serviceCount, 5);
        assert.equal(olderItem.archivedServiceCount, 1);
        assert.equal(olderItem.updateCount, 1);
        assert.equal(olderItem.archived, false);
        assert.deepEqual([active[0].serviceCount, active[0].archivedServiceCount, active[0].updateCount], [0, 0, 0]);

        assert.deepEqual(
          (await store.stacks.list('include')).map((s) => s.name),
          ['archived', 'newer', 'older'],
        );
        const only = await store.stacks.list('only');
        assert.deepEqual(
          only.map((s) => [s.id, s.archived, s.archivedReason, s.serviceCount]),
          [[archived.id, true, 'user_archive', 1]],
        );
        assert.equal(newer.archived, false);
      });

      it('archives idempotently, restores, and reports unknown ids', async () => {
        const stack = await store.stacks.create({ name: 'demo', compose: { type: 'path', composeFiles: [] }, services: [] });
        assert.equal(await store.stacks.setArchived(stack.id, true), true);
        const first = await store.stacks.get(stack.id);
        await sleep(5);
        assert.equal(await store.stacks.setArchived(stack.id, true), true);
        const second = await store.stacks.get(stack.id);
        assert.equal(second?.archived, true);
        assert.equal(second?.archivedReason, 'user_archive');
        assert.equal(second?.archivedAt, first?.archivedAt);

        assert.equal(await store.stacks.setArchived(stack.id, false), true);
        const restored = await store.stacks.get(stack.id);
        assert.equal(restored?.archived, false);
        assert.equal(restored?.archivedAt, undefined);
        assert.equal(restored?.archivedReason, undefined);

        assert.equal(await store.stacks.setArchived('stk_unknown', true), false);
        assert.equal(await store.stacks.setArchived('stk_unknown', false), false);
      });

      it('records lastCheckAt', async () => {
        const stack = await store.stacks.create({ name: 'demo', compose: { type: 'path', composeFiles: [] }, services: [] });
        assert.equal(stack.lastCheckAt, undefined);
        assert.equal(await store.stacks.setLastCheckAt(stack.id, '2026-03-05T08:00:00.000Z'), true);
        assert.equal((await store.stacks.get(stack.id))?.lastCheckAt, '2026-03-05T08:00:00.000Z');
        assert.equal(await store.stacks.setLastCheckAt('stk_unknown'), false);
      });

      it('syncs services for discovery: adds, updates, removes, and forgets state of a changed image', async () => {
        const stack = await store.stacks.create({
          name: 'demo',
          compose: { type: 'path', composeFiles: ['/srv/a.yml'] },
          services: [service('web'), service('worker'), service('old')],
        });
        const ids = new Map(stack.services.map((s) => [s.name, s.id]));
        const candidate = { tag: 'latest', digest: 'sha256:c', archMatch: 'match' as const, arch: [] };
        await store.services.updateState(ids.get('web')!, { digest: 'sha256:a', candidate });
        await store.services.updateState(ids.get('worker')!, { digest: 'sha256:b', candidate });

        const result = await store.stacks.syncServices(stack.id, { type: 'path', composeFiles: ['/srv/a.yml', '/srv/b.yml'] }, [
          service('web'),
          service('worker', '2'),
          service('new'),
        ]);
        assert.ok(result);
        assert.deepEqual(result.updated, [ids.get('worker')]);
        assert.deepEqual(result.removed, [ids.get('old')]);
        assert.equal(result.added.length, 1);

        const synced = await store.stacks.getWithServices(stack.id);
        assert.deepEqual(synced?.compose.composeFiles, ['/srv/a.yml', '/srv/b.yml']);
        assert.deepEqual(
          synced?.services.map((s) => s.name),
          ['new', 'web', 'worker'],
        );
        const web = synced!.services.find((s) => s.name === 'web')!;
        const worker = synced!.services.find((s) => s.name === 'worker')!;
        assert.equal(web.id, ids.get('web'));
        assert.equal(web.image.digest, 'sha256:a');
        assert.deepEqual(web.candidate, candidate);
        assert.equal(worker.id, ids.get('worker'));
        assert.equal(worker.image.tag, '2');
        assert.equal(worker.image.digest, undefined);
        assert.equal(worker.candidate, undefined);

        assert.equal(await store.stacks.syncServices('stk_unknown', { type: 'path', composeFiles: [] }, []), undefined);
      });
    });

    describe('write counters', () => {
      it('grow after every write to a watched table, from any repository or a raw statement, and never on reads', async () => {
        const version = () => store.changes.version('stacks', 'services');
        let seen = version();
        const grows = async (what: string, write: () => Promise<unknown>) => {
          await write();
          const now = version();
          assert.ok(now > seen, `${what} did not move the counter`);
          seen = now;
        };
        let stackId = '';
        await grows('stacks.create', async () => (stackId = (await store.stacks.create({ name: 'counted', compose: { type: 'path', composeFiles: ['/c.yml'] }, services: [service('web')] })).id));
        const [web] = await store.services.listByStack(stackId);
        await grows('stacks.setArchived', () => store.stacks.setArchived(stackId, true));
        await grows('stacks.setLastCheckAt', () => store.stacks.setLastCheckAt(stackId));
        await grows('services.updateStates', () => store.services.updateStates([{ id: web!.id, patch: { checkedAt: '2026-01-01T00:00:00.000Z' } }]));
        await grows('services.putSettings', () => store.services.putSettings(web!.id, { autoRollback: false, backupTargets: { bindPaths: {}, volumeNames: {} } }));
        await grows('stacks.syncServices', () => store.stacks.syncServices(stackId, { type: 'path', composeFiles: ['/c.yml'] }, [service('web'), service('db')]));
        await grows('a raw update', () => store.knex.raw('update services set updated_at = ? where stack_id = ?', ['2026-01-02T00:00:00.000Z', stackId]));
        const rule = await store.ignoreRules.create({ scope: { type: 'service', serviceId: web!.id }, match: { kind: 'exact', value: '1' } });
        await grows('ignoreRules.delete (clears ignores on services)', () => store.ignoreRules.delete(rule.id));

        await store.stacks.list('include');
        await store.stacks.getWithServices(stackId);
        await store.services.list();
        await store.knex.raw('select count(*) from services');
        await store.jobs.create({ id: 'job_counted', type: 'check', scope: 'all', status: 'running', createdBy: 't', reason: 'ui' });
        assert.equal(version(), seen, 'reads and writes of other tables leave the counter alone');
        assert.throws(() => store.changes.version('jobs'), /not watched/);
        assert.equal(store.changes.shared, engineName === 'postgres');
      });
    });

    describe('services', () => {
      it('lists the distinct image tags of all services, a stack or a service', async () => {
        const one = await store.stacks.create({ name: 'one', compose: { type: 'path', composeFiles: [] }, services: [service('a'), service('b', '2'), { name: 'c', image: { ref: 'ghcr.io/acme/a', tag: 'latest' } }] });
        const two = await store.stacks.create({ name: 'two', compose: { type: 'path', composeFiles: [] }, services: [service('a', '1')] });
        const sorted = (tags: { ref: string; tag: string }[]) => tags.map(({ ref, tag }) => `${ref}:${tag}`).sort();
        assert.deepEqual(sorted(await store.services.imageTags()), ['ghcr.io/acme/a:1', 'ghcr.io/acme/a:latest', 'ghcr.io/acme/b:2']);
        assert.deepEqual(sorted(await store.services.imageTags({ stackId: one.id })), ['ghcr.io/acme/a:latest', 'ghcr.io/acme/b:2']);
        assert.deepEqual(sorted(await store.services.imageTags({ serviceId: two.services[0]!.id })), ['ghcr.io/acme/a:1']);
        assert.deepEqual(await store.services.imageTags({ serviceId: 'svc_unknown' }), []);
      });

      it('gets, lists by stack, archives and restores', async () => {
        const stack = await store.stacks.create({ name: 'demo', compose: { type: 'path', composeFiles: [] }, services: [service('b'), service('a')] });
        const listed = await store.services.listByStack(stack.id);
        assert.deepEqual(
          listed.map((s) => s.name),
          ['a', 'b'],
        );
        const [a] = listed;
        assert.equal((await store.services.get(a.id))?.stackId, stack.id);
        assert.equal(await store.services.get('svc_unknown'), undefined);

        assert.equal(await store.services.setArchived(a.id, true), true);
        const archived = await store.services.get(a.id);
        assert.equal(archived?.archived, true);
        assert.equal(archived?.archivedReason, 'user_archive');
        assert.ok(archived?.archivedAt);
        assert.deepEqual(
          (await store.services.list('only')).map((s) => s.id),
          [a.id],
        );
        assert.equal(await store.services.setArchived(a.id, false), true);
        assert.equal((await store.services.get(a.id))?.archived, false);
        assert.equal(await store.services.setArchived('svc_unknown', true), false);
        assert.equal(await store.services.setArchived('svc_unknown', false), false);
      });

      it('replaces settings', async () => {
        const stack = await store.stacks.create({ name: 'demo', compose: { type: 'path', composeFiles: [] }, services: [service('web')] });
        const id = stack.services[0].id;
        const settings = {
          autoRollback: false,
          backupTargets: { bindPaths: { '/srv/data': 'inherit' as const }, volumeNames: { demo_db: 'force' as const } },
        };
        assert.equal(await store.services.putSettings(id, settings), true);
        assert.deepEqual(await store.services.getSettings(id), settings);
        assert.equal(await store.services.putSettings('svc_unknown', settings), false);
        assert.equal(await store.services.getSettings('svc_unknown'), undefined);
      });

      it('writes and clears digest, resolved tags, candidate, ignore and checkedAt', async () => {
        const stack = await store.stacks.create({ name: 'demo', compose: { type: 'path', composeFiles: [] }, services: [service('web')] });
        const id = stack.services[0].id;
        const candidate = { tag: 'latest', resolvedTag: '5.4.0', digest: 'sha256:new', archMatch: 'unknown' as const, arch: ['linux/amd64', 'linux/arm64'] };
        const ignore = { matched: true as const, ruleId: 'ign_1', reason: 'matched ignore rule for tag latest' };
        await store.services.updateState(id, {
          digest: 'sha256:old',
          resolvedTag: '5.3.0',
          resolvedTags: ['5.3.0', '5.3'],
          candidate,
          ignore,
          checkedAt: '2026-03-05T08:00:00.000Z',
        });
        let web = await store.services.get(id);
        assert.deepEqual(web?.image, { ref: 'ghcr.io/acme/web', tag: 'latest', digest: 'sha256:old', resolvedTag: '5.3.0', resolvedTags: ['5.3.0', '5.3'] });
        assert.deepEqual(web?.candidate, candidate);
        assert.deepEqual(web?.ignore, ignore);
        assert.equal(web?.checkedAt, '2026-03-05T08:00:00.000Z');

        await store.services.updateState(id, { digest: 'sha256:new', candidate: null, ignore: null, resolvedTags: null });
        web = await store.services.get(id);
        assert.deepEqual(web?.image, { ref: 'ghcr.io/acme/web', tag: 'latest', digest: 'sha256:new', resolvedTag: '5.3.0' });
        assert.equal(web?.candidate, undefined);
        assert.equal(web?.ignore, undefined);
        assert.equal(web?.checkedAt, '2026-03-05T08:00:00.000Z');
        assert.equal(await store.services.updateState('svc_unknown', { digest: 'sha256:x' }), false);
      });

      it('writes the patches of a check at once: checkedAt-only ones together, others one by one', async () => {
        const stack = await store.stacks.create({ name: 'batch', compose: { type: 'path', composeFiles: [] }, services: [service('a'), service('b'), service('c')] });
        const [a, b, c] = stack.services.map((entry) => entry.id);
        const at = '2026-03-05T09:00:00.000Z';
        await store.services.updateStates([
          { id: a!, patch: { checkedAt: at } },
          { id: b!, patch: { checkedAt: at } },
          { id: c!, patch: { checkedAt: at, digest: 'sha256:c' } },
        ]);
        const [first, second, third] = await Promise.all([a, b, c].map((id) => store.services.get(id!)));
        assert.deepEqual([first?.checkedAt, second?.checkedAt, third?.checkedAt], [at, at, at]);
        assert.equal(first?.image.digest, undefined);
        assert.equal(third?.image.digest, 'sha256:c');
        await store.services.updateStates([]);
      });
    });

    describe('discovery projects', () => {
      it('upserts, filters, archives by name, un-archives when seen active, marks missing once', async () => {
        const stack = await store.stacks.create({ name: 'demo', compose: { type: 'path', composeFiles: [] }, services: [] });
        const seen = await store.discoveryProjects.upsert({
          project: 'demo',
          status: 'active',
          stackId: stack.id,
          configFiles: ['/srv/demo/compose.yml'],
          lastSeenAt: '2026-03-05T08:00:00.000Z',
          lastScanAt: '2026-03-05T08:00:00.000Z',
        });
        assert.deepEqual(
          [seen.project, seen.status, seen.stackId, seen.configFiles, seen.archived],
          ['demo', 'active', stack.id, ['/srv/demo/compose.yml'], false],
        );
        await store.discoveryProjects.upsert({ project: 'broken', status: 'invalid', lastError: 'config_files_missing' });

        assert.equal(await store.discoveryProjects.setArchived('demo', true), true);
        assert.equal(await store.discoveryProjects.setArchived('nope', true), false);
        assert.equal(await store.discoveryProjects.setArchived('nope', false), false);
        assert.deepEqual(
          (await store.discoveryProjects.list()).map((p) => p.project),
          ['broken'],
        );
        assert.deepEqual(
          (await store.discoveryProjects.list('only')).map((p) => [p.project, p.archived, p.archivedReason]),
          [['demo', true, 'user_archive']],
        );
        assert.equal((await store.discoveryProjects.list('include')).length, 2);

        // Seen active again: un-archived, and fields not given keep their values.
        const again = await store.discoveryProjects.upsert({ project: 'demo', status: 'active', lastScanAt: '2026-03-05T09:00:00.000Z' });
        assert.equal(again.archived, false);
        assert.equal(again.archivedReason, undefined);
        assert.deepEqual(again.configFiles, ['/srv/demo/compose.yml']);
        assert.equal(again.lastScanAt, '2026-03-05T09:00:00.000Z');
        assert.equal(again.stackId, stack.id);

        assert.deepEqual((await store.discoveryProjects.markMissing(['demo', 'broken'])).sort(), ['broken', 'demo']);
        assert.deepEqual(await store.discoveryProjects.markMissing(['demo']), []);
        assert.equal((await store.discoveryProjects.get('demo'))?.status, 'missing');

        assert.equal(await store.discoveryProjects.archiveMissing(), 2);
        const demo = await store.discoveryProjects.get('demo');
        assert.equal(demo?.archived, true);
        assert.equal(demo?.archivedReason, 'auto_archive_on_restart');
        assert.equal(await store.discoveryProjects.archiveMissing(), 0);
      });
    });

    describe('jobs', () => {
      const job = (id: string, extra: Partial<NewJob> = {}): NewJob => ({
        id,
        type: 'check',
        scope: 'all',
        status: 'running',
        createdBy: 'ops',
        reason: 'ui',
        ...extra,
      });

      it('creates and reads a job with typed booleans and defaults', async () => {
        const created = await store.jobs.create(
          job('chk_1', { scope: 'stack', stackId: 'stk_1', startedAt: '2026-03-05T08:00:00.000Z', summary: { mode: 'apply' } }),
        );
        assert.equal(created.allowArchMismatch, false);
        assert.equal(created.backupMode, 'inherit');
        assert.deepEqual(created.summary, { mode: 'apply' });
        assert.equal(created.serviceId, undefined);
        assert.equal(created.finishedAt, undefined);
        const update = await store.jobs.create(job('job_2', { type: 'update', allowArchMismatch: true, backupMode: 'skip' }));
        assert.equal(update.allowArchMismatch, true);
        assert.equal(update.backupMode, 'skip');
        assert.equal(await store.jobs.get('job_unknown'), undefined);
      });

      it('pages newest first across createdAt ties with an opaque cursor and filters', async () => {
        const times = ['2026-03-05T08:00:00.000Z', '2026-03-05T08:00:01.000Z', '2026-03-05T08:00:02.000Z'];
        const ids: string[] = [];
        for (let i = 0; i < 7; i += 1) {
          const id = `job_${String(i).padStart(2, '0')}`;
          ids.push(id);
          await store.jobs.create(
            job(id, {
              createdAt: times[i % 3],
              type: i % 2 === 0 ? 'check' : 'update',
              status: i < 2 ? 'success' : 'running',
              stackId: i === 3 ? 'stk_a' : undefined,
              serviceId: i === 4 ? 'svc_a' : undefined,
            }),
          );
        }
        const expected = ids
          .map((id, i) => ({ id, createdAt: times[i % 3] }))
          .sort((x, y) => (x.createdAt === y.createdAt ? (x.id < y.id ? 1 : -1) : x.createdAt < y.createdAt ? 1 : -1))
          .map((j) => j.id);

        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.jobs.list({ limit: 3, cursor });
          seen.push(...page.jobs.map((j) => j.id));
          cursor = page.nextCursor;
          pages += 1;
          if (cursor) assert.match(cursor, /^[A-Za-z0-9_-]+$/);
        } while (cursor);
        assert.equal(pages, 3);
        assert.deepEqual(seen, expected);

        const exact = await store.jobs.list({ limit: 7 });
        assert.equal(exact.jobs.length, 7);
        assert.equal(exact.nextCursor, undefined);

        assert.deepEqual(
          (await store.jobs.list({ types: ['update'] })).jobs.map((j) => j.type),
          ['update', 'update', 'update'],
        );
        assert.equal((await store.jobs.list({ types: ['check', 'update'] })).jobs.length, 7);
        assert.deepEqual((await store.jobs.list({ status: 'success' })).jobs.map((j) => j.id).sort(), ['job_00', 'job_01']);
        assert.deepEqual(
          (await store.jobs.list({ stackId: 'stk_a' })).jobs.map((j) => j.id),
          ['job_03'],
        );
        assert.deepEqual(
          (await store.jobs.list({ serviceId: 'svc_a' })).jobs.map((j) => j.id),
          ['job_04'],
        );
        const filteredPage = await store.jobs.list({ types: ['check'], limit: 2 });
        assert.equal(filteredPage.jobs.length, 2);
        const rest = await store.jobs.list({ types: ['check'], limit: 2, cursor: filteredPage.nextCursor });
        assert.deepEqual(
          [...filteredPage.jobs, ...rest.jobs].map((j) => j.id),
          expected.filter((id) => Number(id.slice(4)) % 2 === 0),
        );
      });

      it('rejects garbage cursors and out-of-range limits', async () => {
        const cursor = encodeJobsCursor({ createdAt: '2026-03-05T08:00:00.000Z', id: 'job_1' });
        assert.deepEqual(decodeJobsCursor(cursor), { createdAt: '2026-03-05T08:00:00.000Z', id: 'job_1' });
        assert.doesNotMatch(cursor, /=/);
        for (const garbage of ['not a cursor!', '', Buffer.from('not json').toString('base64url'), Buffer.from('{"id":"x"}').toString('base64url'), Buffer.from('null').toString('base64url')]) {
          assert.throws(() => decodeJobsCursor(garbage), InvalidJobsCursorError, garbage);
        }
        await assert.rejects(store.jobs.list({ cursor: 'bad cursor' }), (error: unknown) => {
          assert.ok(error instanceof InvalidJobsCursorError);
          assert.equal(error.code, 'invalid_jobs_cursor');
          return true;
        });
        await assert.rejects(store.jobs.list({ limit: 0 }), RangeError);
        await assert.rejects(store.jobs.list({ limit: 201 }), RangeError);
        assert.equal((await store.jobs.list({ limit: 200 })).jobs.length, 0);
      });

      it('keeps progress when a summary without progress is written', async () => {
        await store.jobs.create(job('chk_p'));
        const progress = { phase: 'scanning', message: 'checking services (1/2)', current: 1, total: 2, percent: 50, updatedAt: '2026-03-05T08:00:00.000Z' };
        assert.equal(await store.jobs.update('chk_p', { progress }), true);
        assert.deepEqual((await store.jobs.get('chk_p'))?.summary, { progress });

        assert.equal(
          await store.jobs.update('chk_p', { status: 'success', summary: { servicesChecked: 2 }, finishedAt: '2026-03-05T08:01:00.000Z' }),
          true,
        );
        let finished = await store.jobs.get('chk_p');
        assert.equal(finished?.status, 'success');
        assert.equal(finished?.finishedAt, '2026-03-05T08:01:00.000Z');
        assert.deepEqual(finished?.progress, progress);
        assert.deepEqual(finished?.summary, { servicesChecked: 2, progress });

        const done = { ...progress, phase: 'done', current: 2, percent: 100 };
        await store.jobs.update('chk_p', { summary: { servicesChecked: 2, progress: done } });
        finished = await store.jobs.get('chk_p');
        assert.deepEqual(finished?.progress, done);

        assert.equal(await store.jobs.mergeSummary('chk_p', { source: 'github_webhook' }), true);
        assert.deepEqual((await store.jobs.get('chk_p'))?.summary, { servicesChecked: 2, source: 'github_webhook', progress: done });
        assert.equal(await store.jobs.update('job_unknown', { status: 'failed' }), false);
        assert.equal(await store.jobs.mergeSummary('job_unknown', {}), false);
      });

      it('appends logs with growing ids and reads them after a cursor', async () => {
        assert.equal(await store.jobs.lastLogId('chk_a'), 0);
        await store.jobs.create(job('chk_a'));
        await store.jobs.create(job('chk_b'));
        assert.equal(await store.jobs.lastLogId('chk_a'), 0);

        const ids: number[] = [];
        ids.push(await store.jobs.appendLog('chk_a', 'info', 'check started'));
        ids.push(await store.jobs.appendLog('chk_b', 'event', '{"type":"job_progress","n":1}'));
        ids.push(await store.jobs.appendLog('chk_a', 'event', '{"type":"job_progress","n":2}'));
        ids.push(await store.jobs.appendLog('chk_a', 'warn', 'slow registry'));
        for (let i = 1; i < ids.length; i += 1) assert.ok(ids[i] > ids[i - 1], `log ids grow: ${ids.join(',')}`);

        const concurrent = await Promise.all(Array.from({ length: 20 }, (_, i) => store.jobs.appendLog('chk_b', 'info', `line ${i}`)));
        assert.equal(new Set(concurrent).size, 20);
        assert.ok(Math.min(...concurrent) > ids[3]);

        const all = await store.jobs.listLogs('chk_a');
        assert.deepEqual(
          all.map((l) => [l.id, l.level, l.msg]),
          [
            [ids[0], 'info', 'check started'],
            [ids[2], 'event', '{"type":"job_progress","n":2}'],
            [ids[3], 'warn', 'slow registry'],
          ],
        );
        assert.ok(all.every((l) => l.jobId === 'chk_a' && /^\d{4}-\d\d-\d\dT.*Z$/.test(l.ts)));
        assert.deepEqual(
          (await store.jobs.listLogs('chk_a', ids[0])).map((l) => l.id),
          [ids[2], ids[3]],
        );
        assert.deepEqual(
          (await store.jobs.listLogs('chk_a', 0, 1)).map((l) => l.id),
          [ids[0]],
        );

        assert.deepEqual(
          (await store.jobs.listEventLogsAfter(0)).map((l) => [l.jobId, l.id]),
          [
            ['chk_b', ids[1]],
            ['chk_a', ids[2]],
          ],
        );
        assert.deepEqual(
          (await store.jobs.listEventLogsAfter(ids[1])).map((l) => l.id),
          [ids[2]],
        );
        assert.equal(await store.jobs.lastLogId('chk_a'), ids[3]);
        assert.equal(await store.jobs.globalLastLogId(), Math.max(...concurrent));
      });

      it('tells subscribers about each appended log row once it is stored, until they unsubscribe', async () => {
        await store.jobs.create(job('chk_n'));
        const seen: [string, number, string][] = [];
        const stored: Promise<number | undefined>[] = [];
        // The throwing listener comes first: neither appendLog nor the next listener may suffer from it.
        const throwing = store.jobs.onLogAppended(() => {
          throw new Error('listener bug');
        });
        const unsubscribe = store.jobs.onLogAppended((jobId, logId, level) => {
          seen.push([jobId, logId, level]);
          stored.push(store.jobs.listLogs(jobId, logId - 1, 1).then((rows) => rows[0]?.id));
        });
        const first = await store.jobs.appendLog('chk_n', 'info', 'started');
        const second = await store.jobs.appendLog('chk_n', 'event', '{"type":"job_progress"}');
        unsubscribe();
        throwing();
        await store.jobs.appendLog('chk_n', 'info', 'after unsubscribe');
        assert.deepEqual(seen, [
          ['chk_n', first, 'info'],
          ['chk_n', second, 'event'],
        ]);
        assert.deepEqual(await Promise.all(stored), [first, second], 'the row is readable when the listener runs');
      });

      it('finds running jobs by type, scope and target', async () => {
        await store.jobs.create(job('chk_svc', { scope: 'service', stackId: 'stk_1', serviceId: 'svc_1' }));
        await store.jobs.create(job('chk_stack', { scope: 'stack', stackId: 'stk_1' }));
        await store.jobs.create(job('chk_done', { scope: 'stack', stackId: 'stk_2', status: 'success' }));
        await store.jobs.create(job('dsc_q', { type: 'discovery', status: 'queued' }));

        assert.equal((await store.jobs.findRunning('check', 'service', undefined, 'svc_1'))?.id, 'chk_svc');
        assert.equal((await store.jobs.findRunning('check', 'stack', 'stk_1'))?.id, 'chk_stack');
        assert.equal(await store.jobs.findRunning('check', 'stack', 'stk_2'), undefined);
        assert.equal(await store.jobs.findRunning('check', 'all'), undefined);
        assert.equal(await store.jobs.findRunning('runtime_scan', 'stack', 'stk_1'), undefined);
        assert.equal(await store.jobs.findRunning('discovery', 'all'), undefined);
        assert.equal((await store.jobs.findActive({ type: 'discovery' }))?.id, 'dsc_q');
      });

      it('fails interrupted running jobs and leaves queued ones', async () => {
        await store.jobs.create(job('chk_r1', { summary: { scope: 'all' } }));
        await store.jobs.create(job('job_r2', { type: 'update' }));
        await store.jobs.create(job('job_q', { type: 'github_packages_webhook', status: 'queued' }));
        await store.jobs.create(job('chk_ok', { status: 'success' }));

        assert.equal(await store.jobs.failInterruptedJobs('server_restart'), 2);
        const failed = await store.jobs.get('chk_r1');
        assert.equal(failed?.status, 'failed');
        assert.ok(failed?.finishedAt);
        assert.deepEqual(failed?.summary, { scope: 'all', terminated: { reason: 'server_restart' } });
        assert.equal((await store.jobs.get('job_r2'))?.status, 'failed');
        const queued = await store.jobs.get('job_q');
        assert.equal(queued?.status, 'queued');
        assert.equal(queued?.finishedAt, undefined);
        assert.equal((await store.jobs.get('chk_ok'))?.status, 'success');
        assert.equal(await store.jobs.failInterruptedJobs('server_restart'), 0);

        assert.equal(await store.jobs.terminate('job_q', 'stale_check'), true);
        assert.equal(await store.jobs.terminate('job_q', 'stale_check'), false);
      });

      it('knows each running job\'s owner and when it last beat', async () => {
        await store.jobs.heartbeat('proc_alive', '2026-01-01T00:10:00.000Z');
        await store.jobs.heartbeat('proc_silent', '2026-01-01T00:00:00.000Z');
        await store.jobs.heartbeat('proc_alive', '2026-01-01T00:11:00.000Z');
        await store.jobs.create(job('chk_alive', { owner: 'proc_alive' }));
        await store.jobs.create(job('chk_silent', { owner: 'proc_silent' }));
        await store.jobs.create(job('chk_unowned'));
        await store.jobs.create(job('chk_done', { owner: 'proc_silent', status: 'success' }));
        await store.jobs.create(job('job_queued', { type: 'github_packages_webhook', status: 'queued' }));
        assert.equal(await store.jobs.claim('job_queued', 'proc_alive'), true);

        const running = new Map((await store.jobs.runningWithOwners()).map((entry) => [entry.job.id, entry]));
        assert.deepEqual([...running.keys()].sort(), ['chk_alive', 'chk_silent', 'chk_unowned', 'job_queued']);
        assert.deepEqual([running.get('chk_alive')?.owner, running.get('chk_alive')?.ownerSeenAt], ['proc_alive', '2026-01-01T00:11:00.000Z']);
        assert.deepEqual([running.get('chk_silent')?.owner, running.get('chk_silent')?.ownerSeenAt], ['proc_silent', '2026-01-01T00:00:00.000Z']);
        assert.deepEqual([running.get('chk_unowned')?.owner, running.get('chk_unowned')?.ownerSeenAt], [undefined, undefined]);
        assert.equal(running.get('job_queued')?.owner, 'proc_alive');

        // A silent owner with a running job is kept until the job is ended, then forgotten.
        assert.equal(await store.jobs.forgetOwnersSilentSince('2026-01-01T00:05:00.000Z'), 0);
        await store.jobs.terminate('chk_silent', 'owner_gone');
        assert.equal(await store.jobs.forgetOwnersSilentSince('2026-01-01T00:05:00.000Z'), 1);
        assert.equal((await store.jobs.runningWithOwners()).find((entry) => entry.job.id === 'chk_alive')?.ownerSeenAt, '2026-01-01T00:11:00.000Z');
        await store.jobs.retireOwner('proc_alive');
        assert.equal((await store.jobs.runningWithOwners()).find((entry) => entry.job.id === 'chk_alive')?.ownerSeenAt, undefined);
      });

      it('lets exactly one worker claim a queued job', async () => {
        await store.jobs.create(job('job_claim', { type: 'github_packages_webhook', status: 'queued' }));
        const claims = await Promise.all([1, 2, 3].map(() => store.jobs.claim('job_claim')));
        assert.deepEqual(claims.filter(Boolean).length, 1);
        const claimed = await store.jobs.get('job_claim');
        assert.equal(claimed?.status, 'running');
        assert.ok(claimed?.startedAt);
        assert.equal(await store.jobs.claim('job_claim'), false, 'a running job is not queued');
        assert.equal(await store.jobs.claim('job_none'), false);
      });
    });

    describe('ignore rules', () => {
      it('creates, lists newest first, lists enabled rules of a service, deletes', async () => {
        const first = await store.ignoreRules.create({
          scope: { type: 'service', serviceId: 'svc_1' },
          match: { kind: 'prefix', value: '5.3.' },
          note: 'skip 5.3',
        });
        await sleep(5);
        const disabled = await store.ignoreRules.create({ enabled: false, scope: { type: 'service', serviceId: 'svc_1' }, match: { kind: 'exact', value: 'x' } });
        await sleep(5);
        const other = await store.ignoreRules.create({ scope: { type: 'service', serviceId: 'svc_2' }, match: { kind: 'regex', value: '^rc' }, note: null });

        assert.match(first.id, /^ign_[0-9A-Z]{26}$/);
        assert.equal(first.enabled, true);
        assert.equal(other.note, undefined);
        const listed = await store.ignoreRules.list();
        assert.deepEqual(
          listed.map((r) => r.id),
          [other.id, disabled.id, first.id],
        );
        assert.deepEqual(listed[2], first);
        assert.equal(listed[1].enabled, false);
        assert.deepEqual(
          (await store.ignoreRules.listEnabledForService('svc_1')).map((r) => r.id),
          [first.id],
        );

        assert.equal(await store.ignoreRules.delete(first.id), true);
        assert.equal(await store.ignoreRules.delete(first.id), false);
        assert.equal(await store.ignoreRules.get(first.id), undefined);
        assert.equal((await store.ignoreRules.list()).length, 2);
      });

      it('deleting a rule clears the ignore mark it left on services', async () => {
        const stack = await store.stacks.create({ name: 'demo', compose: { type: 'path', composeFiles: [] }, services: [service('web')] });
        const serviceId = stack.services[0].id;
        const rule = await store.ignoreRules.create({ scope: { type: 'service', serviceId }, match: { kind: 'exact', value: 'latest' } });
        await store.services.updateState(serviceId, {
          candidate: { tag: 'latest', digest: 'sha256:n', archMatch: 'match', arch: [] },
          ignore: { matched: true, ruleId: rule.id, reason: 'matched ignore rule for tag latest' },
        });
        assert.equal((await store.stacks.list())[0].updateCount, 0);
        await store.ignoreRules.delete(rule.id);
        assert.equal((await store.services.get(serviceId))?.ignore, undefined);
        assert.equal((await store.stacks.list())[0].updateCount, 1);
      });
    });

    describe('settings documents', () => {
      it('return defaults, then persist across closing and reopening the store', async () => {
        assert.deepEqual(await store.settings.getSystem(), DEFAULT_SYSTEM_SETTINGS);
        assert.deepEqual(await store.settings.getDeployWelcome(), { neverAutoOpen: false, updatedAt: null });
        assert.deepEqual(await store.notifications.getSettings(), DEFAULT_NOTIFICATION_SETTINGS);
        assert.deepEqual(await store.githubPackages.getSettings(), { enabled: false, callbackUrl: '', pat: null, webhookSecret: null });

        const system = structuredClone(DEFAULT_SYSTEM_SETTINGS);
        system.backup.enabled = false;
        system.schedules.updateCheck = { enabled: true, cron: '0 * * * * *' };
        system.instance.publicBaseUrl = 'https://dockrev.example.com/';
        await store.settings.putSystem(system);
        const welcome = await store.settings.putDeployWelcome(true);
        assert.match(welcome.updatedAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        const notifications = {
          ...DEFAULT_NOTIFICATION_SETTINGS,
          webhook: { enabled: true, url: 'https://hooks.example/x' },
          telegram: { enabled: true, botToken: '123:abc', chatId: '-100' },
          events: { update: true, newVersion: false, ghcrWebhookAnomaly: true },
        };
        await store.notifications.putSettings(notifications);
        const github = { enabled: true, callbackUrl: 'https://dockrev.example.com/api/webhooks/github-packages', pat: 'ghp_example', webhookSecret: 'c2VjcmV0' };
        await store.githubPackages.putSettings(github);

        await store.close();
        store = await openStore(engine.options);

        assert.deepEqual(await store.settings.getSystem(), system);
        assert.deepEqual(await store.settings.getDeployWelcome(), welcome);
        assert.deepEqual(await store.notifications.getSettings(), notifications);
        assert.deepEqual(await store.githubPackages.getSettings(), github);
        assert.equal((await store.settings.getSystem()).backup.enabled, false);
      });
    });

    describe('web push subscriptions', () => {
      it('upserts by endpoint, lists oldest first, deletes', async () => {
        await store.notifications.upsertSubscription({ endpoint: 'https://push.example/a', keys: { p256dh: 'p1', auth: 'a1' } });
        await sleep(5);
        await store.notifications.upsertSubscription({ endpoint: 'https://push.example/b', keys: { p256dh: 'p2', auth: 'a2' } });
        const before = await store.notifications.listSubscriptions();
        await sleep(5);
        await store.notifications.upsertSubscription({ endpoint: 'https://push.example/a', keys: { p256dh: 'p3', auth: 'a3' } });

        const listed = await store.notifications.listSubscriptions();
        assert.deepEqual(
          listed.map((s) => [s.endpoint, s.keys.p256dh, s.keys.auth]),
          [
            ['https://push.example/a', 'p3', 'a3'],
            ['https://push.example/b', 'p2', 'a2'],
          ],
        );
        assert.equal(listed[0].createdAt, before[0].createdAt);
        assert.equal((await store.notifications.listSubscriptions(1)).length, 1);

        assert.equal(await store.notifications.deleteSubscription('https://push.example/a'), true);
        assert.equal(await store.notifications.deleteSubscription('https://push.example/a'), false);
        assert.deepEqual(
          (await store.notifications.listSubscriptions()).map((s) => s.endpoint),
          ['https://push.example/b'],
        );
      });

      it('records new-version notifications once per service and candidate digest', async () => {
        assert.equal(await store.notifications.getNewVersionNotification('svc_1', 'sha256:n'), undefined);
        await store.notifications.recordNewVersionNotification({ serviceId: 'svc_1', candidateDigest: 'sha256:n', jobId: 'chk_1', status: 'failed', error: 'webhook http 500' });
        await store.notifications.recordNewVersionNotification({ serviceId: 'svc_1', candidateDigest: 'sha256:n', jobId: 'chk_2', status: 'sent' });
        const record = await store.notifications.getNewVersionNotification('svc_1', 'sha256:n');
        assert.deepEqual([record?.status, record?.jobId, record?.error], ['sent', 'chk_2', undefined]);
      });

      it('reserves a new-version announcement for the first job only', async () => {
        const first = await Promise.all([
          store.notifications.reserveNewVersionNotification({ serviceId: 'svc_1', candidateDigest: 'sha256:r', jobId: 'chk_a' }),
          store.notifications.reserveNewVersionNotification({ serviceId: 'svc_1', candidateDigest: 'sha256:r', jobId: 'chk_b' }),
        ]);
        assert.deepEqual(first.sort(), [false, true], 'of two at once, one wins');
        assert.equal(await store.notifications.reserveNewVersionNotification({ serviceId: 'svc_1', candidateDigest: 'sha256:other', jobId: 'chk_c' }), true);
      });
    });

    describe('notification deliveries', () => {
      const at = (seconds: number) => new Date(Date.UTC(2026, 2, 5, 8, 0, seconds)).toISOString();
      const delivery = (id: string, channel: string, extra: Partial<{ kind: string; jobId: string; createdAt: string; claimedUntil: string }> = {}) => ({
        id,
        channel,
        kind: extra.kind ?? 'job_finished',
        maxAttempts: 4,
        jobId: 'jobId' in extra ? extra.jobId : 'job_1',
        title: `title ${id}`,
        payload: { schema: 'dockrev.notification.job.v2', human: { title: `title ${id}` } },
        createdAt: extra.createdAt ?? at(0),
        claimedUntil: extra.claimedUntil ?? at(30),
      });

      it('records deliveries, filters and pages them newest first', async () => {
        await store.notificationDeliveries.create([delivery('ntf_1', 'webhook'), delivery('ntf_2', 'telegram')]);
        await store.notificationDeliveries.create([delivery('ntf_3', 'webhook', { kind: 'notification_test', jobId: undefined, createdAt: at(5) })]);
        const all = await store.notificationDeliveries.list();
        assert.equal(all.total, 3);
        assert.deepEqual(all.deliveries.map((row) => row.id), ['ntf_3', 'ntf_2', 'ntf_1']);
        assert.deepEqual(all.deliveries[2], {
          id: 'ntf_1',
          channel: 'webhook',
          kind: 'job_finished',
          status: 'pending',
          attempts: 0,
          maxAttempts: 4,
          jobId: 'job_1',
          title: 'title ntf_1',
          payload: { schema: 'dockrev.notification.job.v2', human: { title: 'title ntf_1' } },
          createdAt: at(0),
          updatedAt: at(0),
          nextAttemptAt: at(0),
        });
        assert.deepEqual((await store.notificationDeliveries.list({ channel: 'webhook' })).deliveries.map((row) => row.id), ['ntf_3', 'ntf_1']);
        assert.equal((await store.notificationDeliveries.list({ kind: 'notification_test' })).total, 1);
        assert.equal((await store.notificationDeliveries.list({ jobId: 'job_1', status: 'pending' })).total, 2);
        const page = await store.notificationDeliveries.list({ page: 2, perPage: 2 });
        assert.deepEqual([page.total, page.deliveries.map((row) => row.id)], [3, ['ntf_1']]);
      });

      it('claims only due, unclaimed deliveries, once; an attempt releases the claim', async () => {
        await store.notificationDeliveries.create([delivery('ntf_a', 'webhook', { claimedUntil: at(30) }), delivery('ntf_b', 'slack', { claimedUntil: at(30) })]);
        assert.deepEqual(await store.notificationDeliveries.claimDue(at(10), at(40), 10), [], 'claimed by their creator');
        const after = await Promise.all([store.notificationDeliveries.claimDue(at(31), at(90), 10), store.notificationDeliveries.claimDue(at(31), at(90), 10)]);
        assert.deepEqual(after.flat().map((row) => row.id).sort(), ['ntf_a', 'ntf_b'], 'an expired claim is taken over, by one claimer each');

        const failed = await store.notificationDeliveries.recordAttempt('ntf_a', { at: at(32), status: 'pending', lastError: 'webhook http 500: x', nextAttemptAt: at(92) });
        assert.deepEqual([failed?.status, failed?.attempts, failed?.lastError, failed?.nextAttemptAt, failed?.lastAttemptAt], ['pending', 1, 'webhook http 500: x', at(92), at(32)]);
        const sent = await store.notificationDeliveries.recordAttempt('ntf_b', { at: at(33), status: 'sent' });
        assert.deepEqual([sent?.status, sent?.sentAt, sent?.nextAttemptAt, sent?.lastError], ['sent', at(33), undefined, undefined]);
        assert.deepEqual(await store.notificationDeliveries.claimDue(at(91), at(150), 10), [], 'not due yet');
        assert.deepEqual((await store.notificationDeliveries.claimDue(at(92), at(150), 10)).map((row) => row.id), ['ntf_a']);
      });
    });

    describe('github packages', () => {
      it('keeps targets', async () => {
        await store.githubPackages.upsertTarget({ input: 'acme', kind: 'owner', owner: 'acme', warnings: [] });
        await store.githubPackages.upsertTarget({ input: 'acme/web', kind: 'repo', owner: 'acme', warnings: ['w'] });
        assert.deepEqual(
          (await store.githubPackages.listTargets()).map((t) => t.input).sort(),
          ['acme', 'acme/web'],
        );
        assert.equal(await store.githubPackages.removeTarget('acme'), true);
        assert.equal(await store.githubPackages.removeTarget('acme'), false);
        await store.githubPackages.replaceTargets([{ input: 'other', kind: 'owner', owner: 'other', warnings: [] }]);
        assert.deepEqual(await store.githubPackages.listTargets(), [{ input: 'other', kind: 'owner', owner: 'other', warnings: [] }]);
      });

      it('tracks repos case-insensitively and pages, searches and filters them', async () => {
        const web = await store.githubPackages.upsertRepo('Acme', 'Web', true);
        assert.deepEqual([web.fullName, web.selected, web.webhookState], ['Acme/Web', true, 'unknown']);
        await store.githubPackages.updateRepo('acme/web', { webhookState: 'ok', hookId: 123456, lastOp: 'register', webhookJobId: 'job_1' });
        const again = await store.githubPackages.upsertRepo('acme', 'web', false);
        assert.deepEqual([again.fullName, again.selected, again.webhookState, again.hookId], ['Acme/Web', false, 'ok', 123456]);
        assert.equal(typeof again.hookId, 'number');

        for (const name of ['api', 'docs', 'web_ui', 'weblate']) await store.githubPackages.upsertRepo('acme', name, name !== 'docs');
        await store.githubPackages.upsertRepo('other', 'web', true);

        const firstPage = await store.githubPackages.listRepos({ page: 1, perPage: 2 });
        assert.deepEqual([firstPage.total, firstPage.filteredTotal, firstPage.selectedTotal], [6, 6, 4]);
        assert.deepEqual(
          firstPage.repos.map((r) => r.fullName),
          ['acme/api', 'acme/docs'],
        );
        assert.deepEqual(
          (await store.githubPackages.listRepos({ page: 3, perPage: 2 })).repos.map((r) => r.fullName),
          ['acme/weblate', 'other/web'],
        );
        const search = await store.githubPackages.listRepos({ q: 'WEB' });
        assert.deepEqual(
          search.repos.map((r) => r.fullName),
          ['Acme/Web', 'acme/web_ui', 'acme/weblate', 'other/web'],
        );
        assert.equal(search.filteredTotal, 4);
        // `_` is a literal, not a LIKE wildcard.
        assert.deepEqual(
          (await store.githubPackages.listRepos({ q: 'b_' })).repos.map((r) => r.fullName),
          ['acme/web_ui'],
        );
        assert.deepEqual(
          (await store.githubPackages.listRepos({ selectedFilter: 'unselected' })).repos.map((r) => r.fullName),
          ['acme/docs', 'Acme/Web'],
        );
        assert.equal((await store.githubPackages.listRepos({ perPage: 1000 })).repos.length, 6);

        assert.equal(await store.githubPackages.setSelectedWhere({ q: 'acme/', selectedFilter: 'unselected' }, true), 2);
        assert.equal((await store.githubPackages.listSelectedRepos()).length, 6);
        assert.equal(await store.githubPackages.deleteRepo('ACME/WEB'), true);
        assert.equal(await store.githubPackages.deleteRepo('acme/web'), false);
        assert.equal(await store.githubPackages.getRepo('acme/web'), undefined);
        assert.equal(await store.githubPackages.updateRepo('acme/web', { webhookState: 'error' }), false);
      });

      it('tracks listed repositories once, leaving tracked ones as they are, and clamps pages', async () => {
        await store.githubPackages.upsertRepo('acme', 'web', true);
        assert.equal(await store.githubPackages.trackRepos([{ owner: 'Acme', repo: 'Web' }, { owner: 'acme', repo: 'api' }, { owner: 'acme', repo: 'api' }]), 1);
        assert.deepEqual(
          (await store.githubPackages.listRepos()).repos.map((r) => [r.fullName, r.selected, r.webhookState]),
          [['acme/api', false, 'unknown'], ['acme/web', true, 'unknown']],
        );
        const page = await store.githubPackages.listRepos({ page: -3, perPage: 0 });
        assert.deepEqual([page.page, page.perPage, page.repos.length], [1, 1, 1]);
        assert.deepEqual([(await store.githubPackages.listRepos({ page: 1e15 })).page, (await store.githubPackages.listRepos({ page: 1e15 })).repos], [1_000_000, []]);
      });

      it('sums the webhook states of selected repositories and their latest audit', async () => {
        assert.deepEqual(await store.githubPackages.webhookStateSummary(), {
          tracked: 0,
          byState: { unknown: 0, queued: 0, running: 0, ok: 0, missing: 0, error: 0, conflict: 0 },
        });
        for (const [name, state, audit] of [['a', 'ok', '2026-03-01T00:00:00.000Z'], ['b', 'ok', '2026-03-02T00:00:00.000Z'], ['c', 'missing', null], ['d', 'conflict', '2026-03-03T00:00:00.000Z']] as const) {
          await store.githubPackages.upsertRepo('acme', name, true);
          await store.githubPackages.updateRepo(`acme/${name}`, { webhookState: state, lastAuditAt: audit });
        }
        await store.githubPackages.upsertRepo('acme', 'unselected', false);
        await store.githubPackages.updateRepo('acme/unselected', { webhookState: 'error', lastAuditAt: '2026-04-01T00:00:00.000Z' });
        assert.deepEqual(await store.githubPackages.webhookStateSummary(), {
          tracked: 4,
          byState: { unknown: 0, queued: 0, running: 0, ok: 2, missing: 1, error: 0, conflict: 1 },
          lastAuditAt: '2026-03-03T00:00:00.000Z',
        });
      });

      it('tells listeners about delivery events once they are committed, and knows the oldest one', async () => {
        const heard: number[] = [];
        const off = store.githubPackages.onDeliveryEvent((id) => heard.push(id));
        await store.githubPackages.recordDelivery({ deliveryId: 'h1', decision: 'ignored', reason: 'repo_not_selected' });
        await store.githubPackages.updateDelivery('h1', { responseStatus: 200 });
        off();
        await store.githubPackages.recordDelivery({ deliveryId: 'h2', decision: 'ignored' });
        await sleep(5);
        const events = await store.githubPackages.listDeliveryEventsAfter(0);
        assert.deepEqual(heard, events.slice(0, 2).map((event) => event.id));
        assert.equal(await store.githubPackages.firstDeliveryEventId(), events[0]!.id);
      });

      it('records deliveries once, counts repeated attempts and streams delivery events', async () => {
        const tail = await store.githubPackages.lastDeliveryEventId();
        const first = await store.githubPackages.recordDelivery({
          deliveryId: 'd1',
          event: 'package',
          action: 'published',
          owner: 'acme',
          repo: 'web',
          fullName: 'acme/web',
          decision: 'processed',
        });
        assert.equal(first.duplicate, false);
        assert.equal(first.delivery.attemptCount, 1);
        const updated = await store.githubPackages.updateDelivery('d1', { responseStatus: 200, jobId: 'chk_1', jobIds: ['chk_1'] });
        assert.deepEqual([updated?.responseStatus, updated?.jobIds], [200, ['chk_1']]);

        await sleep(5);
        const repeat = await store.githubPackages.recordDelivery({ deliveryId: 'd1', decision: 'ignored', reason: 'repo_not_selected' });
        assert.equal(repeat.duplicate, true);
        assert.equal(repeat.delivery.attemptCount, 2);
        assert.equal(repeat.delivery.decision, 'processed');
        assert.equal(repeat.delivery.firstReceivedAt, first.delivery.receivedAt);
        assert.ok(repeat.delivery.receivedAt > first.delivery.receivedAt);

        await store.githubPackages.recordDelivery({ deliveryId: 'd2', decision: 'rejected', reason: 'invalid_json', responseStatus: 400 });
        assert.equal(await store.githubPackages.updateDelivery('unknown', { decision: 'ignored' }), undefined);

        const events = await store.githubPackages.listDeliveryEventsAfter(tail);
        assert.deepEqual(
          events.map((e) => [e.deliveryId, e.delivery.attemptCount]),
          [
            ['d1', 1],
            ['d1', 1],
            ['d1', 2],
            ['d2', 1],
          ],
        );
        for (let i = 1; i < events.length; i += 1) assert.ok(events[i].id > events[i - 1].id);
        assert.equal(events[1].delivery.jobId, 'chk_1');
        assert.deepEqual(
          (await store.githubPackages.listDeliveryEventsAfter(events[2].id)).map((e) => e.deliveryId),
          ['d2'],
        );
        assert.equal(await store.githubPackages.lastDeliveryEventId(), events[3].id);

        const page = await store.githubPackages.listDeliveries();
        assert.deepEqual([page.total, page.filteredTotal], [2, 2]);
        assert.deepEqual(page.decisionCounts, { processed: 1, ignored: 0, rejected: 1 });
        assert.deepEqual(
          page.deliveries.map((d) => d.deliveryId),
          ['d2', 'd1'],
        );
        assert.deepEqual(
          (await store.githubPackages.listDeliveries({ decision: 'rejected' })).deliveries.map((d) => d.deliveryId),
          ['d2'],
        );
        const byJob = await store.githubPackages.listDeliveries({ q: 'CHK_1' });
        assert.deepEqual([byJob.filteredTotal, byJob.deliveries[0]?.deliveryId], [1, 'd1']);
        assert.equal((await store.githubPackages.getDelivery('d2'))?.responseStatus, 400);
      });
    });

    describe('snapshots and backups', () => {
      it('upserts and reads digest-tag snapshots and collects old ones', async () => {
        const key = { imageRepo: 'ghcr.io/acme/web', digest: 'sha256:a', hostPlatform: 'linux/amd64' };
        const scan = { repoTagsTotal: 50, repoTagsConsidered: 40, manifestsOk: 40, manifestsTimeout: 0, manifestsError: 0 };
        await store.snapshots.upsert({ ...key, tags: ['1.0.48'], checkedAt: '2026-01-01T00:00:00.000Z', scan });
        await store.snapshots.upsert({ ...key, tags: ['1.0.49', '1.0.48'], checkedAt: '2026-03-05T08:00:00.000Z', scan });
        await store.snapshots.upsert({ ...key, hostPlatform: 'linux/arm64', tags: [], checkedAt: '2026-01-01T00:00:00.000Z', scan });
        assert.deepEqual(await store.snapshots.get(key), { ...key, tags: ['1.0.49', '1.0.48'], checkedAt: '2026-03-05T08:00:00.000Z', scan });
        assert.equal((await store.snapshots.list()).length, 2);
        assert.equal(await store.snapshots.deleteCheckedBefore('2026-02-01T00:00:00.000Z'), 1);
        assert.deepEqual(
          (await store.snapshots.list()).map((s) => s.hostPlatform),
          ['linux/amd64'],
        );
        assert.equal(await store.snapshots.get({ ...key, digest: 'sha256:none' }), undefined);
        const many = await store.snapshots.getMany([key, { ...key, digest: 'sha256:none' }, { ...key, imageRepo: 'ghcr.io/acme/other' }]);
        assert.deepEqual(many.map((s) => s.tags), [['1.0.49', '1.0.48']]);
        assert.deepEqual(await store.snapshots.getMany([]), []);
      });

      it('creates, updates and lists backups', async () => {
        const backup = await store.backups.create({ jobId: 'job_1', stackId: 'stk_1', status: 'running' });
        assert.match(backup.id, /^bkp_/);
        const size = 5 * 1024 ** 3;
        assert.equal(
          await store.backups.update(backup.id, {
            status: 'success',
            artifactPath: '/data/backups/stk_1/x.tar.gz',
            sizeBytes: size,
            details: { targets: [] },
            finishedAt: '2026-03-05T08:00:00.000Z',
            cleanupAfter: '2026-03-05T09:00:00.000Z',
          }),
          true,
        );
        const stored = await store.backups.get(backup.id);
        assert.equal(stored?.sizeBytes, size);
        assert.deepEqual(stored?.details, { targets: [] });
        assert.deepEqual(
          (await store.backups.listByStack('stk_1')).map((b) => b.id),
          [backup.id],
        );
        assert.deepEqual(await store.backups.listDueForCleanup('2026-03-05T08:30:00.000Z'), []);
        assert.deepEqual(
          (await store.backups.listDueForCleanup('2026-03-05T09:00:00.000Z')).map((b) => b.id),
          [backup.id],
        );
        assert.equal(await store.backups.update('bkp_unknown', { status: 'failed' }), false);
      });

      it('schedules the backups of a stable update for cleanup, lists the kept ones and removes records', async () => {
        const older = await store.backups.create({ jobId: 'job_a', stackId: 'stk_r', status: 'success' });
        await sleep(2);
        const newer = await store.backups.create({ jobId: 'job_b', stackId: 'stk_r', status: 'success' });
        const failed = await store.backups.create({ jobId: 'job_b', stackId: 'stk_r', status: 'failed' });
        const otherStack = await store.backups.create({ jobId: 'job_b', stackId: 'stk_s', status: 'success' });
        assert.equal(await store.backups.scheduleCleanup('job_b', 'stk_r', '2026-03-05T09:00:00.000Z'), 1, 'only the success of that job and stack');
        assert.equal((await store.backups.get(failed.id))?.cleanupAfter, undefined);
        assert.equal((await store.backups.get(otherStack.id))?.cleanupAfter, undefined);
        assert.deepEqual((await store.backups.listKept('stk_r')).map((b) => b.id), [newer.id, older.id]);
        await store.backups.update(older.id, { deletedAt: '2026-03-05T10:00:00.000Z' });
        assert.deepEqual((await store.backups.listKept('stk_r')).map((b) => b.id), [newer.id]);
        assert.equal(await store.backups.remove(newer.id), true);
        assert.equal(await store.backups.remove(newer.id), false);
        assert.equal(await store.backups.get(newer.id), undefined);
      });
    });

    describe('version inference results on services', () => {
      it('writes resolved tags only while the service still has that digest', async () => {
        const stack = await store.stacks.create({
          name: `resolved-${Date.now()}`,
          compose: { type: 'path', composeFiles: ['/srv/r/compose.yml'] },
          services: [{ name: 'web', image: { ref: 'ghcr.io/acme/web', tag: 'latest' } }],
        });
        const id = stack.services[0]!.id;
        await store.services.updateState(id, { digest: 'sha256:cur', candidate: { tag: 'latest', digest: 'sha256:cand', archMatch: 'match', arch: ['linux/amd64'] } });
        assert.equal(await store.services.setResolvedTags(id, 'sha256:old', { resolvedTag: '1.0.0', resolvedTags: null }), false);
        assert.equal(await store.services.setResolvedTags(id, 'sha256:cur', { resolvedTag: '1.4.2', resolvedTags: ['1.4.2', '1.4'] }), true);
        assert.equal(await store.services.setCandidateResolvedTag(id, 'sha256:old', '2.0.0'), false);
        assert.equal(await store.services.setCandidateResolvedTag(id, 'sha256:cand', '1.5.0'), true);
        const service = await store.services.get(id);
        assert.deepEqual(service?.image, { ref: 'ghcr.io/acme/web', tag: 'latest', digest: 'sha256:cur', resolvedTag: '1.4.2', resolvedTags: ['1.4.2', '1.4'] });
        assert.equal(service?.candidate?.resolvedTag, '1.5.0');
        await store.services.setResolvedTags(id, 'sha256:cur', { resolvedTag: null, resolvedTags: null });
        assert.equal((await store.services.get(id))?.image.resolvedTag, undefined);
      });

      it("stores a stack's backup targets and retention", async () => {
        const stack = await store.stacks.create({ name: `backup-${Date.now()}`, compose: { type: 'path', composeFiles: ['/srv/b/compose.yml'] }, services: [] });
        const backup = { targets: [{ kind: 'docker-volume' as const, name: 'data' }], retention: { keepLast: 3, deleteAfterStableSeconds: 60 } };
        assert.equal(await store.stacks.setBackup(stack.id, backup), true);
        assert.deepEqual((await store.stacks.get(stack.id))?.backup, backup);
        assert.equal(await store.stacks.setBackup('stk_unknown', backup), false);
      });
    });

    describe('schedule leases', () => {
      const at = (minute: number) => `2026-12-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

      it('lets one owner at a time hold a task, until the lease expires or is released', async () => {
        assert.equal(await store.schedules.acquire('update-check', 'a', at(0), at(10)), true);
        assert.equal(await store.schedules.acquire('update-check', 'b', at(1), at(11)), false, 'held by a');
        assert.equal(await store.schedules.acquire('other-task', 'b', at(1), at(11)), true, 'leases are per task');
        assert.equal(await store.schedules.renew('update-check', 'b', at(20)), false);
        assert.equal(await store.schedules.renew('update-check', 'a', at(20)), true);
        assert.equal(await store.schedules.acquire('update-check', 'b', at(15), at(25)), false, 'renewed until :20');
        assert.equal(await store.schedules.acquire('update-check', 'b', at(21), at(31)), true, 'expired: a crashed owner does not block');
        await store.schedules.release('update-check', 'b', at(22));
        assert.equal(await store.schedules.lastRunAt('update-check'), at(22));
        assert.equal(await store.schedules.acquire('update-check', 'a', at(23), at(33)), true, 'released');
      });

      it('gives the lease to exactly one of many owners asking at once', async () => {
        const owners = Array.from({ length: 8 }, (_, index) => `owner-${index}`);
        const results = await Promise.all(owners.map((owner) => store.schedules.acquire('race', owner, at(0), at(10))));
        assert.equal(results.filter(Boolean).length, 1);
      });
    });
    describe('registry webhooks', () => {
      const delivery = (id: string, fields: Partial<RegistryDelivery> = {}): RegistryDelivery => ({
        id,
        source: 'distribution',
        receivedAt: `2026-12-01T10:00:00.${id.slice(-3)}Z`,
        outcome: 'processed',
        eventIds: ['e1'],
        repositories: ['registry.example.com/acme/web'],
        tags: ['latest'],
        digests: [],
        events: 1,
        ignored: [],
        matchedServiceIds: ['svc_1'],
        jobIds: [],
        ...fields,
      });

      it('serves default settings, keeps what is stored and fills sources added later', async () => {
        assert.deepEqual(await store.registryWebhooks.getSettings(), DEFAULT_REGISTRY_WEBHOOK_SETTINGS);
        const settings = structuredClone(DEFAULT_REGISTRY_WEBHOOK_SETTINGS);
        settings.sources.harbor = { enabled: true, token: 'harbor-token-0123456789' };
        settings.hostAliases = [{ from: 'registry.internal:5000', to: 'registry.example.com' }];
        settings.quay.apiBaseUrl = 'https://quay.io';
        await store.registryWebhooks.putSettings(settings);
        assert.deepEqual(await store.registryWebhooks.getSettings(), settings);
        await store.knex('documents').where({ key: 'registry_webhook_settings' }).update({ value: JSON.stringify({ sources: { quay: { enabled: true, token: 't' } } }) });
        const partial = await store.registryWebhooks.getSettings();
        assert.deepEqual(partial.sources.quay, { enabled: true, token: 't' });
        assert.deepEqual(partial.sources.distribution, { enabled: false, token: null });
        assert.deepEqual(partial.quay.audit, DEFAULT_REGISTRY_WEBHOOK_SETTINGS.quay.audit);
      });

      it('records deliveries and lists them newest first, filtered and paged', async () => {
        await store.registryWebhooks.recordDelivery(delivery('rwd_001'));
        await store.registryWebhooks.recordDelivery(delivery('rwd_002', { source: 'quay', outcome: 'unmatched', repositories: ['quay.io/acme/app'], verification: 'denied', reason: 'x' }));
        await store.registryWebhooks.recordDelivery(delivery('rwd_003', { outcome: 'rejected', message: 'not an envelope', repositories: [], ignored: [{ reason: 'no_tag', eventId: 'e9' }] }));
        await store.registryWebhooks.setDeliveryJobs('rwd_001', ['chk_1', 'chk_2']);
        await store.registryWebhooks.setDeliveryVerification('rwd_001', 'confirmed');
        const first = await store.registryWebhooks.getDelivery('rwd_001');
        assert.deepEqual(first, { ...delivery('rwd_001'), jobIds: ['chk_1', 'chk_2'], verification: 'confirmed' });
        const ids = async (query: Partial<Parameters<typeof store.registryWebhooks.listDeliveries>[0]>) =>
          (await store.registryWebhooks.listDeliveries({ limit: 50, ...query })).deliveries.map((entry) => entry.id);
        assert.deepEqual(await ids({}), ['rwd_003', 'rwd_002', 'rwd_001']);
        assert.deepEqual(await ids({ source: 'quay' }), ['rwd_002']);
        assert.deepEqual(await ids({ outcome: 'rejected' }), ['rwd_003']);
        assert.deepEqual(await ids({ repository: 'ACME/web' }), ['rwd_001']);
        assert.deepEqual(await ids({ repository: '%' }), [], 'like wildcards are literal');
        const page = await store.registryWebhooks.listDeliveries({ limit: 2 });
        assert.equal(page.nextCursor, 'rwd_002');
        const rest = await store.registryWebhooks.listDeliveries({ limit: 2, before: page.nextCursor });
        assert.deepEqual(rest, { deliveries: [delivery('rwd_001', { jobIds: ['chk_1', 'chk_2'], verification: 'confirmed' })] });
      });

      it('claims event keys once, reports who holds them, and lets a key go after its window', async () => {
        const now = new Date('2026-12-01T10:00:00.000Z');
        const claims = [
          { key: 'id:e1', windowMs: 86_400_000 },
          { key: 'body:abc', windowMs: 600_000 },
        ];
        assert.deepEqual(await store.registryWebhooks.claimEventKeys('distribution', claims, 'rwd_a', now), new Map());
        assert.deepEqual(
          await store.registryWebhooks.claimEventKeys('distribution', [...claims, { key: 'id:e2', windowMs: 86_400_000 }], 'rwd_b', new Date(now.getTime() + 60_000)),
          new Map([
            ['id:e1', 'rwd_a'],
            ['body:abc', 'rwd_a'],
          ]),
        );
        assert.deepEqual(await store.registryWebhooks.claimEventKeys('harbor', claims, 'rwd_c', now), new Map(), 'keys are per source');
        const later = new Date(now.getTime() + 11 * 60_000);
        assert.deepEqual(await store.registryWebhooks.claimEventKeys('distribution', claims, 'rwd_d', later), new Map([['id:e1', 'rwd_a']]), 'the body key is free again after 10 minutes');
        const many = Array.from({ length: 450 }, (_, index) => ({ key: `id:m${index}`, windowMs: 86_400_000 }));
        assert.equal((await store.registryWebhooks.claimEventKeys('distribution', many, 'rwd_e', now)).size, 0);
        assert.equal((await store.registryWebhooks.claimEventKeys('distribution', many, 'rwd_f', now)).size, 450);
      });

      it('gives a key claimed by many deliveries at once to exactly one', async () => {
        const now = new Date('2026-12-01T10:00:00.000Z');
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, index) => store.registryWebhooks.claimEventKeys('quay', [{ key: 'body:race', windowMs: 600_000 }], `rwd_${index}`, now)),
        );
        assert.equal(results.filter((held) => held.size === 0).length, 1);
      });

      it('prunes old deliveries, all but the newest ones, and keys past their use', async () => {
        for (const id of ['rwd_001', 'rwd_002', 'rwd_003', 'rwd_004']) await store.registryWebhooks.recordDelivery(delivery(id));
        await store.registryWebhooks.claimEventKeys('distribution', [{ key: 'id:old', windowMs: 1 }], 'rwd_001', new Date('2026-11-01T00:00:00.000Z'));
        await store.registryWebhooks.claimEventKeys('distribution', [{ key: 'id:new', windowMs: 1 }], 'rwd_004', new Date('2026-12-01T11:00:00.000Z'));
        const removed = await store.registryWebhooks.prune('2026-12-01T10:00:00.002Z', 2, '2026-12-01T00:00:00.000Z');
        assert.deepEqual(removed, { deliveries: 2, keys: 1 });
        assert.deepEqual((await store.registryWebhooks.listDeliveries({ limit: 10 })).deliveries.map((entry) => entry.id), ['rwd_004', 'rwd_003']);
        assert.deepEqual(await store.registryWebhooks.prune('2026-01-01T00:00:00.000Z', 1, '2026-01-01T00:00:00.000Z'), { deliveries: 1, keys: 0 });
      });
    });
  });
}
