// The scan against a scripted container list and a real (SQLite) store: the label problems that
// real Compose never produces, the bookkeeping of missing projects, truncation and the lock.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../store/index.js';
import { COMPOSE_LABELS, DockerUnavailableError, type ComposeContainer } from '../docker/index.js';
import { DiscoveryScanner, runDiscoveryScan, type DiscoveryAction, type DiscoveryScanResult } from './index.js';

type Labels = Record<string, string>;

function container(project: string, service: string, labels: Labels): ComposeContainer {
  return {
    id: `${project}-${service}`,
    name: `${project}_${service}_1`,
    project,
    service,
    imageId: `sha256:${'0'.repeat(64)}`,
    configuredImage: 'img',
    labels: { [COMPOSE_LABELS.project]: project, [COMPOSE_LABELS.service]: service, ...labels },
    state: 'running',
  };
}

/** Compose v1 style labels: file names relative to working_dir. */
const v1Labels = (workingDir: string, configFiles = 'compose.yml'): Labels => ({
  [COMPOSE_LABELS.configFiles]: configFiles,
  [COMPOSE_LABELS.workingDir]: workingDir,
});

function fakeDocker(list: () => ComposeContainer[]) {
  return { listComposeContainers: async () => list() };
}

const actionOf = (result: DiscoveryScanResult, project: string): DiscoveryAction | undefined =>
  result.actions.find((action) => action.project === project);

describe('runDiscoveryScan (scripted Docker, real store)', () => {
  const root = mkdtempSync(join(tmpdir(), 'dockrev-scan-test-'));
  let store: Store;
  let containers: ComposeContainer[] = [];
  const docker = fakeDocker(() => containers);
  const scan = (maxActions = 100) => runDiscoveryScan({ docker, store, maxActions });

  const alphaDir = join(root, 'alpha');
  const nestedDir = join(root, 'nested', 'p3');
  const emptyDir = join(root, 'empty');

  before(async () => {
    store = await openStore({ sqlitePath: join(root, 'db.sqlite3') });
    mkdirSync(alphaDir);
    writeFileSync(join(alphaDir, 'compose.yml'), 'services:\n  web:\n    image: ghcr.io/acme/web:${TAG}\n  db:\n    image: postgres:16\n');
    writeFileSync(join(alphaDir, '.env'), 'TAG=5.2\n');
    mkdirSync(nestedDir, { recursive: true });
    writeFileSync(join(nestedDir, 'compose.yml'), 'services:\n  app:\n    image: acme/app\n');
    mkdirSync(emptyDir);
    writeFileSync(join(emptyDir, 'compose.yml'), 'services:\n  app:\n    build: .\n');
  });

  after(async () => {
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('records valid projects as stacks and label problems as invalid projects', async () => {
    containers = [
      container('alpha', 'web', v1Labels(alphaDir)),
      container('alpha', 'db', v1Labels(alphaDir)),
      // A container without the label does not make the project's label missing.
      container('alpha', 'sidecar', { [COMPOSE_LABELS.workingDir]: alphaDir }),
      container('conflict', 'a', { [COMPOSE_LABELS.configFiles]: '/srv/x/compose.yml' }),
      container('conflict', 'b', { [COMPOSE_LABELS.configFiles]: '/srv/y/compose.yml' }),
      container('nolabel', 'a', {}),
      container('relative', 'a', { [COMPOSE_LABELS.configFiles]: 'compose.yml' }),
      container('blank', 'a', { [COMPOSE_LABELS.configFiles]: ' , ' }),
      container('buildonly', 'app', { [COMPOSE_LABELS.configFiles]: join(emptyDir, 'compose.yml') }),
      // Compose v1 run from the parent folder with `-f nested/p3/compose.yml`.
      container('nested', 'app', v1Labels(nestedDir, 'nested/p3/compose.yml')),
    ];
    const result = await scan();

    assert.deepEqual(result.summary, {
      projectsSeen: 7, stacksCreated: 2, stacksUpdated: 0, stacksSkipped: 0, stacksFailed: 5, stacksMarkedMissing: 0,
    });
    assert.deepEqual(result.actions.map((action) => `${action.project}:${action.action}`), [
      'alpha:created', 'blank:failed', 'buildonly:failed', 'conflict:failed', 'nested:created', 'nolabel:failed', 'relative:failed',
    ]);
    assert.equal(actionOf(result, 'nolabel')?.reason, 'config_files_missing');
    assert.equal(actionOf(result, 'relative')?.reason, 'config_files_relative_path_rejected');
    assert.equal(actionOf(result, 'blank')?.reason, 'config_files_empty');
    assert.equal(actionOf(result, 'buildonly')?.reason, 'compose_no_services');
    const conflict = actionOf(result, 'conflict')!;
    assert.equal(conflict.reason, 'config_files_conflict');
    assert.deepEqual(conflict.details, {
      variants: [
        { configFiles: ['/srv/x/compose.yml'], services: ['a'] },
        { configFiles: ['/srv/y/compose.yml'], services: ['b'] },
      ],
    });

    const alpha = await store.stacks.getWithServices(actionOf(result, 'alpha')!.stackId!);
    assert.deepEqual(alpha?.compose, { type: 'path', composeFiles: [join(alphaDir, 'compose.yml')], envFile: join(alphaDir, '.env') });
    assert.deepEqual(alpha?.services.map((service) => [service.name, service.image.ref, service.image.tag]), [
      ['db', 'postgres', '16'],
      ['web', 'ghcr.io/acme/web', '5.2'],
    ]);
    const nested = await store.stacks.get(actionOf(result, 'nested')!.stackId!);
    assert.deepEqual(nested?.compose.composeFiles, [join(nestedDir, 'compose.yml')]);

    const projects = new Map((await store.discoveryProjects.list('include')).map((project) => [project.project, project]));
    assert.equal(projects.get('alpha')?.status, 'active');
    assert.equal(projects.get('alpha')?.lastSeenAt, result.startedAt);
    assert.equal(projects.get('conflict')?.status, 'invalid');
    assert.equal(projects.get('conflict')?.lastError, 'config_files_conflict');
  });

  it('skips unchanged projects and updates changed ones', async () => {
    let result = await scan();
    assert.equal(actionOf(result, 'alpha')?.action, 'skipped');
    assert.equal(actionOf(result, 'nested')?.action, 'skipped');

    writeFileSync(join(alphaDir, '.env'), 'TAG=5.3\n');
    result = await scan();
    const updated = actionOf(result, 'alpha')!;
    assert.equal(updated.action, 'updated');
    assert.equal((updated.details?.servicesUpdated as string[]).length, 1);
    const alpha = await store.stacks.getWithServices(updated.stackId!);
    assert.equal(alpha?.services.find((service) => service.name === 'web')?.image.tag, '5.3');
  });

  it('marks projects that are gone as missing once, and revives and un-archives them when seen again', async () => {
    const alphaContainers = containers.filter((c) => c.project === 'alpha');
    containers = containers.filter((c) => c.project !== 'alpha');
    let result = await scan();
    assert.equal(result.summary.stacksMarkedMissing, 1);
    const missing = actionOf(result, 'alpha')!;
    assert.equal(missing.action, 'marked_missing');
    assert.ok(missing.stackId?.startsWith('stk_'));
    assert.equal((await store.discoveryProjects.get('alpha'))?.status, 'missing');

    result = await scan();
    assert.equal(actionOf(result, 'alpha'), undefined);
    assert.equal(result.summary.stacksMarkedMissing, 0);

    await store.discoveryProjects.setArchived('alpha', true);
    containers = [...containers, ...alphaContainers];
    result = await scan();
    assert.deepEqual(actionOf(result, 'alpha'), { project: 'alpha', action: 'skipped', stackId: missing.stackId });
    const revived = await store.discoveryProjects.get('alpha');
    assert.equal(revived?.status, 'active');
    assert.equal(revived?.archived, false);
  });

  it('truncates the actions but keeps the counts complete', async () => {
    const result = await scan(2);
    assert.equal(result.actions.length, 2);
    assert.equal(result.summary.projectsSeen, 7);
    assert.equal(result.summary.stacksSkipped + result.summary.stacksFailed, 7);
  });

  it('throws when Docker is unavailable and leaves the store alone', async () => {
    const before = await store.discoveryProjects.list('include');
    const down = { listComposeContainers: async (): Promise<ComposeContainer[]> => { throw new DockerUnavailableError('socket gone'); } };
    await assert.rejects(runDiscoveryScan({ docker: down, store, maxActions: 100 }), DockerUnavailableError);
    assert.deepEqual(await store.discoveryProjects.list('include'), before);
  });

  it('runs one scan at a time', async () => {
    let running = 0;
    let overlapped = false;
    const slow = {
      listComposeContainers: async () => {
        running += 1;
        overlapped ||= running > 1;
        await new Promise((resolve) => setTimeout(resolve, 30));
        running -= 1;
        return containers;
      },
    };
    const scanner = new DiscoveryScanner({ docker: slow, store, maxActions: 100 });
    const results = await Promise.all([1, 2, 3].map(() => scanner.scan()));
    assert.equal(overlapped, false);
    assert.equal(results.length, 3);
  });
});
