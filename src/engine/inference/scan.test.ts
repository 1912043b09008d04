import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, fakeRegistry, repo } from '../registry/testing/client-fixture.js';
import { scanDigestTags, tagsToConsider, type ScanRequest } from './scan.js';

const request = (over: Partial<ScanRequest> & Pick<ScanRequest, 'client' | 'target' | 'digest'>): ScanRequest => ({
  hostPlatform: 'linux/amd64',
  anchors: [],
  depth: 40,
  budgetMs: 30_000,
  concurrency: 8,
  ...over,
});

describe('choosing the tags to inspect', () => {
  it('takes the anchors that exist, then the highest versions, then other tags, up to the depth', () => {
    const tags = ['latest', '1.0.0', '1.2', 'v1.10.0', '0.9.1', 'edge', 'legacy-1'];
    assert.deepEqual(tagsToConsider(tags, ['legacy-1', 'gone'], 4), ['legacy-1', 'v1.10.0', '1.2', '1.0.0']);
    assert.deepEqual(tagsToConsider(tags, [], 100), ['v1.10.0', '1.2', '1.0.0', '0.9.1', 'legacy-1', 'latest', 'edge']);
  });
});

describe('digest → tags scan', () => {
  it('finds an anchor tag beyond the depth among 131 tags with one tags page and one HEAD per considered tag', async () => {
    const registry = await fakeRegistry();
    for (let patch = 0; patch < 130; patch++) registry.pushImage('acme/app', `1.0.${patch}`, 'linux/amd64');
    const wanted = registry.pushImage('acme/app', 'legacy-1', 'linux/amd64');
    registry.resetCounters();
    const result = await scanDigestTags(request({ client: client(), target: repo(registry, 'acme/app'), digest: wanted, anchors: ['legacy-1'] }));
    assert.deepEqual(result.tags, ['legacy-1']);
    assert.deepEqual(result.scan, { repoTagsTotal: 131, repoTagsConsidered: 40, manifestsOk: 40, manifestsTimeout: 0, manifestsError: 0 });
    assert.equal(registry.count({ kind: 'tags' }), 1);
    assert.equal(registry.count({ method: 'HEAD', kind: 'manifest' }), 40);
    assert.equal(registry.count({ method: 'GET', kind: 'manifest' }), 0, 'single-platform images need no manifest download');
  });

  it('follows Link pagination of the tag listing', async () => {
    const registry = await fakeRegistry();
    const wanted = registry.pushImage('acme/app', '2.0.0', 'linux/amd64');
    registry.tag('acme/app', 'latest', wanted);
    for (let minor = 0; minor < 25; minor++) registry.pushImage('acme/app', `1.${minor}.0`, 'linux/amd64');
    registry.maxPageSize = 10;
    const result = await scanDigestTags(request({ client: client(), target: repo(registry, 'acme/app'), digest: wanted, anchors: ['latest'] }));
    assert.deepEqual(result.tags, ['2.0.0', 'latest']);
    assert.equal(result.scan.repoTagsTotal, 27);
    assert.equal(registry.count({ kind: 'tags' }), 3);
  });

  it('matches tags whose index holds the wanted digest as the host platform manifest, downloading only index manifests', async () => {
    const registry = await fakeRegistry();
    const release = registry.pushIndex('acme/multi', '3.1.0', ['linux/amd64', 'linux/arm64']);
    registry.tag('acme/multi', '3.1', release.digest);
    registry.tag('acme/multi', 'latest', release.digest);
    registry.pushIndex('acme/multi', '3.0.0', ['linux/amd64', 'linux/arm64']);
    registry.pushImage('acme/multi', '2.0.0', 'linux/amd64');
    const amd64 = release.byPlatform['linux/amd64']!;
    registry.resetCounters();
    const result = await scanDigestTags(request({ client: client(), target: repo(registry, 'acme/multi'), digest: amd64, anchors: ['latest'] }));
    assert.deepEqual(result.tags, ['3.1.0', '3.1', 'latest']);
    // One GET per distinct index (3.1.0/3.1/latest share one), never for the single-platform 2.0.0.
    assert.equal(registry.requests.filter((r) => r.method === 'GET' && r.kind === 'manifest').length, 2);

    registry.resetCounters();
    const byIndex = await scanDigestTags(request({ client: client(), target: repo(registry, 'acme/multi'), digest: release.digest, anchors: ['latest'] }));
    assert.deepEqual(byIndex.tags, ['3.1.0', '3.1', 'latest']);
    assert.equal(registry.count({ method: 'GET', kind: 'manifest' }), 0, 'an index digest is matched by its HEAD alone');
  });

  it("takes every tag's digest from Quay's tag API in pages of 100, with no manifest request per tag", async () => {
    const registry = await fakeRegistry();
    registry.quayApi = true;
    for (let patch = 0; patch < 250; patch++) registry.pushImage('acme/quay', `1.0.${patch}`, 'linux/amd64');
    const wanted = registry.pushImage('acme/quay', '2.0.0', 'linux/amd64');
    registry.tag('acme/quay', 'latest', wanted);
    registry.resetCounters();
    const result = await scanDigestTags(request({ client: client({ quayHosts: [registry.host] }), target: repo(registry, 'acme/quay'), digest: wanted, anchors: ['latest'] }));
    assert.deepEqual(result.tags, ['2.0.0', 'latest']);
    assert.equal(result.scan.repoTagsTotal, 252);
    assert.equal(registry.count({ kind: 'api' }), 3);
    assert.equal(registry.count({ kind: 'tags' }), 0);
    assert.ok(registry.count({ kind: 'manifest' }) <= 1, 'at most one HEAD to tell what the wanted digest is');
  });

  it('reports a failed tag listing as one error and no tags', async () => {
    const registry = await fakeRegistry();
    const wanted = registry.pushImage('acme/app', 'latest', 'linux/amd64');
    registry.interceptor = (_req, res, kind) => {
      if (kind !== 'tags') return false;
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN"}]}');
      return true;
    };
    const result = await scanDigestTags(request({ client: client(), target: repo(registry, 'acme/app'), digest: wanted, anchors: ['latest'] }));
    assert.deepEqual(result.tags, []);
    assert.deepEqual(result.scan, { repoTagsTotal: 0, repoTagsConsidered: 0, manifestsOk: 0, manifestsTimeout: 0, manifestsError: 1 });
    assert.match(result.listingError ?? '', /tags/);
  });

  it('counts failed and timed-out lookups, and tags left when the budget ran out as timeouts', async () => {
    const registry = await fakeRegistry();
    const wanted = registry.pushImage('acme/app', 'latest', 'linux/amd64');
    for (let patch = 0; patch < 9; patch++) registry.pushImage('acme/app', `1.0.${patch}`, 'linux/amd64');
    registry.interceptor = (req, res, kind) => {
      if (kind !== 'manifest' || !req.url?.endsWith('/1.0.8')) return false;
      res.writeHead(404, { 'Content-Type': 'application/json' }).end();
      return true;
    };
    const failing = await scanDigestTags(request({ client: client(), target: repo(registry, 'acme/app'), digest: wanted, anchors: ['latest'] }));
    assert.deepEqual(failing.tags, ['latest']);
    assert.deepEqual([failing.scan.manifestsOk, failing.scan.manifestsError, failing.scan.manifestsTimeout], [9, 1, 0]);

    registry.interceptor = undefined;
    registry.delayMs = 30;
    const late = await scanDigestTags(request({ client: client(), target: repo(registry, 'acme/app'), digest: wanted, anchors: ['latest'], budgetMs: 1, concurrency: 1 }));
    assert.equal(late.scan.repoTagsConsidered, 10);
    assert.ok(late.scan.manifestsTimeout >= 9, JSON.stringify(late.scan));
  });
});
