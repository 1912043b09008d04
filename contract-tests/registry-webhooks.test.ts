// The registry webhook operations against the contract: receivers with their own tokens,
// settings with masked secrets, the delivery log and the Quay notification jobs. No Docker here:
// services are seeded in the store on an image whose registry refuses connections, so their
// checks fail fast (the e2e suite runs the real thing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { QuayDouble } from '../test/doubles/quay.js';
import { dockerHubPayload, distributionEvent, harborPayload } from '../test/doubles/registry-senders.js';
import { freePort } from './process.js';
import { jobReader, startApi, waitForJob, type Api, type CallOptions } from './harness.js';

const as = { user: 'ops' };
const DIGEST = `sha256:${'c'.repeat(64)}`;
const PLANTED = 'planted-secret-token-0123456789abcdef';

describe('registry webhooks', () => {
  let api: Api;
  let deadHost: string;
  let tokens: Record<string, string>;
  let quay: QuayDouble;

  const receive = (operationId: string, body: unknown, token: string | undefined, extra: CallOptions = {}) => {
    const byQuery = operationId === 'receiveDockerHubPush' || operationId === 'receiveQuayPush';
    const authorization = operationId === 'receiveHarborPush' ? token : token === undefined ? undefined : `Bearer ${token}`;
    return api.call(operationId, {
      body,
      ...(byQuery ? { query: token === undefined ? {} : { token } } : { headers: authorization ? { Authorization: authorization } : {} }),
      ...extra,
    });
  };
  const deliveries = async (query: Record<string, string | number> = {}) => (await api.call('listRegistryWebhookDeliveries', { ...as, query })).body.deliveries as any[];
  const envelope = (fields: Partial<Parameters<typeof distributionEvent>[0]> = {}) => ({
    events: [distributionEvent({ host: deadHost, repository: 'acme/web', tag: 'latest', digest: DIGEST, ...fields })],
  });

  before(async () => {
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_QUAY_HOSTS: 'quay.test' } });
    deadHost = `127.0.0.1:${await freePort()}`;
    quay = await QuayDouble.start({ oauthToken: 'quay-oauth-secret', serverHostname: 'quay.test' });
    await api.store.stacks.create({
      name: 'webhook-contract',
      compose: { type: 'path', composeFiles: ['/srv/webhook-contract/compose.yml'] },
      services: [
        { name: 'web', image: { ref: `${deadHost}/acme/web`, tag: 'latest' } },
        { name: 'quayed', image: { ref: 'quay.test/acme/app', tag: 'latest' } },
      ],
    });
  });
  after(async () => {
    await api?.close();
    await quay?.stop();
  });

  it('refuses every receiver while its source is disabled, before looking at the body, and records nothing', async () => {
    for (const operationId of ['receiveDistributionPush', 'receiveHarborPush', 'receiveDockerHubPush', 'receiveQuayPush']) {
      const response = await receive(operationId, { anything: true }, 'whatever-token');
      assert.equal(response.status, 401, operationId);
      assert.equal(response.body.error.code, 'unauthorized');
      assert.equal(response.body.error.details.reason, 'source_disabled');
    }
    assert.deepEqual(await deliveries(), []);
  });

  it('generates a token on first enable, reveals it once and masks it afterwards', async () => {
    const noBase = await api.call('putRegistryWebhookSettings', { ...as, body: { sources: { harbor: { enabled: true } } } });
    assert.equal(noBase.status, 200);
    assert.equal(noBase.body.revealed.harbor.callbackUrl, null, 'no public base URL yet');
    await api.call('putSettings', {
      ...as,
      body: { backup: { enabled: false, requireSuccess: false, baseDir: '/tmp/b', skipTargetsOverBytes: 1 }, instance: { publicBaseUrl: 'https://dockrev.example.com' } },
    });
    const put = await api.call('putRegistryWebhookSettings', {
      ...as,
      body: { sources: { distribution: { enabled: true }, dockerhub: { enabled: true }, quay: { enabled: true, token: PLANTED }, harbor: { enabled: true, token: '******' } } },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(Object.keys(put.body.revealed).sort(), ['distribution', 'dockerhub']);
    const { distribution, dockerhub } = put.body.revealed;
    assert.match(distribution.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(distribution.callbackUrl, 'https://dockrev.example.com/api/webhooks/registry/distribution');
    assert.equal(dockerhub.callbackUrl, `https://dockrev.example.com/api/webhooks/registry/dockerhub?token=${dockerhub.token}`);
    tokens = { distribution: distribution.token, dockerhub: dockerhub.token, quay: PLANTED, harbor: noBase.body.revealed.harbor.token };

    const view = await api.call('getRegistryWebhookSettings', as);
    assert.equal(view.status, 200);
    for (const secret of Object.values(tokens)) assert.ok(!view.text.includes(secret), 'no token in the settings view');
    assert.deepEqual(view.body.sources.dockerhub, {
      enabled: true,
      tokenMasked: '******',
      tokenIn: 'query',
      callbackUrl: 'https://dockrev.example.com/api/webhooks/registry/dockerhub?token=******',
    });
    assert.deepEqual(view.body.sources.harbor, { enabled: true, tokenMasked: '******', tokenIn: 'authorization_header', callbackUrl: 'https://dockrev.example.com/api/webhooks/registry/harbor' });
    assert.equal(view.body.publicBaseUrl, 'https://dockrev.example.com/');

    const again = await api.call('putRegistryWebhookSettings', { ...as, body: { sources: { distribution: { enabled: true, token: null } } } });
    assert.deepEqual(again.body, { ok: true }, 'an existing token is kept and not shown again');
  });

  it('validates aliases, the Quay URL and cron, tokens of your own, and wants an identity', async () => {
    const cases: [unknown, string][] = [
      [{ hostAliases: [{ from: 'not a host', to: 'registry.example.com' }] }, 'hostAliases[0].from'],
      [{ hostAliases: [{ from: 'a.example.com', to: 'a.example.com' }] }, 'hostAliases[0]'],
      [{ hostAliases: [{ from: 'a.example.com', to: 'b.example.com' }, { from: 'A.example.com', to: 'c.example.com' }] }, 'hostAliases[1].from'],
      [{ quay: { apiBaseUrl: 'ftp://quay.example.com' } }, 'quay.apiBaseUrl'],
      [{ quay: { audit: { enabled: true, cron: 'sometimes' } } }, 'quay.audit.cron'],
      [{ quay: { registryHost: 'no host here' } }, 'quay.registryHost'],
      [{ sources: { harbor: { enabled: true, token: 'short' } } }, 'sources.harbor.token'],
    ];
    for (const [body, field] of cases) {
      const response = await api.call('putRegistryWebhookSettings', { ...as, body });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.body.error.details.field, field);
    }
    const extra = await api.call('putRegistryWebhookSettings', { ...as, body: { sources: { gitea: { enabled: true } } } });
    assert.equal(extra.status, 400);
    assert.equal((await api.call('putRegistryWebhookSettings', { body: {} })).status, 401);
    assert.equal((await api.call('getRegistryWebhookSettings')).status, 401);
    assert.equal((await api.call('listRegistryWebhookDeliveries')).status, 401);
  });

  it('answers a wrong or missing token with 401 and records nothing', async () => {
    const before = (await deliveries()).length;
    for (const [operationId, token] of [
      ['receiveDistributionPush', 'wrong'],
      ['receiveDistributionPush', undefined],
      ['receiveHarborPush', 'wrong'],
      ['receiveDockerHubPush', undefined],
      ['receiveQuayPush', tokens.dockerhub],
    ] as const) {
      const response = await receive(operationId, {}, token);
      assert.equal(response.status, 401, `${operationId} ${token}`);
      assert.equal(response.body.error.details.reason, 'invalid_token');
    }
    assert.equal((await deliveries()).length, before);
  });

  it('answers an event for a repository nobody runs with 202 and matched 0', async () => {
    const response = await receive('receiveDistributionPush', envelope({ repository: 'nobody/runs-this' }), tokens.distribution, { contentType: 'application/vnd.docker.distribution.events.v1+json' });
    assert.equal(response.status, 202);
    assert.equal(response.body.outcome, 'unmatched');
    assert.equal(response.body.matched, 0);
    assert.deepEqual(response.body.jobIds, []);
    const [logged] = await deliveries({ outcome: 'unmatched' });
    assert.equal(logged.id, response.body.deliveryId);
    assert.deepEqual(logged.repositories, [`${deadHost}/nobody/runs-this`]);
    assert.equal(logged.responseStatus, 202);
  });

  it('starts a check of the matching service, and a replay of the event starts nothing', async () => {
    const body = envelope();
    const first = await receive('receiveDistributionPush', body, tokens.distribution);
    assert.equal(first.status, 202);
    assert.equal(first.body.outcome, 'processed');
    assert.equal(first.body.matched, 1);
    assert.match(first.body.jobIds[0], /^chk_/);
    const job = await waitForJob(jobReader(api), first.body.jobIds[0]);
    assert.equal(job.reason, 'webhook');
    assert.equal(job.createdBy, 'registry');
    assert.equal(job.summary.source, 'distribution');
    assert.equal(job.summary.eventId, (body.events[0] as any).id);

    const replay = await receive('receiveDistributionPush', body, tokens.distribution);
    assert.equal(replay.status, 202);
    assert.equal(replay.body.outcome, 'duplicate');
    assert.equal(replay.body.duplicateEvents, 1);
    assert.deepEqual(replay.body.jobIds, []);
    const [logged] = await deliveries({ outcome: 'duplicate' });
    assert.equal(logged.duplicateOf, first.body.deliveryId);
  });

  it('ignores pulls, deletes, blobs and untagged pushes, and refuses bodies that are not envelopes', async () => {
    const ignored = await receive(
      'receiveDistributionPush',
      {
        events: [
          distributionEvent({ host: deadHost, repository: 'acme/web', tag: 'latest', digest: DIGEST, action: 'pull' }),
          distributionEvent({ host: deadHost, repository: 'acme/web', tag: 'latest', digest: DIGEST, action: 'delete' }),
          distributionEvent({ host: deadHost, repository: 'acme/web', digest: DIGEST, mediaType: 'application/octet-stream' }),
          distributionEvent({ host: deadHost, repository: 'acme/web', digest: DIGEST }),
        ],
      },
      tokens.distribution,
    );
    assert.equal(ignored.status, 202);
    assert.equal(ignored.body.outcome, 'ignored');
    assert.equal(ignored.body.ignoredEvents, 4);
    const [logged] = await deliveries({ outcome: 'ignored' });
    assert.deepEqual(logged.ignored.map((event: any) => event.reason), ['not_a_push', 'not_a_push', 'no_tag', 'no_tag']);

    const notEnvelope = await receive('receiveDistributionPush', { hello: 'world' }, tokens.distribution);
    assert.equal(notEnvelope.status, 400);
    assert.equal(notEnvelope.body.error.details.reason, 'invalid_payload');
    const [rejected] = await deliveries({ outcome: 'rejected' });
    assert.equal(rejected.id, notEnvelope.body.error.details.deliveryId);
    assert.equal(rejected.responseStatus, 400);

    const wrongType = await receive('receiveDistributionPush', { events: 'all of them' }, tokens.distribution);
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.error.details.errors[0].path, '/body/events');
    const notJson = await receive('receiveDistributionPush', undefined, tokens.distribution, { rawBody: '{"events": [', contentType: 'application/json' });
    assert.equal(notJson.status, 400);
    const tooMany = await receive('receiveDistributionPush', { events: Array.from({ length: 1001 }, () => ({})) }, tokens.distribution);
    assert.equal(tooMany.status, 400);
    const huge = await receive('receiveDistributionPush', undefined, tokens.distribution, { rawBody: JSON.stringify({ events: [], pad: 'x'.repeat(1_100_000) }) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'payload_too_large');
  });

  it('reads Harbor in both formats, Docker Hub and Quay, through host aliases', async () => {
    await api.call('putRegistryWebhookSettings', { ...as, body: { hostAliases: [{ from: 'harbor.test', to: deadHost }, { from: 'docker.io', to: deadHost }] } });
    const harbor = await receive('receiveHarborPush', harborPayload({ host: 'harbor.test', repository: 'acme/web', tag: 'latest', digest: DIGEST }), tokens.harbor);
    assert.equal(harbor.status, 202);
    assert.equal(harbor.body.matched, 1, JSON.stringify(harbor.body));
    const cloud = await receive('receiveHarborPush', harborPayload({ host: 'harbor.test', repository: 'acme/web', tag: 'latest', digest: DIGEST, format: 'CloudEvents' }), `Bearer ${tokens.harbor}`, {
      contentType: 'application/cloudevents+json',
    });
    assert.equal(cloud.body.matched, 1);
    const pulled = await receive('receiveHarborPush', harborPayload({ host: 'harbor.test', repository: 'acme/web', tag: 'latest', digest: DIGEST, type: 'PULL_ARTIFACT' }), tokens.harbor);
    assert.equal(pulled.body.outcome, 'ignored');
    assert.equal((await receive('receiveHarborPush', { occur_at: 1 }, tokens.harbor)).status, 400);

    const hub = await receive('receiveDockerHubPush', dockerHubPayload({ repoName: 'acme/web', tag: 'latest' }), tokens.dockerhub);
    assert.equal(hub.status, 202);
    assert.equal(hub.body.matched, 1);
    assert.equal((await receive('receiveDockerHubPush', { push_data: {} }, tokens.dockerhub)).status, 400);

    const quayed = await receive('receiveQuayPush', { repository: 'acme/app', namespace: 'acme', name: 'app', docker_url: 'quay.test/acme/app', updated_tags: ['latest', 'other'] }, tokens.quay);
    assert.equal(quayed.status, 202);
    assert.equal(quayed.body.matched, 1);
    const same = await receive('receiveQuayPush', { repository: 'acme/app', namespace: 'acme', name: 'app', docker_url: 'quay.test/acme/app', updated_tags: ['latest', 'other'] }, tokens.quay);
    assert.equal(same.body.outcome, 'duplicate', 'Quay sends no id: the same body within 10 minutes is a duplicate');
    assert.equal((await receive('receiveQuayPush', { updated_tags: ['latest'] }, tokens.quay)).status, 400);
    await api.engine.registryWebhooks.settled();
  });

  it('pages the delivery log newest first and filters it', async () => {
    const all = await deliveries({ limit: 200 });
    assert.ok(all.length >= 10);
    const ids = all.map((delivery) => delivery.id);
    assert.deepEqual(ids, [...ids].sort().reverse());
    const first = (await api.call('listRegistryWebhookDeliveries', { ...as, query: { limit: 3 } })).body;
    assert.equal(first.deliveries.length, 3);
    const second = (await api.call('listRegistryWebhookDeliveries', { ...as, query: { limit: 3, cursor: first.nextCursor } })).body;
    assert.deepEqual([...first.deliveries, ...second.deliveries].map((delivery: any) => delivery.id), ids.slice(0, 6));
    assert.ok((await deliveries({ source: 'quay' })).every((delivery) => delivery.source === 'quay'));
    assert.ok((await deliveries({ repository: 'ACME/APP' })).length >= 2);
    const verified = (await deliveries({ source: 'harbor', outcome: 'processed' }))[0];
    assert.equal(verified.verification, 'unverified', 'the check failed (nothing listens on the registry port)');
    const everything = JSON.stringify(await deliveries({ limit: 200 }));
    for (const secret of Object.values(tokens)) assert.ok(!everything.includes(secret), 'no token in the delivery log');
    assert.equal((await api.call('listRegistryWebhookDeliveries', { ...as, query: { cursor: 'nope' } })).status, 400);
    assert.equal((await api.call('listRegistryWebhookDeliveries', { ...as, query: { outcome: 'maybe' } })).status, 400);
  });

  it('starts Quay notification audits and repairs as jobs, once their settings are complete', async () => {
    await api.call('putRegistryWebhookSettings', { ...as, body: { sources: { quay: { enabled: false } } } });
    const disabled = await api.call('auditQuayNotifications', as);
    assert.equal(disabled.status, 400);
    assert.equal(disabled.body.error.details.reason, 'quay_source_disabled');
    await api.call('putRegistryWebhookSettings', { ...as, body: { sources: { quay: { enabled: true } } } });
    const unconfigured = await api.call('repairQuayNotifications', as);
    assert.equal(unconfigured.body.error.details.reason, 'quay_api_not_configured');
    await api.call('putRegistryWebhookSettings', { ...as, body: { quay: { apiBaseUrl: `${quay.baseUrl}/api/v1/`, oauthToken: 'quay-oauth-secret', registryHost: 'quay.test' } } });
    assert.equal((await api.call('getRegistryWebhookSettings', as)).body.quay.apiBaseUrl, quay.baseUrl);

    const audit = await api.call('auditQuayNotifications', as);
    assert.equal(audit.status, 202);
    assert.equal(audit.body.reused, false);
    const job = await waitForJob(jobReader(api), audit.body.jobId);
    assert.equal(job.type, 'quay_notifications');
    assert.equal(job.status, 'success', JSON.stringify(job.summary));
    assert.deepEqual(job.summary.counts, { repositories: 1, ok: 0, created: 1, failing: 0, recreated: 0, error: 0, removed: 0 });
    assert.ok(!JSON.stringify(job).includes(PLANTED), 'the webhook token is not in the job');
    assert.ok(!JSON.stringify(job).includes('quay-oauth-secret'));
    assert.deepEqual(quay.list('acme/app').map((n) => n.config.url), [`https://dockrev.example.com/api/webhooks/registry/quay?token=${PLANTED}`]);

    // Outdated and doubled Dockrev notifications go; somebody else's stays.
    const current = quay.list('acme/app')[0]!;
    quay.add('acme/app', { event: 'repo_push', method: 'webhook', config: { url: 'https://dockrev.example.com/api/webhooks/registry/quay?token=an-old-token' } });
    quay.add('acme/app', { event: 'repo_push', method: 'webhook', config: { url: current.config.url } });
    const foreign = quay.add('acme/app', { event: 'repo_push', method: 'webhook', config: { url: 'https://ci.example.com/hook' } });
    const repair = await api.call('repairQuayNotifications', as);
    assert.equal(repair.status, 202);
    const repaired = await waitForJob(jobReader(api), repair.body.jobId);
    assert.deepEqual(repaired.summary.repositories, [{ registry: 'quay.test', repository: 'acme/app', state: 'ok', uuid: current.uuid, numberOfFailures: 0, removed: 2 }]);
    assert.deepEqual(quay.list('acme/app').map((n) => n.uuid), [current.uuid, foreign.uuid]);

    // Quay refusing the token is a reported error, without the token.
    await api.call('putRegistryWebhookSettings', { ...as, body: { quay: { oauthToken: 'a-revoked-oauth-token' } } });
    const refused = await waitForJob(jobReader(api), (await api.call('auditQuayNotifications', as)).body.jobId);
    assert.equal(refused.summary.counts.error, 1);
    assert.match(refused.summary.repositories[0].error, /Quay API answered 401/);
    assert.ok(!JSON.stringify(refused).includes('a-revoked-oauth-token'));
    await api.call('putRegistryWebhookSettings', { ...as, body: { quay: { oauthToken: 'quay-oauth-secret' } } });

    // The same audit on its schedule, once everything it needs is configured.
    await api.call('putRegistryWebhookSettings', { ...as, body: { quay: { audit: { enabled: true, cron: '0 5 * * *' } } } });
    await api.engine.scheduler.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(api.engine.scheduler.nextRuns()['quay-notification-audit'] ?? '', /T\d\d:00:00\.000Z$/);
    await api.engine.scheduler.runNow('quay-notification-audit');
    const scheduled = (await api.store.jobs.list({ types: ['quay_notifications'], limit: 10 })).jobs[0]!;
    assert.equal(scheduled.createdBy, 'schedule');
    assert.equal(scheduled.status, 'success');
    await api.call('putRegistryWebhookSettings', { ...as, body: { quay: { audit: { enabled: false, cron: '0 5 * * *' } } } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(api.engine.scheduler.nextRuns()['quay-notification-audit'], null);
    assert.equal((await api.call('auditQuayNotifications')).status, 401);
    assert.equal((await api.call('repairQuayNotifications')).status, 401);
  });
});
