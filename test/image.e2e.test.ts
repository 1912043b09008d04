// The image as a self-hoster runs it: built from this tree on the local base image, started with
// the Docker socket mounted, it discovers a Compose project and updates it from inside the
// container. The container uses the host's network here because the test registries listen on
// the host's loopback only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../contract-tests/process.js';
import { dockrevTestImages, V1_VERSION, type DockrevTestImages } from './fixtures/dockrev-image.js';
import {
  createComposeProject,
  docker,
  infraOrSkip,
  publishImage,
  removeImages,
  repointTag,
  uniqueName,
  waitFor,
  type ComposeProject,
} from './fixtures/index.js';

const { infra, skip } = infraOrSkip();
const as = { 'X-Forwarded-User': 'ops' };

describe('the Dockrev image', { skip, timeout: 1_500_000 }, () => {
  const run = uniqueName('img').toLowerCase();
  const registry = infra?.registries.open.host ?? '';
  const webRef = `${registry}/${run}/web:latest`;
  const container = `${run}-dockrev`;
  let images: DockrevTestImages;
  let project: ComposeProject;
  let base = '';
  let coldStartMs = 0;
  /** The web image the update replaced: untagged by the re-push, so removed by id. */
  const replaced: string[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...as, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const finished = (jobId: string) =>
    waitFor(`job ${jobId}`, async () => {
      const { job } = (await api('GET', `/api/jobs/${jobId}`)).body;
      return job.status !== 'running' && job.status !== 'queued' ? job : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250 });

  before(async () => {
    images = await dockrevTestImages();
    await publishImage({ ref: webRef });
    project = await createComposeProject({ name: run, services: { web: { image: webRef } } });
    await project.up();

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    await docker([
      'run', '-d', '--name', container, '--network', 'host', '--health-interval', '1s',
      '-v', `${infra!.dockerHost.replace(/^unix:\/\//, '')}:/var/run/docker.sock`,
      // Compose records host paths: the project folder is mounted where it is on the host.
      '-v', `${project.dir}:${project.dir}`,
      '-e', `DOCKREV_HTTP_ADDR=127.0.0.1:${port}`,
      '-e', 'DOCKREV_AUTH_ALLOWED_USER=ops',
      '-e', 'DOCKREV_AUTH_ALLOW_ANONYMOUS_IN_DEV=false',
      '-e', 'DOCKREV_UPDATE_HEALTH_TIMEOUT_SECONDS=30',
      images.v1,
    ]);
    await waitFor('the container to answer /api/health', async () => (await fetch(`${base}/api/health`)).status === 200, {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    coldStartMs = Date.now() - started;
  }, { timeout: 1_500_000 });

  after(async () => {
    await docker(['rm', '-f', '-v', container]).catch(() => undefined);
    await project?.dispose().catch(() => undefined);
    await removeImages([webRef, ...replaced]).catch(() => undefined);
  });

  it('carries the port, volume, health check, labels and commands a deployment relies on', async (t) => {
    const [image] = JSON.parse((await docker(['image', 'inspect', images.v1])).stdout);
    assert.deepEqual(Object.keys(image.Config.ExposedPorts), ['50883/tcp']);
    assert.deepEqual(Object.keys(image.Config.Volumes), ['/data']);
    assert.deepEqual(image.Config.Healthcheck.Test, ['CMD', 'node', 'dist/src/healthcheck.js']);
    assert.deepEqual(image.Config.Entrypoint, ['/usr/bin/tini', '--']);
    assert.equal(image.Config.Cmd.at(-1), 'dist/src/main.js');
    assert.equal(image.Config.Labels['org.opencontainers.image.version'], V1_VERSION);
    assert.equal(image.Config.Labels['org.opencontainers.image.title'], 'Dockrev');
    const tools = await docker(['run', '--rm', '--entrypoint', 'sh', images.v1, '-c', 'docker --version && docker-compose version --short && test ! -e /app/node_modules/typescript && echo prod-only']);
    assert.match(tools.stdout, /Docker version 20\.10/);
    assert.match(tools.stdout, /prod-only/, 'development dependencies stay in the build stage');
    t.diagnostic(`image size ${(image.Size / 1e6).toFixed(0)} MB; cold start to a healthy /api/health ${coldStartMs} ms`);
    t.diagnostic(`build: base image ${images.timingsMs.base} ms, dockrev ${images.timingsMs.v1} ms (second tag ${images.timingsMs.v2} ms), proxy ${images.timingsMs.proxy} ms`);
  });

  it('reports healthy through its own HEALTHCHECK and its version from APP_EFFECTIVE_VERSION', async () => {
    await waitFor('docker to report the container healthy', async () => {
      const { stdout } = await docker(['inspect', '--format', '{{.State.Health.Status}}', container]);
      return stdout.trim() === 'healthy';
    }, { timeoutMs: 30_000, intervalMs: 250 });
    assert.deepEqual((await api('GET', '/api/version')).body, { version: V1_VERSION, selfUpgradeUrl: '/supervisor/' });
  });

  it('discovers a Compose project and updates its service from inside the container', async () => {
    const scan = await finished((await api('POST', '/api/discovery/scan')).body.jobId);
    assert.equal(scan.status, 'success', JSON.stringify(scan.summary));
    const stackId = scan.summary.scan.actions.find((action: any) => action.project === run)?.stackId;
    assert.ok(stackId, `the project ${run} was discovered`);

    const before = await project.container('web');
    replaced.push(before.imageId);
    await repointTag(webRef);
    const check = await finished((await api('POST', '/api/checks', { scope: 'stack', stackId })).body.checkId);
    assert.equal(check.status, 'success');
    const { stack } = (await api('GET', `/api/stacks/${stackId}`)).body;
    const web = stack.services.find((service: any) => service.name === 'web');
    assert.ok(web.candidate, 'the new digest is seen from inside the container');

    const started = await api('POST', '/api/updates', {
      scope: 'service', serviceId: web.id, targetTag: 'latest', targetDigest: web.candidate.digest, pullTags: [],
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const update = await finished(started.body.jobId);
    assert.equal(update.status, 'success', JSON.stringify(update.summary));
    const after = await project.container('web');
    assert.notEqual(after.imageId, before.imageId, 'Compose inside the container recreated the service');
    assert.equal(after.running, true);
  });
});
