import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { CheckSession } from './session.js';
import { FakeRegistry } from './testing/fake-registry.js';

describe('CheckSession', () => {
  let registry: FakeRegistry;
  after(() => registry.close());

  it('asks for each tag once per run however many services share it, failures included', async () => {
    registry = await FakeRegistry.start({ scheme: 'bearer' });
    registry.delayMs = 20;
    const digest = registry.pushImage('shared/app', 'latest', 'linux/amd64');
    const client = new RegistryClient();
    const target = { registry: registry.host, repository: 'shared/app' };

    const session = new CheckSession(client, 'linux/amd64');
    const digests = await Promise.all(Array.from({ length: 10 }, () => session.tagDigest(target, 'latest')));
    assert.ok(digests.every((each) => each === digest));
    assert.equal(registry.count({ method: 'HEAD', kind: 'manifest' }), 2, 'one HEAD, plus the 401 that asked for a token');
    assert.equal(registry.count({ kind: 'token' }), 1);
    assert.equal(registry.count({ method: 'GET' }), 1, 'only the token: no manifest until details are asked for');

    const details = await Promise.all(Array.from({ length: 5 }, () => session.platformDetails(target, digest)));
    assert.ok(details.every((each) => each.archMatch === 'match' && each.platforms.includes('linux/amd64')));
    assert.equal(registry.count({ method: 'GET' }), 3, 'token, then manifest and config once');

    const failures = await Promise.allSettled(Array.from({ length: 5 }, () => session.tagDigest(target, 'missing')));
    assert.ok(failures.every((f) => f.status === 'rejected' && f.reason instanceof RegistryError && f.reason.kind === 'not_found'));
    assert.equal(registry.count({ method: 'HEAD', kind: 'manifest' }), 3, 'the failed tag was asked for once');

    registry.resetCounters();
    const nextRun = new CheckSession(client, 'linux/amd64');
    await Promise.all(Array.from({ length: 10 }, () => nextRun.tagDigest(target, 'latest')));
    await nextRun.platformDetails(target, digest);
    assert.equal(registry.count(), 1, 'a new run: one HEAD; token and manifest still cached in the client');
  });
});
