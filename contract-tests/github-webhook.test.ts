// POST /api/webhooks/github-packages in the order of behaviour.md §C.14, the delivery inbox and
// its event stream. GitHub is the local double (it registers the hook and delivers to it); the
// GHCR host is a closed local port, so the checks a delivery starts fail fast and harmlessly.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { GithubDouble } from '../test/fixtures/github-double.js';
import { deliveryHeaders, packageEventPayload, signatureOf } from '../test/fixtures/github-deliveries.js';
import { contract, jobReader, recordCoverage, startApi, waitForJob, type Api, type CallResult } from './harness.js';
import { openSse } from './sse-client.js';

const PAT = 'ghp_plantedWebhookPat9876543210zyxwvuTSRQ';
const GHCR = '127.0.0.1:9';
const as = { user: 'ops' };

describe('GitHub package deliveries', () => {
  let api: Api;
  let github: GithubDouble;
  let baseUrl = '';
  let secret = '';
  let serviceId = '';
  const logLines: string[] = [];
  const texts: string[] = [];

  const deliver = async (options: { event?: string; body?: string | Record<string, unknown>; secret?: string | null; deliveryId?: string; signature?: string | null; contentType?: string; omitDeliveryId?: boolean }): Promise<CallResult> => {
    const body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body ?? {});
    const { headers } = deliveryHeaders({
      event: options.event ?? 'package',
      body,
      secret: options.secret === null ? undefined : (options.secret ?? secret),
      deliveryId: options.deliveryId,
      signature256: options.signature,
      contentType: options.contentType,
    });
    if (options.omitDeliveryId) delete headers['x-github-delivery'];
    const result = await api.call('receiveGithubPackagesWebhook', { rawBody: body, contentType: headers['content-type'], headers });
    texts.push(result.text);
    return result;
  };
  const published = (repo: string, extra: Record<string, unknown> = {}) => packageEventPayload({ owner: 'acme', repo, registryHost: GHCR, ...extra });
  const deliveries = async (query: Record<string, string | number> = {}) => (await api.call('listGithubPackagesWebhookDeliveries', { ...as, query })).body;
  const job = (jobId: string) => waitForJob(jobReader(api), jobId, { timeoutMs: 30_000 });

  before(async () => {
    github = await GithubDouble.start();
    github.addToken(PAT, 'octo');
    for (const name of ['web', 'docs', 'other']) github.addRepo({ owner: 'acme', name });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    api = await startApi({
      env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_GITHUB_API_BASE_URL: github.baseUrl, DOCKREV_GHCR_HOST: GHCR },
      logger: pino({ level: 'trace' }, sink),
    });
    baseUrl = await api.listen();
    const stack = await api.store.stacks.create({
      name: 'shop',
      compose: { type: 'path', composeFiles: ['/srv/shop/compose.yml'] },
      services: [{ name: 'web', image: { ref: `${GHCR}/acme/web`, tag: 'latest' } }],
    });
    serviceId = stack.services[0]!.id;
  });
  after(async () => {
    await api?.close();
    await github?.close();
  });

  it('needs X-GitHub-Delivery before anything else', async () => {
    const missing = await deliver({ body: 'not json', signature: 'sha256=00', omitDeliveryId: true });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.error, { code: 'invalid_argument', message: 'missing X-GitHub-Delivery', details: {} });
  });

  it('acknowledges other events and a disabled integration without recording them', async () => {
    const ping = await deliver({ event: 'ping', body: { zen: 'Keep it logically awesome.', hook_id: 1 }, secret: null });
    assert.deepEqual([ping.status, ping.body], [200, { ok: true, ignored: true, reason: 'not_package_event' }]);
    const disabled = await deliver({ body: published('web'), secret: null });
    assert.deepEqual([disabled.status, disabled.body], [200, { ok: true, ignored: true, reason: 'disabled' }]);
    assert.equal((await deliveries()).total, 0);
  });

  it('answers 401 without a stored secret, and for a missing or wrong signature, recording nothing', async () => {
    await api.store.githubPackages.putSettings({ enabled: true, callbackUrl: '', pat: PAT, webhookSecret: null });
    const unconfigured = await deliver({ body: published('web'), secret: 'anything' });
    assert.deepEqual([unconfigured.status, unconfigured.body.error.code, unconfigured.body.error.details], [401, 'unauthorized', { reason: 'webhook_secret_not_configured' }]);

    const callbackUrl = `${baseUrl}/api/webhooks/github-packages`;
    assert.equal((await api.call('putGithubPackagesSettings', { ...as, body: { enabled: true, callbackUrl, pat: PAT } })).status, 200);
    secret = (await api.store.githubPackages.getSettings()).webhookSecret!;
    const body = JSON.stringify(published('web'));
    for (const [label, options] of [
      ['no signature', { body, signature: null }],
      ['another secret', { body, secret: 'not-the-secret' }],
      ['a signature of other bytes', { body, signature: signatureOf(secret, `${body} `) }],
      ['a malformed signature', { body, signature: 'sha256=xyz' }],
      ['SHA-1 only', { body, signature: signatureOf(secret, body, 'sha1') }],
    ] as const) {
      const response = await deliver(options);
      assert.deepEqual([response.status, response.body.error.code, response.body.error.details], [401, 'unauthorized', { reason: 'invalid_signature' }], label);
    }
    assert.equal((await deliveries()).total, 0, 'nothing recorded');
  });

  it('rejects a signed body that is not JSON, recording it', async () => {
    const notJson = await deliver({ body: 'payload=%7B%7D', contentType: 'application/x-www-form-urlencoded', deliveryId: 'd-not-json' });
    assert.deepEqual([notJson.status, notJson.body.error.message], [400, 'invalid json']);
    const [recorded] = (await deliveries({ decision: 'rejected' })).deliveries;
    assert.deepEqual([recorded.deliveryId, recorded.reason, recorded.responseStatus, recorded.attemptCount], ['d-not-json', 'invalid_json', 400, 1]);
  });

  it('ignores actions other than published, and repositories that are not selected, deduplicating by delivery id', async () => {
    const updated = await deliver({ body: published('web', { action: 'updated' }), deliveryId: 'd-updated' });
    assert.deepEqual([updated.status, updated.body], [200, { ok: true, ignored: true, reason: 'not_published' }]);
    const unselected = await deliver({ body: published('web'), deliveryId: 'd-unselected' });
    assert.deepEqual([unselected.status, unselected.body], [200, { ok: true, ignored: true, reason: 'repo_not_selected' }]);
    const again = await deliver({ body: published('web'), deliveryId: 'd-unselected' });
    assert.deepEqual([again.status, again.body], [200, { ok: true, ignored: true, reason: 'duplicate_delivery', attemptCount: 2 }]);
    const recorded = (await deliveries({ q: 'd-unselected' })).deliveries;
    assert.deepEqual(recorded.map((entry: any) => [entry.decision, entry.reason, entry.attemptCount, entry.fullName, entry.action]), [['ignored', 'repo_not_selected', 2, 'acme/web', 'published']]);
  });

  it('starts a check of each service running the image, as a 202, and records the jobs', async () => {
    for (const name of ['web', 'docs']) {
      const selected = await api.call('setGithubPackagesRepoSelected', { ...as, body: { fullName: `acme/${name}`, selected: true } });
      assert.equal((await job(selected.body.jobId)).status, 'success');
    }
    const jobsBefore = (await api.store.jobs.list({ types: ['check'] })).jobs.length;
    const accepted = await deliver({ body: published('web'), deliveryId: 'd-web-1' });
    assert.equal(accepted.status, 202, accepted.text);
    assert.match(accepted.body.jobId, /^chk_[0-9A-Z]{26}$/);
    assert.deepEqual(accepted.body, { ok: true, attemptCount: 1, jobId: accepted.body.jobId, jobIds: [accepted.body.jobId], matchedServiceIds: [serviceId], reusedJobIds: [], fallbackUsed: false });
    const check = await job(accepted.body.jobId);
    assert.deepEqual([check.type, check.scope, check.serviceId, check.createdBy, check.reason], ['check', 'service', serviceId, 'github', 'webhook']);
    assert.deepEqual(
      { source: check.summary.source, repo: check.summary.repo, deliveryIds: check.summary.deliveryIds, matched: check.summary.matchedServiceIds, fallbackUsed: check.summary.fallbackUsed },
      { source: 'github_webhook', repo: `${GHCR}/acme/web`, deliveryIds: ['d-web-1'], matched: [serviceId], fallbackUsed: false },
    );
    const [recorded] = (await deliveries({ q: 'd-web-1' })).deliveries;
    assert.deepEqual([recorded.decision, recorded.responseStatus, recorded.jobId, recorded.jobIds], ['processed', 202, check.id, [check.id]]);

    const duplicate = await deliver({ body: published('web'), deliveryId: 'd-web-1' });
    assert.deepEqual([duplicate.status, duplicate.body], [200, { ok: true, ignored: true, reason: 'duplicate_delivery', attemptCount: 2 }]);
    assert.equal((await api.store.jobs.list({ types: ['check'] })).jobs.length, jobsBefore + 1, 'the duplicate started nothing');
  });

  it('falls back to one discovery when no service runs the image, or the payload names only an owner', async () => {
    const fallback = await deliver({ body: published('docs'), deliveryId: 'd-docs' });
    assert.equal(fallback.status, 202, fallback.text);
    assert.match(fallback.body.jobId, /^dsc_[0-9A-Z]{26}$/);
    assert.deepEqual({ ...fallback.body, jobId: undefined, jobIds: undefined }, { ok: true, attemptCount: 1, jobId: undefined, jobIds: undefined, matchedServiceIds: [], reusedJobIds: [], fallbackUsed: true, fallbackReason: 'no_managed_service_match' });
    const discovery = await job(fallback.body.jobId);
    assert.deepEqual([discovery.type, discovery.createdBy, discovery.reason], ['discovery', 'github', 'github_webhook']);
    assert.deepEqual([discovery.summary.source, discovery.summary.fallbackReason, discovery.summary.deliveryId], ['github_webhook', 'no_managed_service_match', 'd-docs']);

    const ownerOnly = await deliver({ body: published('docs', { withoutRepository: true }), deliveryId: 'd-owner' });
    assert.deepEqual([ownerOnly.status, ownerOnly.body.fallbackReason], [202, 'owner_only_payload']);
    const unknownOwner = await deliver({ body: packageEventPayload({ owner: 'stranger', repo: 'x', withoutRepository: true }), deliveryId: 'd-stranger' });
    assert.deepEqual(unknownOwner.body, { ok: true, ignored: true, reason: 'repo_not_selected' });
  });

  it('verifies the secret it registered: a delivery GitHub signs with the hook’s secret is accepted', async () => {
    const [answer] = await github.deliverPackageEvent('acme/web', published('web'), 'd-from-github');
    assert.equal(answer!.status, 202, answer!.text);
    assert.equal(github.hooks('acme/web')[0]!.last_response.code, 202);
  });

  it('refuses a body over the size limit before anything is recorded', async () => {
    const huge = JSON.stringify({ ...published('web'), padding: 'x'.repeat(1024 * 1024) });
    const response = await deliver({ body: huge, deliveryId: 'd-huge' });
    assert.equal(response.status, 413);
    assert.equal((await deliveries({ q: 'd-huge' })).total >= 0 && (await deliveries({ q: 'd-huge' })).filteredTotal, 0);
  });

  it('lists deliveries newest first with decision, search and paging', async () => {
    const all = await deliveries({ perPage: 2 });
    assert.deepEqual({ page: all.page, perPage: all.perPage, total: all.total, summary: all.summary }, { page: 1, perPage: 2, total: 8, summary: { processed: 4, ignored: 3, rejected: 1 } });
    assert.deepEqual(all.deliveries.map((entry: any) => entry.deliveryId), ['d-from-github', 'd-stranger']);
    assert.equal((await deliveries({ decision: 'processed', q: 'dsc_' })).filteredTotal, 2, 'q matches job ids');
    assert.equal((await deliveries({ q: 'ACME/DOCS' })).filteredTotal, 1, 'q matches the repository, case-insensitively');
    assert.equal((await api.call('listGithubPackagesWebhookDeliveries', { ...as, query: { decision: 'maybe' } })).status, 400);
    assert.equal((await api.call('listGithubPackagesWebhookDeliveries')).status, 401);
  });

  it('streams deliveries from the tail, and replays after a cursor', async () => {
    const headers = { 'X-Forwarded-User': 'ops' };
    const live = await openSse(baseUrl, '/api/github-packages/webhook/deliveries/events', headers);
    recordCoverage('dockrev', 'streamGithubPackagesWebhookDeliveries', live.status);
    assert.deepEqual(contract.checkResponse('streamGithubPackagesWebhookDeliveries', live.status, live.headers['content-type'], ''), []);
    assert.equal(live.comments[0], 'keep-alive');
    await deliver({ body: published('other'), deliveryId: 'd-live' });
    const [frame] = await live.waitFor(1);
    live.close();
    assert.equal(frame!.event, 'github_packages_delivery_event');
    assert.deepEqual([frame!.data.type, frame!.data.deliveryId, frame!.data.reason], ['github_packages_delivery_event', 'd-live', 'repo_not_selected']);

    const replay = await openSse(baseUrl, `/api/github-packages/webhook/deliveries/events?afterId=${frame!.id! - 2}`, headers);
    const replayed = await replay.waitFor(2);
    replay.close();
    assert.deepEqual(contract.checkFrames('streamGithubPackagesWebhookDeliveries', [frame!, ...replayed]), []);
    assert.deepEqual(replayed.map((entry) => entry.id), [frame!.id! - 1, frame!.id!]);
    const resumed = await openSse(baseUrl, '/api/github-packages/webhook/deliveries/events', { ...headers, 'Last-Event-ID': String(frame!.id! - 1) });
    assert.deepEqual((await resumed.waitFor(1)).map((entry) => entry.id), [frame!.id!]);
    resumed.close();
    const anonymous = await openSse(baseUrl, '/api/github-packages/webhook/deliveries/events');
    await anonymous.ended;
    recordCoverage('dockrev', 'streamGithubPackagesWebhookDeliveries', anonymous.status);
    assert.equal(anonymous.status, 401);
  });

  it('never writes the PAT or the webhook secret to a log, a response or a job', async () => {
    await api.engine.jobs.idle();
    assert.ok(logLines.length > 20, 'the server logged');
    const { jobs } = await api.store.jobs.list({ limit: 200 });
    const stored = await Promise.all(jobs.map(async (entry) => JSON.stringify(entry) + JSON.stringify(await api.store.jobs.listLogs(entry.id))));
    for (const text of [...logLines, ...texts, ...stored]) {
      assert.ok(!text.includes(PAT), `PAT in ${text.slice(0, 300)}`);
      assert.ok(!text.includes(secret), `webhook secret in ${text.slice(0, 300)}`);
    }
  });
});
