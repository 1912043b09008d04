// GitHub packages management through the API against a local GitHub REST double: settings with
// masked secrets, targets and owner listings (Link pagination, PAT and upstream failures), tracked
// repositories, and the webhook jobs a worker runs on the double (register, repair, conflict,
// unregister, retries after GitHub failures and rate limits, the scheduled audit).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GithubDouble } from '../test/fixtures/github-double.js';
import { jobReader, startApi, waitForJob, type Api, type CallOptions, type CallResult } from './harness.js';

const PAT = 'ghp_plantedSecretPat0123456789abcdefABCDEF';
const CALLBACK = 'https://dockrev.example.com/api/webhooks/github-packages';
const as = { user: 'ops' };

describe('GitHub packages management', () => {
  let api: Api;
  let github: GithubDouble;
  let secret = '';
  const texts: string[] = [];

  /** Every answer is kept, so that the last test can look for the planted secrets in all of them. */
  const call = async (operationId: string, options: CallOptions = {}): Promise<CallResult> => {
    const result = await api.call(operationId, { ...as, ...options });
    texts.push(result.text);
    return result;
  };
  const job = (jobId: string) => waitForJob(jobReader(api), jobId, { timeoutMs: 30_000 });
  const repo = async (fullName: string) => (await call('listGithubPackagesRepos', { query: { q: fullName } })).body.repos.find((entry: any) => entry.fullName === fullName);
  const enable = (body: Record<string, unknown> = {}) => call('putGithubPackagesSettings', { body: { enabled: true, callbackUrl: CALLBACK, pat: PAT, ...body } });

  before(async () => {
    github = await GithubDouble.start();
    github.addToken(PAT, 'octo');
    github.addToken('ghp_noHookScope', 'octo', ['public_repo']);
    for (const name of ['web', 'api']) github.addRepo({ owner: 'acme', name });
    github.addRepo({ owner: 'acme', name: 'vault', private: true });
    for (let i = 0; i < 150; i++) github.addRepo({ owner: 'bigorg', name: `repo-${String(i).padStart(3, '0')}` });
    github.addRepo({ owner: 'octo', name: 'dotfiles' }, 'User');
    github.addRepo({ owner: 'octo', name: 'diary', private: true }, 'User');
    github.addRepo({ owner: 'someone', name: 'tool' }, 'User');
    api = await startApi({
      env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_GITHUB_API_BASE_URL: github.baseUrl, DOCKREV_GITHUB_TIMEOUT_SECONDS: '1', DOCKREV_GHCR_HOST: '127.0.0.1:9' },
      engine: { githubRetry: { baseMs: 50, maxAttempts: 2, callBackoffUnitMs: 10 } },
    });
  });
  after(async () => {
    await api?.close();
    await github?.close();
  });

  it('starts disabled with nothing stored, and asks for an identity first', async () => {
    const settings = await call('getGithubPackagesSettings');
    assert.deepEqual(settings.body, { enabled: false, callbackUrl: '', targets: [], reposTotal: 0, reposSelectedTotal: 0, patMasked: null, secretMasked: null });
    assert.equal((await api.call('getGithubPackagesSettings')).status, 401);
    assert.equal((await api.call('putGithubPackagesSettings', { body: { enabled: false, callbackUrl: '' } })).status, 401);
  });

  it('needs a PAT before it asks GitHub about an owner or adds a target', async () => {
    const resolve = await call('resolveGithubPackagesInput', { body: { input: 'acme' } });
    assert.equal(resolve.status, 400);
    assert.deepEqual(resolve.body.error, { code: 'invalid_argument', message: 'pat is required before resolving owner', details: { reason: 'ghcr_pat_missing', owner: 'acme' } });
    const add = await call('addGithubPackagesTarget', { body: { input: 'acme' } });
    assert.equal(add.status, 400);
    assert.equal(add.body.error.message, 'pat is required');
    assert.equal(github.calls.length, 0);
  });

  it('refuses bad settings before storing any of them', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ enabled: false, callbackUrl: 'not a url' }, 'invalid callbackUrl'],
      [{ enabled: true, callbackUrl: CALLBACK }, 'pat is required when enabled=true'],
      [{ enabled: false, callbackUrl: CALLBACK, targets: [{ input: 'https://gitlab.com/acme' }] }, 'invalid target input'],
      [{ enabled: false, callbackUrl: CALLBACK, repos: [{ fullName: 'acme', selected: true }] }, 'invalid repos'],
    ];
    for (const [body, message] of cases) {
      const response = await call('putGithubPackagesSettings', { body });
      assert.equal(response.status, 400, message);
      assert.equal(response.body.error.message, message);
    }
    assert.deepEqual((await call('putGithubPackagesSettings', { body: cases[2]![0] })).body.error.details, { input: 'https://gitlab.com/acme', error: 'unsupported host: gitlab.com' });
    assert.equal((await call('getGithubPackagesSettings')).body.callbackUrl, '');
  });

  it('stores the PAT, shows it masked, keeps it when the mask comes back, and generates the webhook secret once', async () => {
    const saved = await enable({ targets: [{ input: 'acme' }], repos: [{ fullName: 'acme/api', selected: false }, { fullName: 'Acme/API', selected: false }] });
    assert.deepEqual(saved.body, { ok: true });
    const view = (await call('getGithubPackagesSettings')).body;
    assert.deepEqual(view, {
      enabled: true,
      callbackUrl: CALLBACK,
      targets: [{ input: 'acme', kind: 'owner', owner: 'acme', warnings: [] }],
      reposTotal: 1,
      reposSelectedTotal: 0,
      patMasked: '******',
      secretMasked: '******',
    });
    const stored = await api.store.githubPackages.getSettings();
    assert.equal(stored.pat, PAT);
    assert.match(stored.webhookSecret!, /^[A-Za-z0-9+/]{43}$/, '32 random bytes, base64 without padding');
    secret = stored.webhookSecret!;
    for (const pat of ['******', '••••••••••••••••', '', null, undefined]) {
      await call('putGithubPackagesSettings', { body: { enabled: true, callbackUrl: CALLBACK, ...(pat === undefined ? {} : { pat }) } });
      assert.deepEqual(await api.store.githubPackages.getSettings(), { ...stored, callbackUrl: CALLBACK }, `pat ${String(pat)} keeps what is stored`);
    }
  });

  it('resolves a repository input without asking GitHub', async () => {
    const before = github.calls.length;
    const resolved = await call('resolveGithubPackagesInput', { body: { input: 'git@github.com:acme/widgets.git' } });
    assert.deepEqual(resolved.body, {
      kind: 'repo',
      owner: 'acme',
      repos: [{ fullName: 'acme/widgets', selected: true, visibility: 'unknown', lastActivityAt: null, deployed: false }],
      warnings: [],
    });
    assert.equal(github.calls.length, before);
    const invalid = await call('resolveGithubPackagesInput', { body: { input: 'acme/web/x/../..' } });
    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.body.error, { code: 'invalid_argument', message: 'invalid input', details: { input: 'acme/web/x/../..', error: 'unrecognized target input' } });
  });

  it('lists an organization’s repositories with the PAT and GitHub’s headers', async () => {
    const resolved = await call('resolveGithubPackagesInput', { body: { input: 'https://github.com/acme' } });
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.kind, 'owner');
    assert.deepEqual(
      resolved.body.repos.map((entry: any) => [entry.fullName, entry.visibility, entry.selected]),
      [['acme/api', 'public', false], ['acme/vault', 'private', false], ['acme/web', 'public', false]],
    );
    assert.equal(resolved.body.repos[0].lastActivityAt, '2026-03-01T10:00:00Z');
    const [listing] = github.callsTo('GET', /^\/orgs\/acme\/repos$/).slice(-1);
    assert.equal(listing!.accept, 'application/vnd.github+json');
    assert.equal(listing!.apiVersion, '2022-11-28');
    assert.equal(listing!.authorization, `token ${PAT}`);
    assert.equal(listing!.query.per_page, '100');
  });

  it('lists a user’s public repositories, and the private ones when the PAT is theirs', async () => {
    const own = await call('resolveGithubPackagesInput', { body: { input: 'octo' } });
    assert.deepEqual(own.body.repos.map((entry: any) => entry.fullName), ['octo/diary', 'octo/dotfiles']);
    const other = await call('resolveGithubPackagesInput', { body: { input: 'someone' } });
    assert.deepEqual(other.body.repos.map((entry: any) => entry.fullName), ['someone/tool']);
  });

  it('answers 422 for an owner GitHub does not know', async () => {
    const unknown = await call('resolveGithubPackagesInput', { body: { input: 'nobody-here' } });
    assert.equal(unknown.status, 422);
    assert.deepEqual(unknown.body.error, { code: 'unprocessable', message: 'github owner not found', details: { reason: 'github_owner_not_found', owner: 'nobody-here' } });
    assert.equal((await call('addGithubPackagesTarget', { body: { input: 'nobody-here' } })).status, 422);
    const repo = await call('addGithubPackagesTarget', { body: { input: 'acme/missing' } });
    assert.equal(repo.status, 422);
    assert.equal(repo.body.error.message, 'github repository not found');
  });

  it('maps a rejected PAT, a timeout, a rate limit and a GitHub failure to clear answers without retrying', async () => {
    await api.store.githubPackages.putSettings({ ...(await api.store.githubPackages.getSettings()), pat: 'ghp_revoked' });
    const badPat = await call('resolveGithubPackagesInput', { body: { input: 'acme' } });
    assert.equal(badPat.status, 400);
    assert.equal(badPat.body.error.message, 'github pat is invalid or lacks required scopes');
    assert.deepEqual({ ...badPat.body.error.details, cause: undefined }, { reason: 'ghcr_pat_invalid_or_scope_insufficient', owner: 'acme', status: 401, cause: undefined });
    await api.store.githubPackages.putSettings({ ...(await api.store.githubPackages.getSettings()), pat: PAT });

    github.delayMs = 1500;
    const started = Date.now();
    const slow = await call('resolveGithubPackagesInput', { body: { input: 'acme' }, allowInternalError: true });
    github.delayMs = 0;
    assert.equal(slow.status, 500);
    assert.deepEqual(slow.body.error, { code: 'internal', message: 'github upstream timeout', details: { reason: 'github_upstream_timeout', owner: 'acme' } });
    assert.ok(Date.now() - started < 1400, 'one timeout of 1 s, no retry');

    const reset = Math.floor(Date.now() / 1000) + 600;
    github.rateLimit = { remaining: 0, resetAt: reset };
    const limited = await call('addGithubPackagesTarget', { body: { input: 'acme' }, allowInternalError: true });
    github.rateLimit = { remaining: 5000, resetAt: reset };
    assert.equal(limited.status, 500);
    assert.equal(limited.body.error.details.reason, 'github_rate_limited');
    assert.ok(limited.body.error.details.retryAfterSeconds > 590, JSON.stringify(limited.body.error.details));

    const calls = github.calls.length;
    github.failNext(1, 502);
    const failing = await call('resolveGithubPackagesInput', { body: { input: 'acme' }, allowInternalError: true });
    assert.equal(failing.status, 500);
    assert.equal(failing.body.error.details.reason, 'github_upstream_unavailable');
    assert.equal(failing.body.error.details.status, 502);
    assert.equal(github.calls.length, calls + 1, 'a call a user waits on is not retried');
  });

  it('adds an owner target by following GitHub’s Link pages, tracking new repositories unselected', async () => {
    const added = await call('addGithubPackagesTarget', { body: { input: 'bigorg' } });
    assert.deepEqual(added.body, { ok: true, kind: 'owner', owner: 'bigorg', reposAdded: 150 });
    assert.deepEqual(github.callsTo('GET', /^\/orgs\/bigorg\/repos$/).map((listing) => listing.query.page ?? '1'), ['1', '2']);
    assert.equal((await call('addGithubPackagesTarget', { body: { input: 'bigorg' } })).body.reposAdded, 0, 'already tracked');
    const repoTarget = await call('addGithubPackagesTarget', { body: { input: 'https://github.com/acme/web' } });
    assert.deepEqual(repoTarget.body, { ok: true, kind: 'repo', owner: 'acme', reposAdded: 1 });
    assert.equal(github.callsTo('GET', /^\/repos\/acme\/web$/).length, 1);
    const invalid = await call('addGithubPackagesTarget', { body: { input: 'acme/' } });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.message, 'invalid target input');
    const view = (await call('getGithubPackagesSettings')).body;
    assert.deepEqual(view.targets.map((target: any) => target.input), ['acme', 'bigorg', 'https://github.com/acme/web']);
    assert.equal(view.reposTotal, 152);
    assert.deepEqual((await call('removeGithubPackagesTarget', { body: { input: 'bigorg' } })).body, { ok: true });
    assert.deepEqual((await call('removeGithubPackagesTarget', { body: { input: 'never-added' } })).body, { ok: true });
    assert.equal((await call('getGithubPackagesSettings')).body.reposTotal, 152, 'removing a target leaves its repositories');
  });

  it('lists tracked repositories by page, substring and selection, and selects in bulk', async () => {
    const page = await call('listGithubPackagesRepos', { query: { q: 'BIGORG/repo-1', perPage: 20, page: 2 } });
    assert.deepEqual({ ...page.body, repos: page.body.repos.length }, { page: 2, perPage: 20, total: 152, filteredTotal: 50, selectedTotal: 0, repos: 20 });
    assert.equal(page.body.repos[0].fullName, 'bigorg/repo-120');
    assert.deepEqual(page.body.repos[0], { fullName: 'bigorg/repo-120', selected: false, webhookState: 'unknown' });
    assert.equal((await call('listGithubPackagesRepos', { query: { perPage: 1000, page: 0 } })).body.perPage, 200);
    assert.equal((await call('listGithubPackagesRepos', { query: { selectedFilter: 'some' } })).status, 400);

    const bulk = await call('bulkSetGithubPackagesReposSelected', { body: { q: 'bigorg/repo-00', selectedFilter: 'unselected', selected: true } });
    assert.deepEqual(bulk.body, { ok: true, affected: 10 });
    assert.equal((await call('listGithubPackagesRepos', { query: { selectedFilter: 'selected' } })).body.filteredTotal, 10);
    assert.equal((await call('bulkSetGithubPackagesReposSelected', { body: { selectedFilter: '', selected: false } })).body.affected, 152);
    assert.equal((await call('bulkSetGithubPackagesReposSelected', { body: { selectedFilter: 'none', selected: false } })).status, 400);
    assert.equal((await api.store.jobs.list({ types: ['github_packages_webhook'] })).jobs.length, 0, 'bulk selection queues no job');
  });

  it('registers the package webhook with the callback URL and the secret when a repository is selected', async () => {
    assert.equal((await call('setGithubPackagesRepoSelected', { body: { fullName: 'acme web', selected: true } })).status, 400);
    const selected = await call('setGithubPackagesRepoSelected', { body: { fullName: 'acme/web', selected: true } });
    assert.match(selected.body.jobId, /^job_[0-9A-Z]{26}$/);
    const done = await job(selected.body.jobId);
    assert.equal(done.status, 'success', JSON.stringify(done.summary));
    assert.equal(done.type, 'github_packages_webhook');
    assert.equal(done.createdBy, 'ops');
    assert.equal(done.summary.op, 'register');
    assert.deepEqual(done.summary.results.map((result: any) => [result.repo, result.state, result.action]), [['acme/web', 'ok', 'created']]);
    const hooks = github.hooks('acme/web');
    assert.equal(hooks.length, 1);
    assert.deepEqual({ events: hooks[0]!.events, active: hooks[0]!.active, config: hooks[0]!.config }, {
      events: ['package'],
      active: true,
      config: { url: CALLBACK, content_type: 'json', insecure_ssl: '0', secret },
    });
    const listed = await repo('acme/web');
    assert.deepEqual({ state: listed.webhookState, hookId: listed.hookId, lastOp: listed.lastOp, jobId: listed.webhookJobId }, { state: 'ok', hookId: hooks[0]!.id, lastOp: 'register', jobId: done.id });
    assert.deepEqual((await call('setGithubPackagesRepoSelected', { body: { fullName: 'acme/web', selected: false } })).body, { ok: true }, 'deselecting queues nothing');
    await call('setGithubPackagesRepoSelected', { body: { fullName: 'acme/web', selected: true } }).then((again) => job(again.body.jobId));
    assert.equal(github.hooks('acme/web').length, 1, 'registering again keeps one hook');
  });

  it('repairs a hook changed behind Dockrev’s back, and reports several hooks on the callback URL as a conflict', async () => {
    const [hook] = github.hooks('acme/web');
    hook!.active = false;
    hook!.config = { url: `${CALLBACK}/`, content_type: 'form', insecure_ssl: '1', secret: 'rotated-by-someone' };
    hook!.events = ['package', 'push'];
    const sync = await call('syncGithubPackagesWebhookRepo', { body: { fullName: 'ACME/web' } });
    assert.equal(sync.body.reused, false);
    assert.equal((await job(sync.body.jobId)).status, 'success');
    assert.deepEqual({ active: hook!.active, events: hook!.events, config: hook!.config }, {
      active: true,
      events: ['package', 'push'],
      config: { url: CALLBACK, content_type: 'json', insecure_ssl: '0', secret },
    });

    const other = github.addHook('acme/web', { events: ['package'], config: { url: 'HTTPS://dockrev.example.com:443/api/webhooks/github-packages', content_type: 'json', insecure_ssl: '0' } });
    github.addHook('acme/web', { events: ['package'], config: { url: `${CALLBACK}?tenant=2`, content_type: 'json', insecure_ssl: '0' } });
    const conflicted = await job((await call('syncGithubPackagesWebhookRepo', { body: { fullName: 'acme/web' } })).body.jobId);
    assert.equal(conflicted.status, 'failed');
    const listed = await repo('acme/web');
    assert.equal(listed.webhookState, 'conflict');
    assert.equal(listed.lastError, 'multiple matching webhooks found (2); remove duplicates on GitHub then retry');
    assert.deepEqual(conflicted.summary.results[0].conflictHookIds, [hook!.id, other.id], 'the hook on another query is not Dockrev’s');
    github.removeHook('acme/web', other.id);
  });

  it('guards sync-repo and reuses an unfinished sync', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ fullName: ' ' }, 400, 'fullName is required'],
      [{ fullName: 'acme' }, 400, 'invalid fullName'],
      [{ fullName: 'acme/unknown' }, 404, 'repo is not tracked'],
      [{ fullName: 'acme/api' }, 400, 'repo is not selected'],
    ];
    for (const [body, status, message] of cases) {
      const response = await call('syncGithubPackagesWebhookRepo', { body });
      assert.deepEqual([response.status, response.body.error?.message], [status, message]);
    }
    github.delayMs = 300;
    const first = await call('syncGithubPackagesWebhookRepo', { body: { fullName: 'acme/web' } });
    const second = await call('syncGithubPackagesWebhookRepo', { body: { fullName: 'acme/web' } });
    assert.deepEqual([second.body.jobId, second.body.reused], [first.body.jobId, true]);
    const all = await call('syncAllGithubPackagesWebhooks');
    const allAgain = await call('syncAllGithubPackagesWebhooks');
    assert.deepEqual([allAgain.body.jobId, allAgain.body.reused, all.body.reused], [all.body.jobId, true, false]);
    assert.ok(['queued', 'running'].includes(allAgain.body.status));
    await job(first.body.jobId);
    assert.equal((await job(all.body.jobId)).status, 'success');
    github.delayMs = 0;
  });

  it('syncs selected repositories through sync-repo jobs, or only says what it would do', async () => {
    const dry = await call('syncGithubPackages', { body: { dryRun: true } });
    assert.deepEqual(dry.body, { ok: true, results: [{ repo: 'acme/web', action: 'queued', message: 'dryRun: would enqueue sync_repo job' }] });
    const real = await call('syncGithubPackages', { body: { repos: ['Acme/Web', 'acme/api'] } });
    assert.equal(real.body.ok, false);
    assert.deepEqual(real.body.results.map((row: any) => [row.repo, row.action]), [['acme/api', 'error'], ['acme/web', 'queued']]);
    const jobId = /^jobId=(job_\w+)/.exec(real.body.results[1].message)![1]!;
    assert.equal((await job(jobId)).type, 'github_packages_webhook_sync_repo');
  });

  it('fails a job GitHub cannot serve with the reason, and retries it later', async () => {
    github.failNext(3, 502);
    const selected = await call('setGithubPackagesRepoSelected', { body: { fullName: 'acme/api', selected: true } });
    const failed = await job(selected.body.jobId);
    assert.equal(failed.status, 'failed');
    assert.match(failed.summary.error, /acme\/api: .*Server Error/);
    assert.match(failed.summary.retryJobId, /^job_/);
    const retried = await job(failed.summary.retryJobId);
    assert.equal(retried.status, 'success', JSON.stringify(retried.summary));
    assert.deepEqual([retried.summary.retryOf, retried.summary.attempt], [failed.id, 2]);
    assert.equal((await repo('acme/api')).webhookState, 'ok');
    assert.equal(github.hooks('acme/api').length, 1);
  });

  it('fails without retrying when the PAT may not manage webhooks', async () => {
    const stored = await api.store.githubPackages.getSettings();
    await api.store.githubPackages.putSettings({ ...stored, pat: 'ghp_noHookScope' });
    const failed = await job((await call('syncGithubPackagesWebhookRepo', { body: { fullName: 'acme/api' } })).body.jobId);
    await api.store.githubPackages.putSettings(stored);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.summary.retryJobId, undefined, 'a PAT problem does not go away by waiting');
    const listed = await repo('acme/api');
    assert.equal(listed.webhookState, 'error');
    assert.match(listed.lastError, /^github pat is invalid or lacks required scopes: .*Resource not accessible by personal access token/);
  });

  it('waits for a rate limit that resets soon, and fails with the reset time when it does not', async () => {
    github.rateLimit = { remaining: 0, resetAt: Math.floor(Date.now() / 1000) + 1 };
    const soon = await job((await call('syncGithubPackagesWebhookRepo', { body: { fullName: 'acme/api' } })).body.jobId);
    assert.equal(soon.status, 'success', JSON.stringify(soon.summary));

    const reset = Math.floor(Date.now() / 1000) + 900;
    github.rateLimit = { remaining: 0, resetAt: reset };
    const late = await job((await call('syncGithubPackagesWebhookRepo', { body: { fullName: 'acme/api' } })).body.jobId);
    github.rateLimit = { remaining: 5000, resetAt: reset };
    assert.equal(late.status, 'failed');
    assert.match(late.summary.error, /rate limit/i);
    assert.ok(Date.parse(late.summary.retryAt) >= reset * 1000, `${late.summary.retryAt} is after the reset`);
    const listed = await repo('acme/api');
    assert.deepEqual([listed.webhookState, listed.webhookJobId], ['error', late.summary.retryJobId]);
    await api.store.jobs.terminate(late.summary.retryJobId, 'test_cleanup');
  });

  it('audits on schedule: a hook deleted behind Dockrev’s back is reported as an anomaly', async () => {
    const [hook] = github.hooks('acme/api');
    github.removeHook('acme/api', hook!.id);
    const anomaly = api.engine.events.next('ghcr_webhook.anomaly');
    assert.equal(await api.engine.scheduler.runNow('ghcr-webhook-audit'), true);
    const event = await anomaly;
    assert.deepEqual(event.repos, [{ owner: 'acme', repo: 'api', fullName: 'acme/api', state: 'missing', lastError: 'webhook missing' }]);
    const audit = await api.store.jobs.get(event.jobId);
    assert.deepEqual([audit!.type, audit!.createdBy, audit!.reason, audit!.status, audit!.summary.op], ['github_packages_webhook', 'schedule', 'schedule', 'success', 'audit_all']);
    const listed = await repo('acme/api');
    assert.equal(listed.webhookState, 'missing');
    assert.ok(listed.lastAuditAt);
    const overview = await call('getGithubPackagesWebhookOverview');
    assert.deepEqual(overview.body.summary, { tracked: 2, ok: 1, missing: 1, error: 0, conflict: 0, queued: 0, running: 0, unknown: 0 });
    assert.ok(overview.body.lastAuditAt >= listed.lastAuditAt, 'the latest audit of any selected repository');
    assert.deepEqual([overview.body.jobsQueued, overview.body.jobsRunning], [0, 0]);
  });

  it('unregisters: hooks deleted on GitHub, then the repository is no longer tracked', async () => {
    assert.equal((await call('deleteGithubPackagesRepo', { body: { fullName: 'acme' } })).status, 400);
    assert.equal((await call('deleteGithubPackagesRepo', { body: { fullName: 'acme/unknown' } })).status, 404);
    github.delayMs = 300;
    const deleted = await call('deleteGithubPackagesRepo', { body: { fullName: 'acme/web' } });
    assert.match(deleted.body.jobId, /^job_/);
    const blocked = await call('syncGithubPackagesWebhookRepo', { body: { fullName: 'acme/web' } });
    assert.deepEqual([blocked.status, blocked.body.error.message], [409, 'repo unregister in progress']);
    const done = await job(deleted.body.jobId);
    github.delayMs = 0;
    assert.equal(done.status, 'success', JSON.stringify(done.summary));
    assert.equal(github.hooks('acme/web').filter((hook) => hook.config.url === CALLBACK).length, 0);
    assert.equal(github.hooks('acme/web').length, 1, 'the hook on another query stays');
    assert.equal(await repo('acme/web'), undefined);
    const events = await api.store.jobs.listLogs(done.id);
    assert.ok(events.some((log) => log.level === 'event' && JSON.parse(log.msg).type === 'ghcr_repo_deleted'));
  });

  it('refuses sync-all while disabled or with nothing selected', async () => {
    await call('setGithubPackagesRepoSelected', { body: { fullName: 'acme/api', selected: false } });
    assert.deepEqual(
      [(await call('syncAllGithubPackagesWebhooks')).body.error.message, (await call('syncGithubPackages', { body: {} })).body.ok],
      ['no tracked repos selected', true],
    );
    await call('putGithubPackagesSettings', { body: { enabled: false, callbackUrl: CALLBACK } });
    for (const operationId of ['syncAllGithubPackagesWebhooks', 'syncGithubPackages', 'syncGithubPackagesWebhookRepo']) {
      const body = { syncAllGithubPackagesWebhooks: undefined, syncGithubPackages: {}, syncGithubPackagesWebhookRepo: { fullName: 'acme/api' } }[operationId];
      const response = await call(operationId, { body });
      assert.deepEqual([response.status, response.body.error.message], [400, 'github packages webhook is disabled'], operationId);
    }
  });

  it('never shows the PAT or the webhook secret in a response or a job summary', async () => {
    assert.ok(texts.length > 50);
    for (const text of texts) {
      assert.ok(!text.includes(PAT), `PAT in ${text.slice(0, 200)}`);
      assert.ok(!text.includes(secret), `secret in ${text.slice(0, 200)}`);
    }
    const { jobs } = await api.store.jobs.list({ limit: 200 });
    for (const stored of jobs) {
      const text = JSON.stringify(stored) + JSON.stringify(await api.store.jobs.listLogs(stored.id));
      assert.ok(!text.includes(PAT) && !text.includes(secret), `a secret in job ${stored.id}`);
    }
  });
});
