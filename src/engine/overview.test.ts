// The kept overview against a real (SQLite) store and scripted statuses: the same answer object
// while nothing changed, a fresh one after any write to stacks or services or a status change.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../store/index.js';
import type { StackStatus } from './docker/index.js';
import { StackOverview } from './overview.js';

describe('StackOverview (real store, scripted statuses)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-overview-'));
  let store: Store;
  let statuses: Record<string, StackStatus> = {};
  let reads = 0;
  const docker = { statuses: async (projects: readonly string[]) => projects.map((project) => statuses[project] ?? 'unknown') };

  before(async () => {
    store = await openStore({ sqlitePath: join(dir, 'db.sqlite3') });
    const list = store.stacks.list.bind(store.stacks);
    store.stacks.list = (archived) => {
      reads += 1;
      return list(archived);
    };
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers with the same array until a write or a status change, reading the store only then', async () => {
    const overview = new StackOverview(store, docker);
    const { id } = await store.stacks.create({ name: 'alpha', compose: { type: 'path', composeFiles: ['/a.yml'] }, services: [{ name: 'web', image: { ref: 'acme/web', tag: 'latest' } }] });
    statuses = { alpha: 'healthy' };
    const first = await overview.list('exclude');
    assert.deepEqual(first.map(({ stack, status }) => [stack.name, stack.serviceCount, status]), [['alpha', 1, 'healthy']]);
    const readsBefore = reads;
    assert.equal(await overview.list('exclude'), first);
    assert.equal(reads, readsBefore, 'no store read while nothing changed');

    statuses = { alpha: 'degraded' };
    const degraded = await overview.list('exclude');
    assert.notEqual(degraded, first);
    assert.equal(degraded[0]!.status, 'degraded');
    assert.equal(reads, readsBefore, 'a status change needs no store read');

    const [web] = await store.services.listByStack(id);
    await store.services.updateState(web!.id, { candidate: { tag: 'latest', digest: `sha256:${'1'.repeat(64)}`, archMatch: 'match', arch: ['linux/amd64'] } });
    const updated = await overview.list('exclude');
    assert.equal(updated[0]!.stack.updateCount, 1);
    await store.stacks.setArchived(id, true);
    assert.deepEqual(await overview.list('exclude'), []);
    assert.equal((await overview.list('only'))[0]!.stack.id, id);
  });

  it('keeps a stack detail until the stack or its services are written', async () => {
    const overview = new StackOverview(store, docker);
    const { id } = await store.stacks.create({ name: 'beta', compose: { type: 'path', composeFiles: ['/b.yml'] }, services: [] });
    const first = await overview.detail(id);
    assert.equal(first?.name, 'beta');
    assert.equal(await overview.detail(id), first);
    assert.equal(await overview.detail('stk_unknown'), undefined);
    await store.stacks.syncServices(id, { type: 'path', composeFiles: ['/b.yml'] }, [{ name: 'api', image: { ref: 'acme/api', tag: '1' } }]);
    const synced = await overview.detail(id);
    assert.notEqual(synced, first);
    assert.deepEqual(synced?.services.map((service) => service.name), ['api']);
  });
});
