import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenge, TokenCache } from './auth.js';

describe('parseChallenge', () => {
  it('reads Bearer and Basic challenges, quoted or not', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' },
    });
    assert.deepEqual(parseChallenge('Basic realm="Registry \\"Realm\\""'), { scheme: 'basic', params: { realm: 'Registry "Realm"' } });
    assert.deepEqual(parseChallenge('bearer Realm=https://x/token, service=reg'), { scheme: 'bearer', params: { realm: 'https://x/token', service: 'reg' } });
    assert.equal(parseChallenge(null), undefined);
    assert.equal(parseChallenge('   '), undefined);
  });
});

describe('TokenCache', () => {
  it('shares one request, keeps the token until shortly before expiry, and forgets failures and refused tokens', async () => {
    let now = 0;
    let issued = 0;
    const cache = new TokenCache(() => now);
    const issue = async () => ({ token: `t${++issued}`, expiresInSeconds: 60 });

    assert.deepEqual(await Promise.all([cache.get('k', issue), cache.get('k', issue)]), ['t1', 't1']);
    now = 49_000;
    assert.equal(await cache.get('k', issue), 't1', 'still fresh 11 s before expiry');
    now = 50_000;
    assert.equal(await cache.get('k', issue), 't2', 'renewed 10 s before expiry');

    cache.invalidate('k', 't1');
    assert.equal(await cache.get('k', issue), 't2', 'an older token does not evict the current one');
    cache.invalidate('k', 't2');
    assert.equal(await cache.get('k', issue), 't3');

    await assert.rejects(cache.get('failing', () => Promise.reject(new Error('down'))), /down/);
    assert.equal(await cache.get('failing', issue), 't4', 'a failure is not cached');
  });
});
