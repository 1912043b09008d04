// Discovery and the Docker adapter against the real engine, registry and Compose v1 started by
// scripts/infra/up.sh. Other suites may run Compose projects on the same engine at the same time,
// so assertions look only at this file's projects.
import assert from 'node:assert/strict';
import { rm, unlink, writeFile } from 'node:fs/promises';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { DockerEngine, DockerUnavailableError, stackStatus } from '../src/engine/docker/index.js';
import { runDiscoveryScan, type DiscoveryAction, type DiscoveryScanResult } from '../src/engine/discovery/index.js';
import { projectRoot } from '../src/spec.js';
import { openStore, type Store } from '../src/store/index.js';
import {
  createComposeProject,
  docker,
  imageRef,
  publishImage,
  pushImage,
  removeImages,
  uniqueName,
  type ComposeProject,
  infraOrSkip,
} from './fixtures/index.js';


const { infra, skip } = infraOrSkip();

let validateScanResult: ValidateFunction | undefined;

/** Checks a scan result against the contract's DiscoveryScanResult schema; '' when it conforms. */
function scanResultSchemaErrors(result: DiscoveryScanResult): string {
  if (!validateScanResult) {
    const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
    const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
    ajv.addSchema(JSON.parse(readFileSync(join(projectRoot(), 'src/generated/dockrev.openapi.json'), 'utf8')), 'dockrev');
    validateScanResult = ajv.getSchema('dockrev#/components/schemas/DiscoveryScanResult')!;
  }
  return validateScanResult(JSON.parse(JSON.stringify(result))) ? '' : JSON.stringify(validateScanResult.errors);
}

describe('discovery on the real Docker engine', { skip, timeout: 600_000 }, () => {
  const run = uniqueName('dsc').toLowerCase();
  const repository = `dsc/${run}`;
  const registry = infra!.registries.open;
  const ref = (name: string, tag?: string) => (tag ? imageRef(registry, `${repository}/${name}`, tag) : `${registry.host}/${repository}/${name}`);
  const pushedRefs: string[] = [];
  const projects: ComposeProject[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'dockrev-discovery-e2e-'));
  const engine = new DockerEngine({ dockerHost: infra!.dockerHost });
  let store: Store;
  let web11Digest = '';

  const scan = async () => {
    const result = await runDiscoveryScan({ docker: engine, store, maxActions: 10_000 });
    assert.equal(scanResultSchemaErrors(result), '', 'the scan result matches the contract');
    return result;
  };
  const actionFor = (result: DiscoveryScanResult, project: ComposeProject): DiscoveryAction | undefined =>
    result.actions.find((action) => action.project === project.name);

  /** Compose v1 explicitly: it is the one that writes relative config_files labels. */
  const newProject = async (services: Parameters<typeof createComposeProject>[0]['services']) => {
    const project = await createComposeProject({ name: uniqueName('dsc').toLowerCase(), services, fileArg: 'relative', composeBin: infra!.composeV1Bin });
    projects.push(project);
    return project;
  };

  before(async () => {
    store = await openStore({ sqlitePath: join(workDir, 'dockrev.sqlite3') });
    await publishImage({ ref: ref('web', '1.0') });
    web11Digest = (await publishImage({ ref: ref('web', '1.1') })).digest;
    for (const tagged of [ref('api', 'latest'), ref('worker', '2.0')]) {
      await docker(['tag', infra!.baseImage, tagged]);
      await pushImage(tagged);
    }
    pushedRefs.push(ref('web', '1.0'), ref('web', '1.1'), ref('api', 'latest'), ref('worker', '2.0'));
  });

  after(async () => {
    for (const project of projects) {
      // Compose needs the file to take a project down; some tests broke or deleted it.
      await project.write().catch(() => undefined);
      await project.dispose().catch((error) => console.error(`cleanup of ${project.name} failed:`, error));
    }
    await removeImages(pushedRefs);
    await store?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  describe('a three-service project through its life', () => {
    let main: ComposeProject;
    let stackId = '';

    before(async () => {
      main = await newProject({
        web: {
          image: ref('web', '1.0'),
          labels: { 'homepage.name': 'Web', 'homepage.group': 'Apps', 'homepage.href': 'http://web.lan/', 'traefik.enable': 'true' },
        },
        api: { image: ref('api') },
        worker: {
          image: `${ref('worker')}:\${WORKER_TAG}`,
          healthcheck: { test: ['CMD', 'true'], interval: '1s', retries: 30 },
        },
      });
      await writeFile(join(main.dir, '.env'), 'WORKER_TAG=2.0\n');
      await main.up();
      await main.waitReady('worker');
    });

    it('sees the relative config_files label that Compose v1 writes', async () => {
      const web = await main.container('web');
      assert.equal(web.labels['com.docker.compose.project.config_files'], 'compose.yml');
      assert.equal(web.labels['com.docker.compose.project.working_dir'], main.dir);
    });

    it('creates the stack with absolute compose paths, refs, tags and homepage', async () => {
      const result = await scan();
      const action = actionFor(result, main)!;
      assert.equal(action.action, 'created');
      assert.match(action.stackId ?? '', /^stk_/);
      stackId = action.stackId!;
      assert.ok(result.summary.projectsSeen >= 1 && result.summary.stacksCreated >= 1);

      const stack = await store.stacks.getWithServices(stackId);
      assert.deepEqual(stack?.compose, { type: 'path', composeFiles: [main.file], envFile: join(main.dir, '.env') });
      assert.equal(stack?.name, main.name);
      assert.deepEqual(
        stack?.services.map((service) => ({ name: service.name, image: service.image, homepage: service.homepage })),
        [
          { name: 'api', image: { ref: ref('api'), tag: 'latest' }, homepage: undefined },
          { name: 'web', image: { ref: ref('web'), tag: '1.0' }, homepage: { group: 'Apps', name: 'Web', href: 'http://web.lan/' } },
          { name: 'worker', image: { ref: ref('worker'), tag: '2.0' }, homepage: undefined },
        ],
      );
      const project = await store.discoveryProjects.get(main.name);
      assert.equal(project?.status, 'active');
      assert.equal(project?.stackId, stackId);
      assert.deepEqual(project?.configFiles, [main.file]);
      assert.equal(project?.lastSeenAt, result.startedAt);
    });

    it('skips the project on the next scan', async () => {
      const servicesBefore = (await store.stacks.getWithServices(stackId))!.services;
      const result = await scan();
      assert.deepEqual(actionFor(result, main), { project: main.name, action: 'skipped', stackId });
      assert.deepEqual((await store.stacks.getWithServices(stackId))!.services, servicesBefore);
    });

    it('lists the containers with their configured images and health', async () => {
      const containers = await engine.listComposeContainers({ project: main.name });
      assert.deepEqual(
        containers.map((c) => [c.service, c.configuredImage, c.state, c.health]),
        [
          ['api', ref('api'), 'running', undefined],
          ['web', ref('web', '1.0'), 'running', undefined],
          ['worker', ref('worker', '2.0'), 'running', 'healthy'],
        ],
      );
      assert.ok(containers.every((c) => c.project === main.name && /^sha256:/.test(c.imageId) && c.name.startsWith(`${main.name}_`)));
      const web = await engine.listComposeContainers({ project: main.name, service: 'web' });
      assert.deepEqual(web.map((c) => c.service), ['web']);
    });

    it('reports the stack healthy, and degraded while a container is stopped', async () => {
      assert.equal(stackStatus(await engine.listComposeContainers({ project: main.name, includeStopped: true })), 'healthy');
      const api = await main.container('api');
      await docker(['stop', '-t', '1', api.id]);
      try {
        assert.deepEqual((await engine.listComposeContainers({ project: main.name })).map((c) => c.service), ['web', 'worker']);
        const all = await engine.listComposeContainers({ project: main.name, includeStopped: true });
        assert.equal(all.find((c) => c.service === 'api')?.state, 'exited');
        assert.equal(stackStatus(all), 'degraded');
      } finally {
        await docker(['start', api.id]);
      }
      assert.equal(stackStatus(await engine.listComposeContainers({ project: main.name, includeStopped: true })), 'healthy');
    });

    it('updates the stack when a service tag changes in the file', async () => {
      const webBefore = (await store.stacks.getWithServices(stackId))!.services.find((s) => s.name === 'web')!;
      await main.setServices({ ...main.services, web: { ...main.services.web!, image: ref('web', '1.1') } });
      await main.up();

      const result = await scan();
      const action = actionFor(result, main)!;
      assert.equal(action.action, 'updated');
      assert.equal(action.stackId, stackId);
      assert.deepEqual(action.details, { servicesAdded: [], servicesUpdated: [webBefore.id], servicesRemoved: [] });
      const webAfter = (await store.stacks.getWithServices(stackId))!.services.find((s) => s.name === 'web')!;
      assert.equal(webAfter.id, webBefore.id);
      assert.deepEqual(webAfter.image, { ref: ref('web'), tag: '1.1' });
    });

    it('reads the runtime digest from the repo digests of the running image', async () => {
      const webContainers = await engine.listComposeContainers({ project: main.name, service: 'web' });
      assert.equal(await engine.runtimeDigest(webContainers, ref('web')), web11Digest);
      assert.equal(await engine.runtimeDigest(webContainers, ref('other')), undefined);
      const digests = await engine.imageRepoDigests([webContainers[0]!.imageId, webContainers[0]!.imageId, `sha256:${'0'.repeat(64)}`]);
      assert.equal(digests.size, 2);
      assert.ok(digests.get(webContainers[0]!.imageId)?.includes(`${ref('web')}@${web11Digest}`));
      assert.deepEqual(digests.get(`sha256:${'0'.repeat(64)}`), []);
    });

    it('still knows the configured image after its tag moved to another image', async () => {
      const [web] = await engine.listComposeContainers({ project: main.name, service: 'web' });
      await docker(['tag', ref('web', '1.0'), ref('web', '1.1')]);
      try {
        const [moved] = await engine.listComposeContainers({ project: main.name, service: 'web' });
        assert.equal(moved?.configuredImage, ref('web', '1.1'));
        assert.equal(moved?.imageId, web?.imageId);
      } finally {
        await docker(['pull', ref('web', '1.1')]);
      }
    });

    it('marks the project missing once it is down, once', async () => {
      await main.down();
      let result = await scan();
      assert.deepEqual(actionFor(result, main), { project: main.name, action: 'marked_missing', stackId });
      assert.equal((await store.discoveryProjects.get(main.name))?.status, 'missing');
      result = await scan();
      assert.equal(actionFor(result, main), undefined);
      assert.ok(await store.stacks.get(stackId), 'the stack stays');
    });
  });

  it('fails a project whose compose file was deleted after up', async () => {
    const project = await newProject({ app: { image: ref('api') } });
    await project.up();
    await unlink(project.file);
    const result = await scan();
    const action = actionFor(result, project)!;
    assert.equal(action.action, 'failed');
    assert.ok(
      action.reason?.startsWith(`compose_file_unreadable: ${project.file} (ENOENT`),
      `unexpected reason: ${action.reason}`,
    );
    assert.match(action.reason!, /mount missing\? ensure host path is mounted read-only at the same absolute path/);
    const stored = await store.discoveryProjects.get(project.name);
    assert.equal(stored?.status, 'invalid');
    assert.equal(stored?.lastError, action.reason);
    assert.equal(stored?.stackId, undefined);
  });

  it('fails a project whose compose file is no longer valid YAML', async () => {
    const project = await newProject({ app: { image: ref('api') } });
    await project.up();
    await writeFile(project.file, 'services:\n  app: [image: oops\n');
    const result = await scan();
    const action = actionFor(result, project)!;
    assert.equal(action.action, 'failed');
    assert.ok(action.reason?.startsWith(`compose_file_invalid: ${project.file} (`), `unexpected reason: ${action.reason}`);
    assert.equal((await store.discoveryProjects.get(project.name))?.status, 'invalid');
  });

  it('throws DockerUnavailableError quickly for a socket that does not exist, changing nothing', async () => {
    const missing = new DockerEngine({ dockerHost: `unix://${join(workDir, 'no-such-docker.sock')}` });
    const started = Date.now();
    await assert.rejects(missing.ping(), DockerUnavailableError);
    const projectsBefore = await store.discoveryProjects.list('include');
    await assert.rejects(runDiscoveryScan({ docker: missing, store, maxActions: 100 }), (error: unknown) => {
      assert.ok(error instanceof DockerUnavailableError);
      assert.match(error.message, /no-such-docker\.sock does not exist/);
      return true;
    });
    assert.ok(Date.now() - started < 2_000, 'fails fast');
    assert.deepEqual(await store.discoveryProjects.list('include'), projectsBefore);
  });
});
