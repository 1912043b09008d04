import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { RegistryClient, registryBaseUrl, type RegistryClientOptions, type RegistryRequestEvent } from './client.js';
import { DockerCredentials } from './credentials.js';
import { RegistryError, type RegistryErrorKind } from './errors.js';
import { MEDIA_TYPES } from './manifest.js';
import { parseImageRef, type RepositoryRef } from './reference.js';
import { FakeRegistry, sha256, type FakeAuth } from './testing/fake-registry.js';

const FAST_RETRY = { maxAttempts: 3, baseMs: 10, maxMs: 2000 };

const registries: FakeRegistry[] = [];
after(async () => {
  for (const registry of registries) await registry.close();
});

async function fakeRegistry(auth?: FakeAuth): Promise<FakeRegistry> {
  const registry = await FakeRegistry.start(auth);
  registries.push(registry);
  return registry;
}

function repo(registry: FakeRegistry, repository: string): RepositoryRef {
  return { registry: registry.host, repository };
}

function credentialsFor(registry: FakeRegistry, username: string, password: string): DockerCredentials {
  return new DockerCredentials(new Map([[registry.host, { username, password }]]));
}

function client(options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient({ retry: FAST_RETRY, ...options });
}

async function rejectsWith(promise: Promise<unknown>, kind: RegistryErrorKind, message?: RegExp): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected a ${kind} RegistryError`);
}

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

describe('RegistryClient: tags', () => {
  it('follows Link pagination', async () => {
    const registry = await fakeRegistry();
    registry.maxPageSize = 100;
    const tags = Array.from({ length: 250 }, (_, i) => `v${String(i).padStart(3, '0')}`);
    registry.setTags('paged/app', tags);
    const listed = await client().listTags(repo(registry, 'paged/app'));
    assert.deepEqual(listed, tags);
    assert.equal(registry.count({ kind: 'tags' }), 3);
    assert.deepEqual(
      registry.requests.map((r) => r.query.get('last')),
      [null, 'v099', 'v199'],
    );
  });

  it('pages with n/last when a full page comes without a Link', async () => {
    const registry = await fakeRegistry();
    registry.linkPagination = false;
    const tags = ['a', 'b', 'c', 'd', 'e'];
    registry.setTags('nolink/app', tags);
    assert.deepEqual(await client({ tagsPageSize: 2 }).listTags(repo(registry, 'nolink/app')), tags);
    assert.equal(registry.count({ kind: 'tags' }), 3);
  });

  it('lists an empty repository and rejects a body that is not a tag list', async () => {
    const registry = await fakeRegistry();
    registry.interceptor = (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.url!.includes('empty') ? '{"name":"empty","tags":null}' : '{"name":"odd","tags":"v1"}');
      return true;
    };
    assert.deepEqual(await client().listTags(repo(registry, 'empty')), []);
    await rejectsWith(client().listTags(repo(registry, 'odd')), 'invalid_response', /not a tag list/);
  });
});

describe('RegistryClient: retries, timeouts, limits', () => {
  it('honours Retry-After on 429 and then succeeds', async () => {
    const registry = await fakeRegistry();
    const digest = registry.pushImage('busy/app', 'v1', 'linux/amd64');
    let refused = 0;
    registry.interceptor = (_req, res) => {
      if (refused++ > 0) return false;
      res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
      return true;
    };
    const started = Date.now();
    const head = await client().headManifest(repo(registry, 'busy/app'), 'v1');
    const elapsed = Date.now() - started;
    assert.equal(head.digest, digest);
    assert.equal(registry.count(), 2);
    assert.ok(elapsed >= 950 && elapsed < 1900, `waited ${elapsed} ms for Retry-After: 1`);
  });

  it('gives up at once when Retry-After is beyond the back-off cap', async () => {
    const registry = await fakeRegistry();
    registry.interceptor = (_req, res) => {
      res.writeHead(429, { 'Retry-After': '3600' });
      res.end();
      return true;
    };
    const error = await rejectsWith(client().headManifest(repo(registry, 'limited/app'), 'v1'), 'rate_limited', /rate limited \(429\), retry after 3600 s/);
    assert.equal(error.retryAfterMs, 3_600_000);
    assert.equal(registry.count(), 1);
  });

  it('retries 503 with back-off and fails after maxAttempts', async () => {
    const registry = await fakeRegistry();
    registry.interceptor = (_req, res) => {
      res.writeHead(503);
      res.end();
      return true;
    };
    const events: RegistryRequestEvent[] = [];
    const error = await rejectsWith(
      client({ retry: { maxAttempts: 3, baseMs: 20, maxMs: 100 }, onRequest: (event) => events.push(event) }).headManifest(repo(registry, 'down/app'), 'v1'),
      'unavailable',
      /registry unavailable \(503\)/,
    );
    assert.equal(error.status, 503);
    assert.equal(registry.count(), 3);
    assert.deepEqual(
      events.map((e) => [e.method, e.kind, e.status, e.host]),
      Array.from({ length: 3 }, () => ['HEAD', 'manifest', 503, registry.host]),
    );
  });

  it('does not retry other 4xx', async () => {
    const registry = await fakeRegistry();
    await rejectsWith(client().headManifest(repo(registry, 'missing/app'), 'nope'), 'not_found', /manifest nope: not found \(404\)/);
    assert.equal(registry.count(), 1);
  });

  it('times out a registry that never answers, without retrying', async () => {
    const registry = await fakeRegistry();
    registry.interceptor = () => true;
    const started = Date.now();
    await rejectsWith(client({ timeoutMs: 300 }).headManifest(repo(registry, 'slow/app'), 'v1'), 'timeout', /within 300 ms/);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 280 && elapsed < 1000, `timed out after ${elapsed} ms`);
    assert.equal(registry.count(), 1);
  });

  it('retries network errors and reports the registry unavailable', async () => {
    const port = await freePort();
    const events: RegistryRequestEvent[] = [];
    const error = await rejectsWith(
      client({ onRequest: (event) => events.push(event) }).headManifest({ registry: `127.0.0.1:${port}`, repository: 'gone/app' }, 'v1'),
      'unavailable',
      /unreachable \(ECONNREFUSED\)/,
    );
    assert.equal(error.registry, `127.0.0.1:${port}`);
    assert.deepEqual(events.map((e) => e.status), [0, 0, 0]);
  });

  it('keeps at most perHostConcurrency requests in flight per host', async () => {
    const registry = await fakeRegistry();
    registry.delayMs = 50;
    for (let i = 0; i < 12; i++) registry.pushImage('wide/app', `t${i}`, 'linux/amd64');
    const registryClient = client({ perHostConcurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => registryClient.headManifest(repo(registry, 'wide/app'), `t${i}`)));
    assert.equal(registry.maxInFlight, 3);

    registry.resetCounters();
    const defaultClient = client();
    await Promise.all(Array.from({ length: 12 }, (_, i) => defaultClient.headManifest(repo(registry, 'wide/app'), `t${i}`)));
    assert.equal(registry.maxInFlight, 7, 'default limit');
  });
});

describe('RegistryClient.fromConfig', () => {
  it('takes retry settings from the config and reports an unreadable Docker config as a warning', async () => {
    const registry = await fakeRegistry();
    registry.interceptor = (_req, res) => {
      res.writeHead(503);
      res.end();
      return true;
    };
    const { client: configured, warnings } = await RegistryClient.fromConfig({
      dockerConfigPath: '/nonexistent/dockrev/config.json',
      insecureRegistries: [],
      registryRetry: { maxAttempts: 2, baseMs: 1, maxMs: 5 },
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /not found; registries are accessed anonymously/);
    await rejectsWith(configured.headManifest(repo(registry, 'cfg/app'), 'v1'), 'unavailable');
    assert.equal(registry.count(), 2, 'maxAttempts from the config');
  });
});

describe('registryBaseUrl', () => {
  it('uses plain HTTP for loopback and insecure registries, HTTPS otherwise', () => {
    const insecure = new Set(['registry.lan:5000', 'plain.lan']);
    const cases: Array<[string, string]> = [
      ['localhost', 'http://localhost'],
      ['localhost:5000', 'http://localhost:5000'],
      ['127.0.0.1:5101', 'http://127.0.0.1:5101'],
      ['127.1.2.3', 'http://127.1.2.3'],
      ['[::1]:5000', 'http://[::1]:5000'],
      ['registry.lan:5000', 'http://registry.lan:5000'],
      ['registry.lan:5001', 'https://registry.lan:5001'],
      ['plain.lan:8080', 'http://plain.lan:8080'],
      ['ghcr.io', 'https://ghcr.io'],
      ['docker.io', 'https://registry-1.docker.io'],
      ['128.0.0.1:5000', 'https://128.0.0.1:5000'],
    ];
    for (const [registry, expected] of cases) assert.equal(registryBaseUrl(registry, insecure), expected, registry);
  });

  it('follows the parsed image reference through to a request', async () => {
    const registry = await fakeRegistry();
    const digest = registry.pushImage('app/ref', '2.0', 'linux/amd64');
    const ref = parseImageRef(`${registry.host}/app/ref:2.0`);
    assert.equal((await client().headManifest(ref, ref.tag!)).digest, digest);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
