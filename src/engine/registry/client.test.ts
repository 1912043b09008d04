import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MEDIA_TYPES } from './manifest.js';
import { client, credentialsFor, fakeRegistry, rejectsWith, repo } from './testing/client-fixture.js';
import { sha256 } from './testing/fake-registry.js';

describe('RegistryClient: HEAD first, caches by digest', () => {
  it('resolves a tag with HEAD + manifest + config, then re-checks an unchanged tag with one HEAD', async () => {
    const registry = await fakeRegistry();
    const digest = registry.pushImage('app/web', '1.0', 'linux/amd64');
    const registryClient = client();
    const target = repo(registry, 'app/web');

    const first = await registryClient.resolveTag(target, '1.0', 'linux/amd64');
    assert.deepEqual(first, { digest, platformDigest: undefined, platforms: ['linux/amd64'], archMatch: 'match' });
    assert.equal(registry.count({ method: 'HEAD', kind: 'manifest' }), 1);
    assert.equal(registry.count({ method: 'GET', kind: 'manifest' }), 1);
    assert.equal(registry.count({ method: 'GET', kind: 'blob' }), 1);

    registry.resetCounters();
    const again = await registryClient.resolveTag(target, '1.0', 'linux/amd64');
    assert.deepEqual(again, first);
    assert.equal(registry.count(), 1, 'a re-check of an unchanged tag costs exactly one request');
    assert.equal(registry.count({ method: 'HEAD' }), 1);

    registry.resetCounters();
    const next = registry.pushImage('app/web', '1.0', 'linux/arm64');
    const moved = await registryClient.resolveTag(target, '1.0', 'linux/amd64');
    assert.equal(moved.digest, next);
    assert.equal(moved.archMatch, 'mismatch');
    assert.deepEqual(moved.platforms, ['linux/arm64']);
    assert.equal(registry.count({ method: 'HEAD' }), 1);
    assert.equal(registry.count({ method: 'GET' }), 2, 'a new digest needs its manifest and config');
  });

  it('lets concurrent lookups of one tag or digest share the request in flight, and asks again afterwards', async () => {
    const registry = await fakeRegistry();
    const digest = registry.pushImage('app/shared', 'v1', 'linux/amd64');
    const registryClient = client();
    const target = repo(registry, 'app/shared');
    const resolved = await Promise.all(Array.from({ length: 5 }, () => registryClient.resolveTag(target, 'v1', 'linux/amd64')));
    assert.ok(resolved.every((entry) => entry.digest === digest));
    assert.equal(registry.count({ method: 'HEAD', kind: 'manifest' }), 1, 'five checks at once: one HEAD');
    assert.equal(registry.count({ method: 'GET', kind: 'manifest' }), 1, 'and one manifest GET');
    assert.equal(registry.count({ method: 'GET', kind: 'blob' }), 1);
    const moved = registry.pushImage('app/shared', 'v1', 'linux/amd64');
    assert.equal((await registryClient.headManifest(target, 'v1')).digest, moved, 'a later lookup is a request of its own');
    assert.equal(registry.count({ method: 'HEAD', kind: 'manifest' }), 2);
  });

  it('falls back to GET and hashes the body when Docker-Content-Digest is missing', async () => {
    const registry = await fakeRegistry();
    registry.omitDigestHeader = true;
    const digest = registry.pushImage('app/nodigest', 'v1', 'linux/amd64');
    const registryClient = client();
    const head = await registryClient.headManifest(repo(registry, 'app/nodigest'), 'v1');
    assert.deepEqual(head, { digest, mediaType: MEDIA_TYPES.dockerManifest });
    const resolved = await registryClient.resolveTag(repo(registry, 'app/nodigest'), 'v1', 'linux/amd64');
    assert.equal(resolved.digest, digest);
    assert.equal(registry.count({ method: 'GET', kind: 'manifest' }), 2, 'one GET per digest lookup by tag, the second resolve reuses the parsed manifest');
  });

  it('rejects a manifest whose content does not match the requested digest', async () => {
    const registry = await fakeRegistry();
    registry.pushImage('app/tampered', 'v1', 'linux/amd64');
    const wrong = `sha256:${'0'.repeat(64)}`;
    registry.interceptor = (req, res, kind) => {
      if (kind !== 'manifest') return false;
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.dockerManifest, 'Docker-Content-Digest': wrong });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ config: { digest: wrong } }));
      return true;
    };
    await rejectsWith(client().resolveTag(repo(registry, 'app/tampered'), 'v1', 'linux/amd64'), 'invalid_response', /does not match its digest/);
  });
});

describe('RegistryClient: manifest lists and platforms', () => {
  it('picks the host platform digest from an index, and reports match / mismatch / unknown', async () => {
    const registry = await fakeRegistry();
    const registryClient = client();
    const target = repo(registry, 'multi/app');
    const { digest, byPlatform } = registry.pushIndex('multi/app', 'latest', ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7', 'linux/arm/v6']);

    const amd64 = await registryClient.resolveTag(target, 'latest', 'linux/amd64');
    assert.deepEqual(amd64, {
      digest,
      platformDigest: byPlatform['linux/amd64'],
      platforms: ['linux/amd64', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm64/v8'],
      archMatch: 'match',
    });
    assert.equal(registry.count({ method: 'GET', kind: 'blob' }), 0, 'an index names its platforms: no config blobs needed');

    const arm64 = await registryClient.resolveTag(target, 'latest', 'linux/arm64');
    assert.equal(arm64.platformDigest, byPlatform['linux/arm64/v8']);
    assert.equal(arm64.archMatch, 'match');

    const armV7 = await registryClient.resolveTag(target, 'latest', 'linux/arm/v7');
    assert.equal(armV7.platformDigest, byPlatform['linux/arm/v7']);

    const armAny = await registryClient.resolveTag(target, 'latest', 'linux/arm');
    assert.equal(armAny.archMatch, 'match');
    assert.equal(armAny.platformDigest, undefined, 'two arm variants: no unique os/arch match');

    const riscv = await registryClient.resolveTag(target, 'latest', 'linux/riscv64');
    assert.equal(riscv.archMatch, 'mismatch');
    assert.equal(riscv.platformDigest, undefined);
    assert.equal(registry.count({ method: 'GET', kind: 'manifest' }), 1, 'the index was fetched once for every host platform');

    registry.pushImage('multi/plain', 'v1', undefined);
    const unknown = await registryClient.resolveTag(repo(registry, 'multi/plain'), 'v1', 'linux/amd64');
    assert.equal(unknown.archMatch, 'unknown');
    assert.deepEqual(unknown.platforms, []);
  });

  it('reads Docker manifest lists too', async () => {
    const registry = await fakeRegistry();
    const { digest, byPlatform } = registry.pushIndex('multi/list', 'v2', ['linux/amd64', 'linux/arm64'], MEDIA_TYPES.dockerManifestList);
    const manifest = await client().getManifest(repo(registry, 'multi/list'), 'v2');
    assert.deepEqual(manifest, {
      kind: 'index',
      digest,
      mediaType: MEDIA_TYPES.dockerManifestList,
      manifests: [
        { platform: 'linux/amd64', digest: byPlatform['linux/amd64'] },
        { platform: 'linux/arm64', digest: byPlatform['linux/arm64'] },
      ],
    });
  });

  it('turns garbage into invalid_response', async () => {
    const registry = await fakeRegistry();
    registry.interceptor = (req, res, kind) => {
      if (kind !== 'manifest') return false;
      const body = Buffer.from('{"schemaVersion": 2, garbage');
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociIndex, 'Docker-Content-Digest': sha256(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    };
    const error = await rejectsWith(client().resolveTag(repo(registry, 'bad/json'), 'v1', 'linux/amd64'), 'invalid_response', /not valid JSON/);
    assert.match(error.message, new RegExp(`^${registry.host}/bad/json: `));
  });
});

describe('RegistryClient: authentication', () => {
  it('fetches one anonymous bearer token per repository and reuses it until it expires', async () => {
    const registry = await fakeRegistry({ scheme: 'bearer' });
    const digest = registry.pushImage('pub/app', 'v1', 'linux/amd64');
    const registryClient = client();
    const target = repo(registry, 'pub/app');

    const results = await Promise.all(Array.from({ length: 10 }, () => registryClient.headManifest(target, 'v1')));
    assert.ok(results.every((head) => head.digest === digest));
    assert.equal(registry.count({ kind: 'token' }), 1, 'concurrent callers share one token request');
    const tokenRequest = registry.requests.find((r) => r.kind === 'token')!;
    assert.equal(tokenRequest.query.get('service'), 'fake-registry');
    assert.equal(tokenRequest.query.get('scope'), 'repository:pub/app:pull');
    assert.equal(tokenRequest.authorization, undefined, 'anonymous: no credentials configured');

    registry.resetCounters();
    for (let i = 0; i < 5; i++) await registryClient.headManifest(target, 'v1');
    assert.equal(registry.count({ kind: 'token' }), 0);
    assert.equal(registry.count({ method: 'HEAD' }), 5, 'with a cached token there is no 401 round trip');

    registry.resetCounters();
    registry.pushImage('pub/other', 'v1', 'linux/amd64');
    await registryClient.headManifest(repo(registry, 'pub/other'), 'v1');
    assert.equal(registry.count({ kind: 'token' }), 1, 'another repository is another scope');
  });

  it('renews a token after it expires', async () => {
    const registry = await fakeRegistry({ scheme: 'bearer', expiresIn: 1 });
    registry.pushImage('pub/short', 'v1', 'linux/amd64');
    const registryClient = client();
    const target = repo(registry, 'pub/short');
    await registryClient.headManifest(target, 'v1');
    await registryClient.headManifest(target, 'v1');
    assert.equal(registry.count({ kind: 'token' }), 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    registry.resetCounters();
    await registryClient.headManifest(target, 'v1');
    assert.equal(registry.count({ kind: 'token' }), 1, 'expired token renewed');
    assert.equal(registry.count({ method: 'HEAD', kind: 'manifest' }), 1, 'renewed before the request, so no 401');
  });

  it('sends config.json credentials to the token server, and reports rejected ones without leaking them', async () => {
    const registry = await fakeRegistry({ scheme: 'bearer', username: 'robot', password: 'pa55word' });
    const digest = registry.pushImage('private/app', 'v1', 'linux/amd64');
    const target = repo(registry, 'private/app');

    const good = client({ credentials: credentialsFor(registry, 'robot', 'pa55word') });
    assert.equal((await good.headManifest(target, 'v1')).digest, digest);
    assert.equal(registry.requests.find((r) => r.kind === 'token')?.authorization, `Basic ${Buffer.from('robot:pa55word').toString('base64')}`);

    const bad = client({ credentials: credentialsFor(registry, 'robot', 'wrong-secret') });
    const error = await rejectsWith(bad.headManifest(target, 'v1'), 'unauthorized', /rejected|denied/);
    assert.doesNotMatch(error.message, /wrong-secret|robot/);
    assert.match(error.message, new RegExp(`^${registry.host}/private/app: token: `));

    await rejectsWith(client().headManifest(target, 'v1'), 'unauthorized', /no credentials/);
  });

  it('answers a Basic challenge with config.json credentials, then sends them up front', async () => {
    const registry = await fakeRegistry({ scheme: 'basic', username: 'alice', password: 's3cret' });
    const digest = registry.pushImage('team/app', 'v1', 'linux/amd64');
    const target = repo(registry, 'team/app');

    await rejectsWith(client().headManifest(target, 'v1'), 'unauthorized', /authentication required and the Docker config has no credentials/);
    const wrong = await rejectsWith(client({ credentials: credentialsFor(registry, 'alice', 'nope') }).headManifest(target, 'v1'), 'unauthorized', /configured credentials/);
    assert.doesNotMatch(wrong.message, /nope|alice/);

    registry.resetCounters();
    const registryClient = client({ credentials: credentialsFor(registry, 'alice', 's3cret') });
    assert.equal((await registryClient.headManifest(target, 'v1')).digest, digest);
    assert.equal(registry.count(), 2, '401, then the request with credentials');
    registry.resetCounters();
    const resolved = await registryClient.resolveTag(target, 'v1', 'linux/amd64');
    assert.equal(resolved.archMatch, 'match');
    assert.equal(registry.count(), 3, 'HEAD, manifest and config, each authenticated up front');
    assert.ok(registry.requests.every((r) => r.status === 200));
  });
});

