// Version inference on the real Docker engine, registry and Compose: the tags a running digest
// has, an anchor tag far beyond the scan depth, a failing tag listing, and the overview. Dockrev's
// registry traffic goes through a counting proxy that can fail the tag listing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jobReader, startApi, waitForJob, type Api } from '../contract-tests/harness.js';
import {
  createComposeProject,
  docker,
  getManifest,
  infraOrSkip,
  MEDIA,
  publishImage,
  pushImage,
  putManifest,
  RegistryProxy,
  removeImages,
  uniqueName,
  waitFor,
  type ComposeProject,
} from './fixtures/index.js';

const { infra, skip } = infraOrSkip();
const as = { user: 'ops' };

describe('version inference on the real registry', { skip, timeout: 600_000 }, () => {
  const run = uniqueName('inf').toLowerCase();
  let proxy: RegistryProxy;
  let api: Api;
  let project: ComposeProject;
  const refs: string[] = [];
  let stackId = '';
  let services: Record<string, any> = {};
  let releaseDigest = '';
  let legacyDigest = '';

  const stackDetail = async () => {
    const { stack } = (await api.call('getStack', { ...as, params: { stackId } })).body;
    services = Object.fromEntries(stack.services.map((service: any) => [service.name, service]));
    return services;
  };
  const snapshot = (serviceId: string, digest: string) => api.call('getServiceDigestTagsSnapshot', { ...as, params: { serviceId }, query: { digest } });

  before(async () => {
    proxy = await RegistryProxy.start(infra!.registries.open.host);
    const open = infra!.registries.open;
    // app: 1.4.2 is also 1.4 and latest; 1.5.0 and 1.4.1 are other images.
    const release = await publishImage({ ref: `${proxy.host}/${run}/app:1.4.2` });
    releaseDigest = release.digest;
    refs.push(release.ref);
    for (const alias of ['1.4', 'latest']) {
      await docker(['tag', release.ref, `${proxy.host}/${run}/app:${alias}`]);
      refs.push(`${proxy.host}/${run}/app:${alias}`);
      assert.equal(await pushImage(`${proxy.host}/${run}/app:${alias}`), releaseDigest);
    }
    for (const other of ['1.5.0', '1.4.1']) refs.push((await publishImage({ ref: `${proxy.host}/${run}/app:${other}` })).ref);

    // legacy: the running image is tagged only `legacy-1`; 130 version tags point elsewhere (one
    // multi-platform index each, over another image), so `legacy-1` sorts far below the depth of 40.
    const legacy = await publishImage({ ref: `${proxy.host}/${run}/legacy:legacy-1` });
    legacyDigest = legacy.digest;
    refs.push(legacy.ref);
    const other = await publishImage({ ref: `${proxy.host}/${run}/legacy:base` });
    refs.push(other.ref);
    const child = await getManifest(open, `${run}/legacy`, other.digest);
    for (let patch = 0; patch < 130; patch++) {
      const index = {
        schemaVersion: 2,
        mediaType: MEDIA.dockerList,
        manifests: [{ mediaType: child.mediaType, size: child.size, digest: child.digest, platform: { os: 'linux', architecture: 'amd64' } }],
        annotations: { release: `2.0.${patch}` },
      };
      await putManifest(open, `${run}/legacy`, `2.0.${patch}`, MEDIA.dockerList, Buffer.from(JSON.stringify(index)));
    }

    project = await createComposeProject({
      name: run,
      services: { web: { image: `${proxy.host}/${run}/app:latest` }, legacy: { image: `${proxy.host}/${run}/legacy:legacy-1` } },
    });
    await project.up();
    api = await startApi({
      env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKER_HOST: infra!.dockerHost, DOCKREV_DOCKER_CONFIG: join(infra!.dockerConfig, 'config.json'), DOCKREV_HOST_PLATFORM: 'linux/amd64' },
    });
    const scan = await waitForJob(jobReader(api), (await api.call('startDiscoveryScan', as)).body.jobId);
    stackId = scan.summary.scan.actions.find((action: any) => action.project === run).stackId;
    await api.engine.inference.start();
  });

  after(async () => {
    await api?.close();
    await project?.dispose().catch(() => undefined);
    await removeImages(refs).catch(() => undefined);
    await proxy?.stop();
  });

  it('shows the version a service on latest runs once a check has found its digest', async () => {
    const check = await api.call('createCheck', { ...as, body: { scope: 'stack', stackId } });
    const job = await waitForJob(jobReader(api), check.body.checkId);
    assert.equal(job.status, 'success');
    await waitFor('web resolved to 1.4.2', async () => (await stackDetail()).web.image.resolvedTag === '1.4.2', { timeoutMs: 60_000 });
    assert.equal(services.web.image.digest, releaseDigest);
    assert.deepEqual(services.web.image.resolvedTags, ['1.4.2', '1.4']);
    assert.equal(services.web.versionInference.status, 'ready');
    assert.match(services.web.versionInference.checkedAt, /^\d{4}-\d\d-\d\dT/);
  });

  it('finds an anchor tag beyond the depth of 40 among 132 tags', async () => {
    const legacy = (await stackDetail()).legacy;
    assert.equal(legacy.image.digest, legacyDigest);
    let answer: any;
    await waitFor('the legacy snapshot', async () => (answer = await snapshot(legacy.id, legacyDigest)).status === 200, { timeoutMs: 60_000 });
    assert.deepEqual(answer.body.tags, ['legacy-1']);
    assert.equal(answer.body.scan.repoTagsTotal, 132);
    assert.equal(answer.body.scan.repoTagsConsidered, 40);
    assert.equal(answer.body.scan.manifestsOk, 40);
    assert.equal(legacy.image.resolvedTag, undefined, 'no version tag points at it');
  });

  it('stores an empty snapshot with an error count when the tag listing fails, keeping the known version', async () => {
    await api.engine.inference.whenSettled([releaseDigest, legacyDigest], 30_000);
    proxy.inject({ kind: 'tags', count: 1, status: 500 });
    const refresh = await api.call('refreshServiceVersionInference', { ...as, params: { serviceId: services.web.id }, body: { digest: releaseDigest } });
    assert.equal(refresh.status, 202);
    let answer: any;
    await waitFor('the failed snapshot', async () => (answer = await snapshot(services.web.id, releaseDigest)).status === 200 && answer.body.tags.length === 0, { timeoutMs: 30_000 });
    assert.deepEqual(answer.body.scan, { repoTagsTotal: 0, repoTagsConsidered: 0, manifestsOk: 0, manifestsTimeout: 0, manifestsError: 1 });
    assert.equal(proxy.count({ kind: 'tags', status: 500 }), 1);
    const web = (await stackDetail()).web;
    assert.equal(web.image.resolvedTag, '1.4.2', 'the last known version stays');
    assert.deepEqual(web.versionInference, { status: 'ready', reason: 'all_failed', checkedAt: answer.body.checkedAt });
  });

  it('lists this run in the overview, by text and status, a page at a time', async () => {
    const overview = (await api.call('getVersionInferenceOverview', { ...as, query: { q: run } })).body;
    assert.deepEqual(overview.rows.map((row: any) => row.status).sort(), ['all_failed', 'ready']);
    assert.equal(overview.total, 2);
    const ready = (await api.call('getVersionInferenceOverview', { ...as, query: { q: run, status: 'ready' } })).body;
    assert.deepEqual(ready.rows.map((row: any) => [row.digest, row.serviceCount]), [[legacyDigest, 1]]);
    const second = (await api.call('getVersionInferenceOverview', { ...as, query: { q: run, perPage: 1, page: 2 } })).body;
    assert.deepEqual([second.rows.length, second.total, second.rows[0].status], [1, 2, 'ready']);
  });
});
