import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryClient, type RegistryRequestEvent } from './client.js';
import { client, fakeRegistry, freePort, rejectsWith, repo } from './testing/client-fixture.js';

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

