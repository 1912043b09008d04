// The GitHub client against the REST double: the headers GitHub asks for, pagination, and how
// each way GitHub can fail comes out (kind, status, retry hint), including bounded waits for rate
// limits and retries of transient failures.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { GithubCallError, GithubClient, retryAfterSeconds, type GithubClientOptions } from '../src/engine/github/client.js';
import { GithubDouble } from './fixtures/github-double.js';

const TOKEN = 'ghp_clientTest';

describe('GitHub client', () => {
  let github: GithubDouble;
  const client = (options: Partial<GithubClientOptions> = {}) =>
    new GithubClient({ baseUrl: github.baseUrl, token: TOKEN, timeoutMs: 1000, retries: 0, maxRateLimitWaitMs: 0, userAgent: 'dockrev/test', logger: pino({ level: 'silent' }), retryBackoffUnitMs: 10, ...options });
  const failure = async (call: Promise<unknown>): Promise<GithubCallError> => {
    const error = await call.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof GithubCallError, `expected a GithubCallError, got ${String(error)}`);
    return error;
  };

  before(async () => {
    github = await GithubDouble.start();
    github.addToken(TOKEN, 'octo');
    github.addToken('ghp_publicOnly', 'octo', ['public_repo']);
    for (let i = 0; i < 205; i++) github.addRepo({ owner: 'many', name: `r${String(i).padStart(3, '0')}` });
    github.addRepo({ owner: 'acme', name: 'web' });
  });
  beforeEach(() => {
    github.calls.length = 0;
    github.delayMs = 0;
  });
  after(() => github.close());

  it('sends GitHub’s media type, API version and the token, and follows Link pages', async () => {
    const repos = await client().listOwnerRepositories('many');
    assert.equal(repos.length, 205);
    assert.deepEqual(github.calls.map((call) => [call.path, call.query.page ?? '1', call.query.per_page]), [
      ['/orgs/many/repos', '1', '100'],
      ['/orgs/many/repos', '2', '100'],
      ['/orgs/many/repos', '3', '100'],
    ]);
    for (const call of github.calls) {
      assert.deepEqual([call.accept, call.apiVersion, call.authorization], ['application/vnd.github+json', '2022-11-28', `token ${TOKEN}`]);
    }
  });

  it('tells a bad PAT, a missing scope, an unknown repository and a refused hook apart', async () => {
    assert.deepEqual(
      await failure(client({ token: 'ghp_wrong' }).getRepository('acme', 'web')).then((error) => [error.kind, error.status, error.transient]),
      ['unauthorized', 401, false],
    );
    const scope = await failure(client({ token: 'ghp_publicOnly' }).listHooks('acme', 'web'));
    assert.deepEqual([scope.kind, scope.status], ['unauthorized', 403]);
    assert.match(scope.message, /Resource not accessible by personal access token/);
    assert.equal((await failure(client().getRepository('acme', 'nope'))).kind, 'not_found');
    const config = { url: 'https://dockrev.example.com/hook', secret: 's3cret' };
    await client().createHook('acme', 'web', config);
    const duplicate = await failure(client().createHook('acme', 'web', config));
    assert.deepEqual([duplicate.kind, duplicate.status], ['rejected', 422]);
    assert.match(duplicate.message, /Hook already exists/);
    assert.ok(!duplicate.message.includes('s3cret') && !JSON.stringify(duplicate).includes('s3cret'), 'the request body stays out of the error');
    assert.equal(await client().deleteHook('acme', 'web', 1), false, 'a hook that is gone is not an error');
  });

  it('times out each attempt and retries transient failures only as often as asked', async () => {
    github.delayMs = 1500;
    const slow = await failure(client({ timeoutMs: 200 }).getRepository('acme', 'web'));
    assert.deepEqual([slow.kind, slow.transient], ['timeout', true]);
    github.delayMs = 0;
    github.calls.length = 0;
    github.failNext(2, 502);
    assert.equal((await client({ retries: 2 }).getRepository('acme', 'web')).fullName, 'acme/web');
    assert.equal(github.calls.length, 3);
    github.failNext(1, 503);
    const once = await failure(client().getRepository('acme', 'web'));
    assert.deepEqual([once.kind, once.status], ['unavailable', 503]);
  });

  it('waits for a rate limit only as long as allowed, and otherwise says when to come back', async () => {
    github.secondaryLimit(1, 1);
    const started = Date.now();
    assert.equal((await client({ maxRateLimitWaitMs: 5000 }).getRepository('acme', 'web')).name, 'web');
    assert.ok(Date.now() - started >= 900, 'waited for Retry-After');

    github.secondaryLimit(1, 60);
    const secondary = await failure(client({ maxRateLimitWaitMs: 5000, retries: 2 }).getRepository('acme', 'web'));
    assert.deepEqual([secondary.kind, secondary.status, secondary.retryAfterSeconds], ['rate_limited', 403, 60]);

    const reset = Math.floor(Date.now() / 1000) + 120;
    github.rateLimit = { remaining: 0, resetAt: reset };
    const calls = github.calls.length;
    const primary = await failure(client({ retries: 2 }).getRepository('acme', 'web'));
    github.rateLimit = { remaining: 5000, resetAt: reset };
    assert.equal(primary.kind, 'rate_limited');
    assert.ok(primary.retryAfterSeconds! >= 118 && primary.retryAfterSeconds! <= 120, String(primary.retryAfterSeconds));
    assert.equal(github.calls.length, calls + 1, 'an exhausted budget is not retried blindly');
  });

  it('reads the wait from Retry-After or from the reset of an exhausted budget', () => {
    assert.equal(retryAfterSeconds({ 'retry-after': '30' }), 30);
    assert.equal(retryAfterSeconds({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1000' }, 990_000), 10);
    assert.equal(retryAfterSeconds({ 'x-ratelimit-remaining': '12', 'x-ratelimit-reset': '1000' }, 990_000), undefined);
  });
});
