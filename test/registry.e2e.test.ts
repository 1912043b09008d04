// The registry client against the real registries of scripts/infra/up.sh: an open one, one behind
// Basic auth and one behind a token server. Images are built and pushed with the test fixtures.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  RegistryClient,
  RegistryError,
  loadDockerCredentials,
  parseImageRef,
  type DockerCredentials,
  type RegistryRequestEvent,
} from '../src/engine/registry/index.js';
import {
  docker,
  findInfraEnvFile,
  imageRef,
  loadInfraEnv,
  publishImage,
  pushImage,
  removeImages,
  repointTag,
  tokenRequestsFor,
  uniqueName,
  type RegistryKind,
} from './fixtures/index.js';

function missingInfraReason(): string | undefined {
  try {
    const envFile = findInfraEnvFile();
    return existsSync(envFile) ? undefined : `test infrastructure env file ${envFile} not found`;
  } catch (error) {
    return (error as Error).message;
  }
}

const missingInfra = missingInfraReason();
const requireInfra = process.env.DOCKREV_TEST_REQUIRE_INFRA === '1';
const skip = missingInfra && !requireInfra ? `${missingInfra} (run scripts/infra/up.sh; DOCKREV_TEST_REQUIRE_INFRA=1 makes this a failure)` : false;

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('registry client against real registries', { skip, timeout: 300_000 }, () => {
  const run = uniqueName('reg');
  const repository = `dockrev-e2e/${run}`;
  const localRefs: string[] = [];
  const imageIds: string[] = [];
  const workDirs: string[] = [];
  let hostPlatform = '';
  let credentials: DockerCredentials;
  /** Digests the open registry's v1 pointed at, oldest first. */
  const openDigests: string[] = [];

  before(async () => {
    if (missingInfra) throw new Error(`DOCKREV_TEST_REQUIRE_INFRA=1 but ${missingInfra}`);
    const infra = loadInfraEnv();
    const { stdout } = await docker(['version', '--format', '{{.Server.Os}}/{{.Server.Arch}}']);
    hostPlatform = stdout.trim();

    // Credentials the way `docker login` spellings vary: scheme and /v2/ suffix, username/password fields.
    const dir = await mkdtemp(join(tmpdir(), 'dockrev-registry-e2e-'));
    workDirs.push(dir);
    const basic = infra.registries.basic.credentials!;
    const reader = infra.token.reader;
    const configPath = join(dir, 'config.json');
    await writeFile(
      configPath,
      JSON.stringify({
        auths: {
          [`http://${infra.registries.basic.host}/v2/`]: { auth: b64(`${basic.username}:${basic.password}`) },
          [infra.registries.token.host]: { username: reader.username, password: reader.password },
        },
      }),
    );
    const loaded = await loadDockerCredentials(configPath);
    assert.deepEqual(loaded.warnings, []);
    credentials = loaded.credentials;
  });

  after(async () => {
    await removeImages(localRefs);
    await removeImages(imageIds);
    for (const dir of workDirs) await rm(dir, { recursive: true, force: true });
  });

  function recordingClient(): { client: RegistryClient; events: RegistryRequestEvent[] } {
    const events: RegistryRequestEvent[] = [];
    return { client: new RegistryClient({ credentials, onRequest: (event) => events.push(event) }), events };
  }

  const count = (events: RegistryRequestEvent[], method: string, kind?: string) =>
    events.filter((e) => e.method === method && (!kind || e.kind === kind)).length;

  for (const kind of ['open', 'basic', 'token'] as RegistryKind[]) {
    it(`resolves, re-checks and follows a re-pointed tag on the ${kind} registry`, async () => {
      const registry = loadInfraEnv().registries[kind];
      const v1 = imageRef(registry, repository, 'v1');
      localRefs.push(v1);
      const pushed = await publishImage({ ref: v1, text: `${kind} ${run} one` });
      imageIds.push(pushed.imageId);
      const ref = parseImageRef(v1);
      assert.equal(ref.key, `${registry.host}/${repository}`);

      const { client, events } = recordingClient();
      const first = await client.resolveTag(ref, 'v1', hostPlatform);
      assert.deepEqual(first, { digest: pushed.digest, platformDigest: undefined, platforms: [hostPlatform], archMatch: 'match' });
      assert.equal(count(events, 'GET', 'manifest'), 1);
      assert.equal(count(events, 'GET', 'blob'), 1);
      assert.equal(count(events, 'GET', 'token'), kind === 'token' ? 1 : 0);
      assert.ok(events.every((e) => e.host === registry.host || (kind === 'token' && e.kind === 'token')));

      events.length = 0;
      const again = await client.resolveTag(ref, 'v1', hostPlatform);
      assert.deepEqual(again, first);
      assert.deepEqual(
        events.map((e) => [e.method, e.kind, e.status]),
        [['HEAD', 'manifest', 200]],
        'an unchanged tag costs one HEAD',
      );

      const next = await repointTag(v1, { previousDigest: pushed.digest, text: `${kind} ${run} two` });
      imageIds.push(next.imageId);
      events.length = 0;
      const moved = await client.resolveTag(ref, 'v1', hostPlatform);
      if (kind === 'open') openDigests.push(pushed.digest, next.digest);
      assert.equal(moved.digest, next.digest);
      assert.notEqual(moved.digest, first.digest);
      assert.equal(count(events, 'HEAD'), 1);
      assert.equal(count(events, 'GET', 'manifest'), 1);
      assert.equal(count(events, 'GET', 'token'), 0, 'the token outlives the re-point');

      const v2 = imageRef(registry, repository, 'v2');
      localRefs.push(v2);
      await docker(['tag', v1, v2]);
      await pushImage(v2);
      assert.deepEqual((await client.listTags(ref)).sort(), ['v1', 'v2']);

      if (kind === 'token') {
        const ours = (await tokenRequestsFor(repository)).filter(
          (r) => r.user === loadInfraEnv().token.reader.username && r.scopes.join(' ') === `repository:${repository}:pull`,
        );
        assert.equal(ours.length, 1, 'one token for every call of this client');
        assert.deepEqual(ours[0]!.granted, [{ type: 'repository', name: repository, actions: ['pull'] }]);
      }
      if (kind !== 'open') {
        const anonymous = new RegistryClient();
        await assert.rejects(anonymous.resolveTag(ref, 'v1', hostPlatform), (error: unknown) => {
          assert.ok(error instanceof RegistryError);
          assert.equal(error.kind, 'unauthorized');
          assert.match(error.message, new RegExp(`^${registry.host}/${repository}: .*no credentials`));
          return true;
        });
      }
    });
  }

  it('reads an OCI index pushed to the open registry and picks the host platform', async () => {
    const registry = loadInfraEnv().registries.open;
    const ref = parseImageRef(imageRef(registry, repository, 'multi'));
    assert.equal(openDigests.length, 2, 'needs both images the open registry test pushed');
    const { client, events } = recordingClient();
    const [hostImage, otherImage] = await Promise.all(openDigests.map((digest) => client.headManifest(ref, digest)));
    const [os, architecture] = hostPlatform.split('/');
    // Pretend the other image is the arm64 build: an index only states platforms.
    const entries: Array<[typeof hostImage, object]> = [
      [otherImage!, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
      [hostImage!, { os, architecture }],
    ];
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: await Promise.all(
        entries.map(async ([image, platform]) => {
          const head = await fetch(`${registry.url}/v2/${repository}/manifests/${image.digest}`, { method: 'HEAD', headers: { Accept: image.mediaType! } });
          return { mediaType: image.mediaType, digest: image.digest, size: Number(head.headers.get('content-length')), platform };
        }),
      ),
    };
    const put = await fetch(`${registry.url}/v2/${repository}/manifests/multi`, {
      method: 'PUT',
      headers: { 'Content-Type': index.mediaType },
      body: JSON.stringify(index),
    });
    assert.equal(put.status, 201, await put.text());
    const indexDigest = put.headers.get('docker-content-digest');

    events.length = 0;
    const resolved = await client.resolveTag(ref, 'multi', hostPlatform);
    assert.deepEqual(resolved, {
      digest: indexDigest,
      platformDigest: hostImage!.digest,
      platforms: [hostPlatform, 'linux/arm64/v8'].sort(),
      archMatch: 'match',
    });
    assert.deepEqual(
      events.map((e) => [e.method, e.kind]),
      [
        ['HEAD', 'manifest'],
        ['GET', 'manifest'],
      ],
      'an index needs no config blobs',
    );
    assert.equal((await client.resolveTag(ref, 'multi', 'linux/s390x')).archMatch, 'mismatch');
  });
});
