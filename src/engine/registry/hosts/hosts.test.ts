import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { RegistryHttp } from '../http.js';
import { parseImageRef } from '../reference.js';
import { CheckSession } from '../session.js';
import { client, fakeRegistry } from '../testing/client-fixture.js';
import { dockerHubProfile } from './docker-hub.js';
import { RegistryHosts } from './index.js';

describe('registry host profiles: where the API is', () => {
  it('uses plain HTTP for loopback and insecure registries, HTTPS otherwise', () => {
    const hosts = new RegistryHosts({ insecureRegistries: ['registry.lan:5000', 'plain.lan'] });
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
    for (const [registry, expected] of cases) assert.equal(hosts.profileFor(registry).apiBaseUrl(registry), expected, registry);
  });

  it('names the family of each host, with the Quay and GHCR hosts as configured', () => {
    const hosts = new RegistryHosts({ quayHosts: ['quay.example.com'], ghcrHost: '127.0.0.1:5999' });
    assert.equal(hosts.profileFor('docker.io').family, 'docker-hub');
    assert.equal(hosts.profileFor('quay.example.com').family, 'quay');
    assert.equal(hosts.profileFor('quay.io').family, 'distribution');
    assert.equal(hosts.profileFor('127.0.0.1:5999').family, 'ghcr');
    assert.equal(hosts.profileFor('ghcr.io').family, 'distribution');
    assert.equal(new RegistryHosts().profileFor('quay.io').family, 'quay');
    assert.equal(hosts.profileFor('docker.io').pullScope('library/nginx'), 'repository:library/nginx:pull');
  });

  it('follows the parsed image reference through to a request', async () => {
    const registry = await fakeRegistry();
    const digest = registry.pushImage('app/ref', '2.0', 'linux/amd64');
    const ref = parseImageRef(`${registry.host}/app/ref:2.0`);
    assert.equal((await client().headManifest(ref, ref.tag!)).digest, digest);
  });
});

describe('Quay: tag digests from its own API', () => {
  it('lists every active tag in pages of 100, one request a page', async () => {
    const registry = await fakeRegistry();
    registry.quayApi = true;
    const pushed = new Map<string, string>();
    for (let index = 0; index < 250; index++) pushed.set(`1.0.${index}`, registry.pushImage('acme/app', `1.0.${index}`, 'linux/amd64'));
    const registryClient = client({ quayHosts: [registry.host] });
    const target = { registry: registry.host, repository: 'acme/app' };
    registry.resetCounters();
    const digests = await registryClient.hosts.profileFor(registry.host).tagDigests!(target, 'all', registryClient.http);
    assert.deepEqual(digests, pushed);
    assert.equal(registry.count({ kind: 'api' }), 3);
    assert.ok(registry.requests.every((request) => request.query.get('onlyActiveTags') === 'true' && request.query.get('limit') === '100'));
    assert.equal(registry.count({ kind: 'manifest' }), 0);
  });

  it('asks for a few tags by name', async () => {
    const registry = await fakeRegistry();
    registry.quayApi = true;
    const latest = registry.pushImage('acme/app', 'latest', 'linux/amd64');
    registry.pushImage('acme/app', 'edge', 'linux/amd64');
    const registryClient = client({ quayHosts: [registry.host] });
    registry.resetCounters();
    const digests = await registryClient.hosts.profileFor(registry.host).tagDigests!({ registry: registry.host, repository: 'acme/app' }, ['latest', 'gone'], registryClient.http);
    assert.deepEqual(digests, new Map([['latest', latest]]));
    assert.deepEqual(registry.requests.map((request) => request.query.get('specificTag')), ['latest', 'gone']);
  });

  it('serves a check with one API request per tag and no registry token or HEAD', async () => {
    const registry = await fakeRegistry({ scheme: 'bearer' });
    registry.quayApi = true;
    const latest = registry.pushImage('acme/app', 'latest', 'linux/amd64');
    const session = new CheckSession(client({ quayHosts: [registry.host] }), 'linux/amd64');
    const target = parseImageRef(`${registry.host}/acme/app:latest`);
    registry.resetCounters();
    session.prefetch([{ target, tag: 'latest' }, { target, tag: 'latest' }]);
    assert.equal(await session.tagDigest(target, 'latest'), latest);
    assert.deepEqual(registry.requests.map((request) => request.kind), ['api']);
  });

  it('falls back to HEAD for a tag the API does not list, and when the API refuses', async () => {
    const registry = await fakeRegistry();
    const latest = registry.pushImage('acme/app', 'latest', 'linux/amd64');
    const session = new CheckSession(client({ quayHosts: [registry.host] }), 'linux/amd64');
    const target = parseImageRef(`${registry.host}/acme/app:latest`);
    registry.resetCounters();
    // quayApi is off: the API answers 404, as Quay does for a private repository without a token.
    session.prefetch([{ target, tag: 'latest' }]);
    assert.equal(await session.tagDigest(target, 'latest'), latest);
    assert.deepEqual(registry.requests.map((request) => `${request.method} ${request.kind}`), ['GET api', 'HEAD manifest']);
  });

  it('leaves registries without a tag API to one HEAD per tag', async () => {
    const registry = await fakeRegistry();
    const latest = registry.pushImage('acme/app', 'latest', 'linux/amd64');
    const session = new CheckSession(client(), 'linux/amd64');
    const target = parseImageRef(`${registry.host}/acme/app:latest`);
    registry.resetCounters();
    session.prefetch([{ target, tag: 'latest' }]);
    assert.equal(await session.tagDigest(target, 'latest'), latest);
    assert.deepEqual(registry.requests.map((request) => `${request.method} ${request.kind}`), ['HEAD manifest']);
  });
});

describe("Docker Hub: tag digests from hub.docker.com's API", () => {
  const servers: Server[] = [];
  after(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

  /** A Hub API double: `/v2/namespaces/{ns}/repositories/{repo}/tags[/{tag}]`, paged with absolute `next` links. */
  async function hubApi(tags: Record<string, string>, pageSize = 2) {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://hub');
      requests.push(url.pathname + url.search);
      const match = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags(?:\/([^/]+))?$/.exec(url.pathname);
      const json = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      if (!match || `${match[1]}/${match[2]}` !== 'library/nginx') return json(404, { message: 'object not found' });
      if (match[3]) return tags[match[3]] ? json(200, { name: match[3], digest: tags[match[3]] }) : json(404, { message: 'tag not found' });
      const names = Object.keys(tags).sort();
      const page = Number(url.searchParams.get('page') ?? 1);
      const slice = names.slice((page - 1) * pageSize, page * pageSize);
      const next = page * pageSize < names.length ? `http://${req.headers.host}${url.pathname}?page_size=100&page=${page + 1}` : null;
      const mediaType = (name: string) => (name === 'latest' ? { media_type: 'application/vnd.oci.image.index.v1+json' } : name === 'alpine' ? { media_type: 'application/vnd.docker.distribution.manifest.v2+json' } : {});
      json(200, { count: names.length, next, previous: null, results: slice.map((name) => ({ name, digest: tags[name], ...mediaType(name) })) });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
  }

  const target = parseImageRef('nginx:latest');
  const tags = { latest: 'sha256:aaa', '1.27': 'sha256:bbb', '1.26': 'sha256:ccc', alpine: 'sha256:ddd', stable: 'sha256:eee' };

  it('follows next links across pages of the listing', async () => {
    const api = await hubApi(tags);
    const digests = await dockerHubProfile(api.base).tagDigests!(target, 'all', new RegistryHttp());
    assert.deepEqual(Object.fromEntries(digests), tags);
    assert.equal(api.requests.length, 3);
  });

  it('says which tags are multi-platform indexes, where Hub names the media type', async () => {
    const api = await hubApi(tags);
    const listed = await dockerHubProfile(api.base).listTagManifests!(target, new RegistryHttp());
    assert.deepEqual(listed.get('latest'), { digest: 'sha256:aaa', index: true });
    assert.deepEqual(listed.get('alpine'), { digest: 'sha256:ddd', index: false });
    assert.deepEqual(listed.get('stable'), { digest: 'sha256:eee' });
  });

  it('asks for a few tags by name and leaves out the ones Hub does not know', async () => {
    const api = await hubApi(tags);
    const digests = await dockerHubProfile(api.base).tagDigests!(target, ['latest', 'nope'], new RegistryHttp());
    assert.deepEqual(Object.fromEntries(digests), { latest: 'sha256:aaa' });
    assert.deepEqual(api.requests, ['/v2/namespaces/library/repositories/nginx/tags/latest', '/v2/namespaces/library/repositories/nginx/tags/nope']);
  });
});
