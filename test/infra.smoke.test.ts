// Smoke test of the test infrastructure (scripts/infra/up.sh must have run): push an image to
// each loopback registry (open, basic auth, token auth), run a Compose project that pulls them
// back through the registries, check labels, images and health, re-point a tag, tear down.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  createComposeProject,
  docker,
  fetchToken,
  fixtureTextIn,
  headManifest,
  imageRef,
  loadInfraEnv,
  MEDIA,
  parseChallenge,
  publishImage,
  pushIndex,
  removeImages,
  repointTag,
  tokenRequestsFor,
  uniqueName,
  type ComposeProject,
  type PublishedImage,
  type RegistryKind,
} from './fixtures/index.js';

const KINDS: RegistryKind[] = ['open', 'basic', 'token'];

describe('test infrastructure', { timeout: 300_000 }, () => {
  const infra = loadInfraEnv();
  const run = uniqueName('smoke');
  const repository = `smoke/${run}`;
  const pushed = {} as Record<RegistryKind, PublishedImage>;
  const localRefs: string[] = [];
  const imageIds: string[] = [];
  const projects: ComposeProject[] = [];

  after(async () => {
    for (const p of projects) await p.dispose().catch(() => undefined);
    await removeImages(localRefs);
    await removeImages(imageIds);
  });

  it('reaches the Docker engine on the infra socket', async () => {
    const { stdout } = await docker(['version', '--format', '{{.Server.Version}}']);
    assert.match(stdout.trim(), /^\d+\.\d+/);
  });

  for (const kind of KINDS) {
    it(`pushes to the ${kind} registry and reads the digest back with HEAD`, async () => {
      const registry = infra.registries[kind];
      const ref = imageRef(registry, repository, 'v1');
      localRefs.push(ref);
      const img = await publishImage({
        ref,
        text: `${kind} ${run}`,
        labels: { 'org.dockrev.fixture': kind },
        healthcheck: { test: ['CMD', 'test', '-f', '/etc/dockrev-fixture'], interval: '1s', retries: 30 },
      });
      assert.match(img.digest, /^sha256:[0-9a-f]{64}$/);
      pushed[kind] = img;
      imageIds.push(img.imageId);

      const head = await headManifest(registry, repository, 'v1');
      assert.equal(head.status, 200);
      assert.equal(head.digest, img.digest);
      assert.equal(head.contentType, 'application/vnd.docker.distribution.manifest.v2+json');

      if (kind === 'open') {
        assert.equal(head.challenge, undefined);
        return;
      }
      // Without credentials: 401 with the right challenge, and no way in.
      const anonymous = await headManifest(registry, repository, 'v1', null);
      assert.equal(anonymous.status, 401);
      if (kind === 'basic') {
        assert.equal(head.challenge?.scheme, 'basic');
        assert.equal(head.challenge?.params.realm, infra.vars.DOCKREV_TEST_REGISTRY_BASIC_REALM);
        const wrong = await headManifest(registry, repository, 'v1', { username: registry.credentials!.username, password: 'wrong' });
        assert.equal(wrong.status, 401);
      } else {
        assert.equal(head.challenge?.scheme, 'bearer');
        assert.deepEqual(head.challenge?.params, {
          realm: infra.token.realm,
          service: infra.token.service,
          scope: `repository:${repository}:pull`,
        });
        await assert.rejects(
          fetchToken(head.challenge!, { username: registry.credentials!.username, password: 'wrong' }),
          /answered 401/,
        );
        // The reader may pull but is granted no push.
        const reader = await headManifest(registry, repository, 'v1', infra.token.reader);
        assert.equal(reader.status, 200);
        const log = await tokenRequestsFor(repository);
        assert.ok(log.some((r) => r.user === registry.credentials!.username && r.scopes.includes(`repository:${repository}:push,pull`)));
        const res = await fetch(
          `${infra.token.realm}?service=${infra.token.service}&scope=repository:${repository}:push,pull`,
          { headers: { Authorization: `Basic ${Buffer.from(`${infra.token.reader.username}:${infra.token.reader.password}`).toString('base64')}` } },
        );
        assert.equal(res.status, 200);
        const readerLog = (await tokenRequestsFor(repository)).filter((r) => r.user === infra.token.reader.username);
        assert.deepEqual(readerLog.at(-1)?.granted, [{ type: 'repository', name: repository, actions: ['pull'] }]);
      }
    });
  }

  it('runs a Compose project that pulls each image through its registry', async () => {
    assert.deepEqual(Object.keys(pushed).sort(), [...KINDS].sort(), 'all pushes must have succeeded');
    // Drop the local copies so that Compose must pull through the registries (with DOCKER_CONFIG).
    await removeImages(localRefs);

    const project = await createComposeProject({
      services: {
        web: {
          image: pushed.token.ref,
          command: ['sh', '-c', "trap 'exit 0' TERM; httpd -f -p 8080 -h /etc & wait"],
          labels: { 'org.dockrev.test.role': 'web' },
          healthcheck: {
            test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/dockrev-fixture'],
            interval: '1s',
            retries: 30,
          },
        },
        worker: {
          image: pushed.basic.ref,
          labels: { 'org.dockrev.test.role': 'worker' },
          depends_on: { web: { condition: 'service_healthy' } },
        },
        sidecar: {
          image: pushed.open.ref,
          labels: { 'org.dockrev.test.role': 'sidecar' },
        },
      },
    });
    projects.push(project);
    await project.up();

    const byService = { web: 'token', worker: 'basic', sidecar: 'open' } as const;
    for (const [service, kind] of Object.entries(byService)) {
      const c = await project.waitReady(service);
      assert.equal(c.running, true);
      assert.equal(c.health, 'healthy', `${service} health`);
      assert.equal(c.image, pushed[kind].ref);
      assert.equal(c.imageId, pushed[kind].imageId, `${service} runs the pushed image`);
      assert.equal(c.labels['com.docker.compose.project'], project.name);
      assert.equal(c.labels['com.docker.compose.service'], service);
      assert.equal(c.labels['com.docker.compose.project.config_files'], project.file);
      assert.equal(c.labels['com.docker.compose.project.working_dir'], project.dir);
      assert.equal(c.labels['org.dockrev.test.role'], service);
      assert.equal(c.labels['org.dockrev.fixture'], kind, 'image labels are inherited');
      assert.equal(await fixtureTextIn(c.name), `${kind} ${run}`);
    }
    // Containers on the project network reach each other by service name.
    const worker = await project.container('worker');
    const { stdout } = await docker(['exec', worker.name, 'wget', '-q', '-O', '-', 'http://web:8080/dockrev-fixture']);
    assert.equal(stdout.trim(), `token ${run}`);
  });

  it('re-points a tag and Compose recreates the service with the new image', async () => {
    const project = projects[0];
    assert.ok(project, 'project from the previous test');
    const ref = pushed.open.ref;
    const before = await project.container('sidecar');
    const next = await repointTag(ref, { previousDigest: pushed.open.digest, text: `open ${run} v2` });
    imageIds.push(next.imageId);
    assert.notEqual(next.digest, pushed.open.digest);
    const head = await headManifest(infra.registries.open, repository, 'v1');
    assert.equal(head.digest, next.digest);

    await removeImages([ref]);
    await project.run(['pull', 'sidecar']);
    await project.up(['sidecar']);
    const after = await project.waitReady('sidecar');
    assert.notEqual(after.id, before.id, 'container recreated');
    assert.equal(after.imageId, next.imageId);
    assert.equal(await fixtureTextIn(after.name), `open ${run} v2`);
  });

  it('writes a relative config_files label when -f is relative (Compose v1)', async () => {
    const project = await createComposeProject({
      fileArg: 'relative',
      services: { one: { image: infra.baseImage } },
    });
    projects.push(project);
    await project.up();
    const c = await project.waitReady('one');
    assert.equal(c.labels['com.docker.compose.project.config_files'], 'compose.yml');
    assert.equal(c.labels['com.docker.compose.project.working_dir'], project.dir);
  });

  it(
    'runs Compose v2 (docker compose plugin) with absolute config_files labels',
    { skip: infra.composeV2Bin ? false : 'Compose v2 not available (up.sh could not fetch it)' },
    async () => {
      const project = await createComposeProject({
        fileArg: 'relative',
        composeBin: infra.composeV2Bin,
        services: {
          one: { image: infra.baseImage, healthcheck: { test: ['CMD', 'true'], interval: '1s' } },
          two: { image: infra.baseImage, depends_on: { one: { condition: 'service_healthy' } } },
        },
      });
      projects.push(project);
      await project.up();
      const two = await project.waitReady('two');
      assert.equal(two.name, `${project.name}-two-1`);
      assert.equal(two.labels['com.docker.compose.project.config_files'], project.file);
      assert.equal(two.labels['com.docker.compose.project.working_dir'], project.dir);
      assert.match(two.labels['com.docker.compose.version'] ?? '', /^2\./);
    },
  );

  it('tears the projects down', async () => {
    for (const p of projects) {
      await p.dispose();
      assert.deepEqual(await p.containers(), []);
      const { stdout } = await docker(['network', 'ls', '--filter', `label=com.docker.compose.project=${p.name}`, '--format', '{{.Name}}']);
      assert.equal(stdout.trim(), '');
    }
  });

  it('pushes a Docker manifest list and an OCI index that the engine pulls', async () => {
    const registry = infra.registries.token;
    const repo = `${repository}-multi`;
    const amd64 = await publishImage({ ref: imageRef(registry, repo, 'v1-amd64'), text: `amd64 ${run}` });
    const arm64 = await publishImage({ ref: imageRef(registry, repo, 'v1-arm64'), text: `arm64 ${run}` });
    localRefs.push(amd64.ref, arm64.ref);
    imageIds.push(amd64.imageId, arm64.imageId);
    const entries = [
      { reference: 'v1-amd64', platform: { os: 'linux', architecture: 'amd64' } },
      { reference: 'v1-arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ];
    for (const format of ['docker', 'oci'] as const) {
      const tag = `v1-${format}`;
      const index = await pushIndex({ registry, repository: repo, tag, format, entries });
      const head = await headManifest(registry, repo, tag);
      assert.equal(head.status, 200);
      assert.equal(head.digest, index.digest);
      assert.equal(head.contentType, format === 'docker' ? MEDIA.dockerList : MEDIA.ociIndex);
      if (format === 'docker') assert.equal(index.children[0].digest, amd64.digest);
      const ref = imageRef(registry, repo, tag);
      localRefs.push(ref);
      await docker(['pull', '-q', ref]);
      const { stdout } = await docker(['image', 'inspect', '--format', '{{.Id}}', ref]);
      assert.equal(stdout.trim(), amd64.imageId, `${format}: the engine picks the linux/amd64 entry`);
    }
  });

  it('parses Bearer challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="http://x/token",service="s",scope="repository:a/b:pull"'), {
      scheme: 'bearer',
      params: { realm: 'http://x/token', service: 's', scope: 'repository:a/b:pull' },
    });
  });
});
