// Which services discovery manages, on the real engine with Compose: the `dockrev.enable` label
// (opt-out by default, opt-in with requireLabel), Dockrev's own image, invalid values. Other
// suites share the engine, so only this file's projects are looked at.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerEngine } from '../src/engine/docker/index.js';
import { runDiscoveryScan, type DiscoveryAction, type DiscoveryScanResult } from '../src/engine/discovery/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { createComposeProject, docker, infraOrSkip, removeImages, uniqueName, type ComposeProject, type ComposeService } from './fixtures/index.js';

const { infra, skip } = infraOrSkip();

describe('discovery scoped by labels on the real engine', { skip, timeout: 300_000 }, () => {
  const workDir = mkdtempSync(join(tmpdir(), 'dockrev-discovery-labels-'));
  const engine = new DockerEngine({ dockerHost: infra!.dockerHost });
  const selfImageRepo = `${infra!.registries.open.host}/${uniqueName('self').toLowerCase()}/dockrev`;
  const projects: ComposeProject[] = [];
  let store: Store;
  let mixed: ComposeProject;
  let allOut: ComposeProject;
  let optIn: ComposeProject;
  let withSelf: ComposeProject;

  // No network per project: the engine's address pools are shared with every other suite.
  const service = (labels: Record<string, string> = {}, image = infra!.baseImage): ComposeService => ({ image, labels, network_mode: 'none' });
  const up = async (services: Record<string, ComposeService>) => {
    const project = await createComposeProject({ name: uniqueName('dlab').toLowerCase(), services, stopTimeoutS: 0 });
    projects.push(project);
    await project.up();
    return project;
  };
  const scan = (requireLabel = false) => runDiscoveryScan({ docker: engine, store, maxActions: 10_000, scope: { requireLabel, selfImageRepo } });
  const actionFor = (result: DiscoveryScanResult, project: ComposeProject): DiscoveryAction => {
    const action = result.actions.find((entry) => entry.project === project.name);
    assert.ok(action, `no action for ${project.name}`);
    return action;
  };
  const servicesOf = async (stackId: string | undefined) => (await store.stacks.getWithServices(stackId!))?.services.map((s) => s.name).sort();

  before(async () => {
    store = await openStore({ sqlitePath: join(workDir, 'dockrev.sqlite3') });
    await docker(['tag', infra!.baseImage, `${selfImageRepo}:latest`]);
    [mixed, allOut, optIn, withSelf] = await Promise.all([
      up({ web: service({ 'dockrev.enable': 'false' }), api: service(), worker: service({ 'dockrev.enable': 'maybe' }) }),
      up({ a: service({ 'dockrev.enable': 'false' }), b: service({ 'dockrev.enable': 'FALSE ' }) }),
      up({ app: service({ 'dockrev.enable': 'true' }), sidecar: service() }),
      // Dockrev's own image, tagged as the deploy example runs it, beside a service it manages.
      up({ dockrev: service({}, `${selfImageRepo}:latest`), proxy: service() }),
    ]);
  });

  after(async () => {
    for (const project of projects) await project.dispose().catch((error) => console.error(`cleanup of ${project.name} failed:`, error));
    await removeImages([`${selfImageRepo}:latest`]).catch(() => undefined);
    await store?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('leaves out a service labelled dockrev.enable=false and reports an invalid value without failing', async () => {
    const action = actionFor(await scan(), mixed);
    assert.equal(action.action, 'created');
    assert.deepEqual(await servicesOf(action.stackId), ['api', 'worker']);
    assert.deepEqual(action.details?.excluded, [{ service: 'web', rule: 'label_false' }]);
    assert.equal(action.warnings?.length, 1);
    assert.match(action.warnings![0]!, /worker.*dockrev\.enable="maybe" ignored/);
  });

  it('makes no stack for a project whose every service is labelled false, without reading its files', async () => {
    // Discovery decides from the containers' labels: an unreadable file does not turn it into a failure.
    await rm(allOut.file);
    const action = actionFor(await scan(), allOut);
    assert.equal(action.action, 'skipped');
    assert.equal(action.reason, 'excluded');
    assert.equal(action.stackId, undefined);
    assert.deepEqual(action.details?.excluded, [{ service: 'a', rule: 'label_false' }, { service: 'b', rule: 'label_false' }]);
    assert.equal(await store.discoveryProjects.get(allOut.name), undefined);
    await allOut.write();
  });

  it("never manages Dockrev's own image", async () => {
    const action = actionFor(await scan(), withSelf);
    assert.deepEqual(await servicesOf(action.stackId), ['proxy']);
    assert.deepEqual(action.details?.excluded, [{ service: 'dockrev', rule: 'dockrev_image' }]);
  });

  it('with the label required, manages only labelled services, and archives a stack left with none until it is back in scope', async () => {
    const before = actionFor(await scan(), mixed);
    const result = await scan(true);
    const labelled = actionFor(result, optIn);
    assert.deepEqual(await servicesOf(labelled.stackId), ['app']);
    assert.deepEqual(labelled.details?.excluded, [{ service: 'sidecar', rule: 'label_required' }]);

    const dropped = actionFor(result, mixed);
    assert.equal(dropped.action, 'updated');
    assert.equal(dropped.reason, 'excluded');
    assert.equal(dropped.stackId, before.stackId);
    const archived = await store.stacks.getWithServices(before.stackId!);
    assert.equal(archived?.archived, true);
    assert.deepEqual(archived?.services, []);
    assert.ok(!(await store.stacks.list('exclude')).some((stack) => stack.id === before.stackId), 'the stack left the overview');
    assert.equal(actionFor(await scan(true), mixed).action, 'skipped', 'a second scan changes nothing');

    const back = actionFor(await scan(false), mixed);
    assert.equal(back.action, 'updated');
    const restored = await store.stacks.getWithServices(before.stackId!);
    assert.equal(restored?.archived, false);
    assert.deepEqual(restored?.services.map((s) => s.name).sort(), ['api', 'worker']);
  });
});
