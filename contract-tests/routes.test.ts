import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { newId } from '../src/ids.js';
import type { Store } from '../src/store/index.js';
import { startApi, type Api } from './harness.js';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

async function seedStack(store: Store, name: string) {
  const stack = await store.stacks.create({
    name,
    compose: { type: 'path', composeFiles: [`/srv/${name}/compose.yml`], envFile: `/srv/${name}/.env` },
    services: [
      { name: 'web', image: { ref: 'ghcr.io/acme/web', tag: 'latest' }, homepage: { name: 'Web', href: 'https://web.example' } },
      { name: 'db', image: { ref: 'postgres', tag: '15' } },
    ],
  });
  const web = stack.services.find((service) => service.name === 'web')!;
  const db = stack.services.find((service) => service.name === 'db')!;
  await store.services.updateState(web.id, {
    digest: DIGEST_A,
    candidate: { tag: 'latest', digest: DIGEST_B, archMatch: 'match', arch: ['linux/amd64', 'linux/arm64'] },
    checkedAt: new Date().toISOString(),
  });
  return { stack, web, db };
}

describe('implemented routes', () => {
  let api: Api;
  const as = { user: 'ops' };
  before(async () => {
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', APP_EFFECTIVE_VERSION: '9.9.9-test', DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
  });
  after(() => api.close());

  it('GET /api/health and /api/version', async () => {
    const health = await api.call('getHealth');
    assert.equal(health.text, 'ok');
    assert.match(health.headers['content-type']!, /^text\/plain/);
    assert.deepEqual((await api.call('getVersion')).body, { version: '9.9.9-test', selfUpgradeUrl: '/supervisor/' });
  });

  describe('stacks and services', () => {
    let seeded: Awaited<ReturnType<typeof seedStack>>;
    beforeEach(async () => {
      seeded = await seedStack(api.store, `demo-${newId('stk').slice(-6).toLowerCase()}`);
    });

    it('lists stacks with counts and honours the archived filter', async () => {
      const listed = (await api.call('listStacks', as)).body.stacks.find((stack: any) => stack.id === seeded.stack.id);
      assert.deepEqual(
        { services: listed.services, updates: listed.updates, archivedServices: listed.archivedServices, archived: listed.archived },
        { services: 2, updates: 1, archivedServices: 0, archived: false },
      );
      assert.ok(['healthy', 'degraded', 'unknown'].includes(listed.status));

      assert.deepEqual((await api.call('archiveStack', { ...as, params: { stackId: seeded.stack.id } })).body, { ok: true });
      const ids = async (archived?: string) =>
        (await api.call('listStacks', { ...as, query: archived ? { archived } : undefined })).body.stacks.map((stack: any) => stack.id);
      assert.ok(!(await ids()).includes(seeded.stack.id));
      assert.ok((await ids('only')).includes(seeded.stack.id));
      assert.ok((await ids('include')).includes(seeded.stack.id));
      assert.equal((await api.call('archiveStack', { ...as, params: { stackId: seeded.stack.id } })).status, 200, 'idempotent');
      await api.call('restoreStack', { ...as, params: { stackId: seeded.stack.id } });
      assert.ok((await ids()).includes(seeded.stack.id));
      assert.ok(!(await ids('only')).includes(seeded.stack.id));
    });

    it('rejects an unknown archived filter', async () => {
      const response = await api.call('listStacks', { ...as, query: { archived: 'sometimes' } });
      assert.equal(response.status, 400);
    });

    it('shows a stack in detail, without legacy fields', async () => {
      const { stack } = (await api.call('getStack', { ...as, params: { stackId: seeded.stack.id } })).body;
      assert.equal(stack.id, seeded.stack.id);
      assert.deepEqual(stack.compose, seeded.stack.compose);
      assert.equal(stack.archived, false);
      const web = stack.services.find((service: any) => service.name === 'web');
      assert.deepEqual(web.image, { ref: 'ghcr.io/acme/web', tag: 'latest', digest: DIGEST_A });
      assert.deepEqual(web.candidate, { tag: 'latest', digest: DIGEST_B, archMatch: 'match', arch: ['linux/amd64', 'linux/arm64'] });
      assert.deepEqual(web.homepage, { name: 'Web', href: 'https://web.example' });
      assert.deepEqual(web.settings, { autoRollback: true, backupTargets: { bindPaths: {}, volumeNames: {} } });
      assert.equal('updateGuard' in web, false);
      const db = stack.services.find((service: any) => service.name === 'db');
      assert.equal('candidate' in db, false, 'absent fields are omitted, not null');
    });

    it('answers 404 for unknown stacks and services', async () => {
      for (const [operationId, params, message] of [
        ['getStack', { stackId: 'stk_nope' }, 'stack not found'],
        ['archiveStack', { stackId: 'stk_nope' }, 'stack not found'],
        ['restoreStack', { stackId: 'stk_nope' }, 'stack not found'],
        ['archiveService', { serviceId: 'svc_nope' }, 'service not found'],
        ['restoreService', { serviceId: 'svc_nope' }, 'service not found'],
        ['getServiceSettings', { serviceId: 'svc_nope' }, 'service not found'],
      ] as const) {
        const response = await api.call(operationId, { ...as, params });
        assert.equal(response.status, 404, operationId);
        assert.deepEqual(response.body, { error: { code: 'not_found', message, details: {} } });
      }
      const put = await api.call('putServiceSettings', {
        ...as,
        params: { serviceId: 'svc_nope' },
        body: { autoRollback: true, backupTargets: { bindPaths: {}, volumeNames: {} } },
      });
      assert.equal(put.status, 404);
    });

    it('archives services without touching the stack, and counts them', async () => {
      await api.call('archiveService', { ...as, params: { serviceId: seeded.web.id } });
      const listed = (await api.call('listStacks', as)).body.stacks.find((stack: any) => stack.id === seeded.stack.id);
      assert.equal(listed.archivedServices, 1);
      assert.equal(listed.updates, 0, 'archived services do not count as updates');
      const detail = (await api.call('getStack', { ...as, params: { stackId: seeded.stack.id } })).body.stack;
      assert.equal(detail.archived, false);
      assert.equal(detail.services.find((service: any) => service.id === seeded.web.id).archived, true);
      await api.call('restoreService', { ...as, params: { serviceId: seeded.web.id } });
      const restored = (await api.call('listStacks', as)).body.stacks.find((stack: any) => stack.id === seeded.stack.id);
      assert.equal(restored.archivedServices, 0);
    });

    it('stores service settings', async () => {
      const settings = { autoRollback: false, backupTargets: { bindPaths: { '/srv/data': 'force' }, volumeNames: { demo_db: 'skip' } } };
      assert.deepEqual((await api.call('putServiceSettings', { ...as, params: { serviceId: seeded.db.id }, body: settings })).body, { ok: true });
      assert.deepEqual((await api.call('getServiceSettings', { ...as, params: { serviceId: seeded.db.id } })).body, settings);
      const bad = await api.call('putServiceSettings', {
        ...as,
        params: { serviceId: seeded.db.id },
        body: { autoRollback: true, backupTargets: { bindPaths: { '/x': 'sometimes' }, volumeNames: {} } },
      });
      assert.equal(bad.status, 400);
    });

    it('refuses manual stack registration after authentication', async () => {
      const response = await api.call('createStack', { ...as, body: { name: 'manual' } });
      assert.equal(response.status, 405);
      assert.deepEqual(response.body, {
        error: { code: 'method_not_allowed', message: 'manual stack registration is disabled; use auto-discovery instead', details: {} },
      });
      assert.equal((await api.call('createStack', { ...as, rawBody: '{nope' })).status, 400);
    });
  });

  describe('discovery projects', () => {
    it('lists, archives and restores projects by name', async () => {
      await api.store.discoveryProjects.upsert({ project: 'alpha', status: 'active', configFiles: ['/srv/alpha/compose.yml'], lastSeenAt: new Date().toISOString() });
      await api.store.discoveryProjects.upsert({ project: 'beta', status: 'invalid', lastError: 'config_files_missing' });
      const names = async (archived?: string) =>
        (await api.call('listDiscoveryProjects', { ...as, query: archived ? { archived } : undefined })).body.projects.map((p: any) => p.project);
      assert.deepEqual((await names()).sort(), ['alpha', 'beta']);
      const beta = (await api.call('listDiscoveryProjects', as)).body.projects.find((p: any) => p.project === 'beta');
      assert.equal(beta.status, 'invalid');
      assert.equal(beta.lastError, 'config_files_missing');
      assert.deepEqual((await api.call('archiveDiscoveryProject', { ...as, params: { project: 'beta' } })).body, { ok: true });
      assert.deepEqual(await names(), ['alpha']);
      assert.deepEqual(await names('only'), ['beta']);
      await api.call('restoreDiscoveryProject', { ...as, params: { project: 'beta' } });
      assert.deepEqual(await names('only'), []);
      const missing = await api.call('archiveDiscoveryProject', { ...as, params: { project: 'gamma' } });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.message, 'project not found');
      assert.equal((await api.call('restoreDiscoveryProject', { ...as, params: { project: 'gamma' } })).status, 404);
    });
  });

  describe('ignore rules', () => {
    it('creates, lists and deletes rules', async () => {
      const created = await api.call('createIgnoreRule', {
        ...as,
        body: { scope: { type: 'service', serviceId: 'svc_x' }, match: { kind: 'prefix', value: '5.3.' }, note: 'skip 5.3' },
      });
      assert.equal(created.status, 200);
      assert.match(created.body.ruleId, /^ign_[0-9A-Z]{26}$/);
      const rules = (await api.call('listIgnoreRules', as)).body.rules;
      assert.deepEqual(
        rules.find((rule: any) => rule.id === created.body.ruleId),
        { id: created.body.ruleId, enabled: true, scope: { type: 'service', serviceId: 'svc_x' }, match: { kind: 'prefix', value: '5.3.' }, note: 'skip 5.3' },
      );
      assert.deepEqual((await api.call('deleteIgnoreRule', { ...as, body: { ruleId: created.body.ruleId } })).body, { deleted: true });
      assert.deepEqual((await api.call('deleteIgnoreRule', { ...as, body: { ruleId: created.body.ruleId } })).body, { deleted: false });
    });

    it('reports an empty service id and an unknown scope type', async () => {
      const empty = await api.call('createIgnoreRule', { ...as, body: { scope: { type: 'service', serviceId: '  ' }, match: { kind: 'exact', value: '1' } } });
      assert.equal(empty.status, 400);
      assert.equal(empty.body.error.message, 'scope.serviceId must not be empty');
      const scope = await api.call('createIgnoreRule', { ...as, body: { scope: { type: 'stack', serviceId: 'svc_x' }, match: { kind: 'exact', value: '1' } } });
      assert.equal(scope.status, 400);
    });
  });

  describe('system settings', () => {
    const backup = { enabled: true, requireSuccess: false, baseDir: '/tmp/backups', skipTargetsOverBytes: 1024 };

    it('serves the defaults', async () => {
      const { body } = await api.call('getSettings', as);
      assert.deepEqual(body.backup, { enabled: true, requireSuccess: true, baseDir: '/data/backups', skipTargetsOverBytes: 104857600 });
      assert.deepEqual(body.schedules.updateCheck, { enabled: false, cron: '*/30 * * * *', nextRunAt: null });
      assert.deepEqual(body.instance, { publicBaseUrl: null });
      assert.equal(body.auth.currentUser, 'ops');
      assert.equal(body.auth.matchedBy, 'user');
    });

    it('validates intervals, cron expressions and the public base URL', async () => {
      const interval = await api.call('putSettings', { ...as, body: { backup, resourceMonitor: { enabled: true, sampleIntervalSeconds: 45 } } });
      assert.equal(interval.status, 400);
      assert.equal(interval.body.error.message, 'resourceMonitor.sampleIntervalSeconds must be one of 10/30/60/300');

      const cron = await api.call('putSettings', { ...as, body: { backup, schedules: { updateCheck: { enabled: true, cron: 'every tuesday' } } } });
      assert.equal(cron.status, 400);
      assert.equal(cron.body.error.message, 'cron expression is invalid');
      assert.equal(cron.body.error.details.reason, 'cron_invalid');
      assert.equal(cron.body.error.details.field, 'schedules.updateCheck.cron');

      const url = await api.call('putSettings', { ...as, body: { backup, instance: { publicBaseUrl: 'ftp://dockrev.example.com' } } });
      assert.equal(url.status, 400);
      assert.deepEqual(url.body.error.details, { reason: 'instance_public_base_url_invalid', field: 'instance.publicBaseUrl' });
      const query = await api.call('putSettings', { ...as, body: { backup, instance: { publicBaseUrl: 'https://dockrev.example.com/?x=1' } } });
      assert.equal(query.status, 400);
    });

    it('stores what it accepts and keeps omitted sections', async () => {
      const put = await api.call('putSettings', {
        ...as,
        body: {
          backup,
          resourceMonitor: { enabled: false, sampleIntervalSeconds: 60 },
          schedules: { updateCheck: { enabled: true, cron: ' 0 */5 * * * * ' }, ghcrWebhookAudit: { enabled: false, cron: 'not a cron' } },
          instance: { publicBaseUrl: '  https://dockrev.example.com ' },
        },
      });
      assert.deepEqual(put.body, { ok: true });
      const { body } = await api.call('getSettings', as);
      assert.deepEqual(body.backup, backup);
      assert.deepEqual(body.resourceMonitor, { enabled: false, sampleIntervalSeconds: 60, retentionDays: 30 });
      // The scheduler does not run in this test server: no next run.
      assert.deepEqual(body.schedules.updateCheck, { enabled: true, cron: '0 */5 * * * *', nextRunAt: null });
      assert.deepEqual(body.schedules.ghcrWebhookAudit, { enabled: false, cron: 'not a cron', nextRunAt: null }, 'a disabled schedule is stored as sent');
      assert.equal(body.instance.publicBaseUrl, 'https://dockrev.example.com/');

      await api.call('putSettings', { ...as, body: { backup } });
      const kept = (await api.call('getSettings', as)).body;
      assert.equal(kept.instance.publicBaseUrl, 'https://dockrev.example.com/');
      assert.deepEqual(kept.schedules.updateCheck, { enabled: true, cron: '0 */5 * * * *', nextRunAt: null });

      // What GET answers can be sent back as is: the read-only parts are ignored.
      const roundTrip = await api.call('putSettings', { ...as, body: kept });
      assert.equal(roundTrip.status, 200, roundTrip.text);
      const { auth: _auth, ...withoutAuth } = kept;
      const { auth: _again, ...after } = (await api.call('getSettings', as)).body;
      assert.deepEqual(after, withoutAuth);

      await api.call('putSettings', { ...as, body: { backup, instance: { publicBaseUrl: null } } });
      assert.equal((await api.call('getSettings', as)).body.instance.publicBaseUrl, null);
    });
  });

  describe('notification settings', () => {
    const disabled = { email: { enabled: false }, webhook: { enabled: false }, telegram: { enabled: false }, webPush: { enabled: false } };

    it('masks secrets, never returns the bot token, and merges secrets', async () => {
      const fresh = (await api.call('getNotificationSettings', as)).body;
      assert.deepEqual(fresh.events, { update: true, newVersion: true, ghcrWebhookAnomaly: true });
      assert.equal(fresh.telegram.botTokenConfigured, false);

      await api.call('putNotificationSettings', {
        ...as,
        body: {
          email: { enabled: true, smtpUrl: 'smtps://user:pass@smtp.example.com:465?to=a@example.com' },
          webhook: { enabled: true, url: 'https://hooks.example.com/abc' },
          telegram: { enabled: true, botToken: '123:secret', chatId: '  -10055667788  ' },
          webPush: { enabled: false, vapidPublicKey: 'BExamplePublic', vapidPrivateKey: 'private', vapidSubject: 'mailto:ops@example.com' },
          events: { update: false },
        },
      });
      const masked = (await api.call('getNotificationSettings', as)).body;
      assert.deepEqual(masked, {
        email: { enabled: true, smtpUrl: '******' },
        webhook: { enabled: true, url: '******' },
        telegram: { enabled: true, botTokenConfigured: true, chatId: '-10055667788' },
        webPush: { enabled: false, vapidPublicKey: 'BExamplePublic', vapidPrivateKey: '******', vapidSubject: 'mailto:ops@example.com' },
        ntfy: { enabled: false },
        gotify: { enabled: false },
        discord: { enabled: false },
        slack: { enabled: false },
        events: { update: false, newVersion: true, ghcrWebhookAnomaly: true },
      });

      // Sending the masked view back keeps every secret; a blank chat id clears it.
      await api.call('putNotificationSettings', {
        ...as,
        body: { ...masked, telegram: { enabled: true, botTokenConfigured: true, chatId: '   ' }, webhook: { enabled: false, url: '' }, events: undefined },
      });
      const stored = await api.store.notifications.getSettings();
      assert.equal(stored.email.smtpUrl, 'smtps://user:pass@smtp.example.com:465?to=a@example.com');
      assert.equal(stored.webhook.url, 'https://hooks.example.com/abc');
      assert.equal(stored.webhook.enabled, false);
      assert.equal(stored.telegram.botToken, '123:secret');
      assert.equal(stored.telegram.chatId, undefined);
      assert.equal(stored.webPush.vapidPrivateKey, 'private');
      assert.deepEqual(stored.events, { update: false, newVersion: true, ghcrWebhookAnomaly: true }, 'omitted events keep the switches');

      await api.call('putNotificationSettings', { ...as, body: { ...disabled, webhook: { enabled: true, url: 'https://hooks.example.com/new' } } });
      assert.equal((await api.store.notifications.getSettings()).webhook.url, 'https://hooks.example.com/new');
    });
  });

  describe('notification test sends, deliveries and validation', () => {
    const disabled = { email: { enabled: false }, webhook: { enabled: false }, telegram: { enabled: false }, webPush: { enabled: false } };
    it('answers a test send per channel tried, records it, and pages the delivery log', async () => {
      await api.call('putNotificationSettings', { ...as, body: { ...disabled, webhook: { enabled: true } } });
      const stored = await api.store.notifications.getSettings();
      await api.store.notifications.putSettings({ ...stored, webhook: { enabled: true } });
      const sent = await api.call('sendTestNotification', { ...as, body: { message: 'hi' } });
      assert.deepEqual(sent.body, { ok: true, results: { webhook: { ok: false, error: 'webhook.url missing' } } });
      const noBody = await api.call('sendTestNotification', { ...as, body: { channel: 'discord' } });
      assert.deepEqual(noBody.body.results, { discord: { ok: false, error: 'discord.webhookUrl missing' } });

      const page = (await api.call('listNotificationDeliveries', { ...as, query: { kind: 'notification_test', perPage: 1 } })).body;
      assert.deepEqual([page.page, page.perPage, page.total, page.deliveries.length], [1, 1, 2, 1]);
      assert.equal(page.deliveries[0].channel, 'discord');
      assert.equal((await api.call('listNotificationDeliveries', { ...as, query: { page: 3, perPage: 1 } })).body.deliveries.length, 0);
      const invalid: Record<string, string | number>[] = [{ perPage: 0 }, { perPage: 201 }, { channel: 'matrix' }, { status: 'lost' }, { page: 0 }];
      for (const query of invalid) {
        assert.equal((await api.call('listNotificationDeliveries', { ...as, query })).status, 400, JSON.stringify(query));
      }
      assert.equal((await api.call('sendTestNotification', { ...as, body: { channel: 'pager' } })).status, 400);
      await api.call('putNotificationSettings', { ...as, body: disabled });
    });

    it('refuses a settings value that could never work, naming the field', async () => {
      const bad = await api.call('putNotificationSettings', { ...as, body: { ...disabled, gotify: { enabled: true, serverUrl: 'ftp://gotify.example' } } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'invalid_argument');
      assert.equal(bad.body.error.details.field, 'gotify.serverUrl');
      const template = await api.call('putNotificationSettings', { ...as, body: { ...disabled, telegram: { enabled: true, template: { title: '{{/closing}}' } } } });
      assert.equal(template.body.error.details.field, 'telegram.template.title');
    });
  });

  describe('deploy check report', () => {
    it('reports every check without creating a job; an unreachable Docker engine blocks', async () => {
      const jobs = (await api.store.jobs.list({ limit: 200 })).jobs.length;
      const report = (await api.call('getDeployCheckReport', as)).body;
      assert.equal(report.checks[0].id, 'core.forward_auth_authorization_config');
      assert.equal(report.checks[0].status, 'pass');
      assert.match(report.checks[1].evidence, /^currentUser=ops; currentGroups=\[\]; matchedBy=user$/);
      // An allowlist without DOCKREV_AUTH_TRUSTED_PROXIES: anyone reaching the port can claim `ops`.
      const proxies = report.checks[2];
      assert.deepEqual([proxies.id, proxies.status, proxies.required], ['core.forward_auth_trusted_proxies', 'warn', false]);
      assert.match(proxies.recommendation, /DOCKREV_AUTH_TRUSTED_PROXIES/);
      const docker = report.checks.find((check: any) => check.id === 'core.docker_engine');
      assert.deepEqual([docker.status, docker.required], ['fail', true]);
      assert.ok(report.overall.blockingCheckIds.includes('core.docker_engine'));
      assert.equal(report.overall.result, 'fail');
      assert.equal(report.overall.summary, 'At least one required capability is unavailable');
      for (const check of report.checks.filter((item: any) => item.status === 'na')) assert.equal(check.required, false, check.id);
      assert.equal((await api.store.jobs.list({ limit: 200 })).jobs.length, jobs);
    });
  });

  describe('web push subscriptions', () => {
    it('upserts by endpoint and reports whether a delete removed something', async () => {
      const subscription = { endpoint: 'https://push.example.com/sub/1', keys: { p256dh: 'BKey', auth: 'auth1' } };
      assert.deepEqual((await api.call('createWebPushSubscription', { ...as, body: subscription })).body, { ok: true });
      await api.call('createWebPushSubscription', { ...as, body: { ...subscription, keys: { p256dh: 'BKey2', auth: 'auth2' } } });
      const stored = await api.store.notifications.listSubscriptions();
      assert.equal(stored.filter((row) => row.endpoint === subscription.endpoint).length, 1);
      assert.equal(stored.find((row) => row.endpoint === subscription.endpoint)!.keys.auth, 'auth2');
      assert.deepEqual((await api.call('deleteWebPushSubscription', { ...as, body: { endpoint: subscription.endpoint } })).body, { ok: true });
      assert.deepEqual((await api.call('deleteWebPushSubscription', { ...as, body: { endpoint: subscription.endpoint } })).body, { ok: false });
    });
  });

  describe('deploy welcome', () => {
    it('starts unset and records when it was changed', async () => {
      assert.deepEqual((await api.call('getDeployWelcome', as)).body, { neverAutoOpen: false, updatedAt: null });
      const put = (await api.call('putDeployWelcome', { ...as, body: { neverAutoOpen: true } })).body;
      assert.equal(put.ok, true);
      assert.equal(put.neverAutoOpen, true);
      assert.match(put.updatedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.deepEqual((await api.call('getDeployWelcome', as)).body, { neverAutoOpen: true, updatedAt: put.updatedAt });
    });
  });

  describe('checks', () => {
    it('takes over a check that has been running for more than two hours', async () => {
      const stale = newId('chk');
      const threeHoursAgo = new Date(Date.now() - 3 * 3600_000).toISOString();
      await api.store.jobs.create({ id: stale, type: 'check', scope: 'stack', stackId: 'stk_stale', status: 'running', createdBy: 'ops', reason: 'ui', createdAt: threeHoursAgo, startedAt: threeHoursAgo });
      const fresh = await api.call('createCheck', { ...as, body: { scope: 'stack', stackId: 'stk_stale' } });
      assert.equal(fresh.status, 200);
      await api.engine.jobs.settled(fresh.body.checkId);
      const old = (await api.call('getJob', { ...as, params: { jobId: stale } })).body.job;
      assert.equal(old.status, 'failed');
      assert.equal(old.summary.terminated.reason, 'stale_check');
      assert.ok(old.logs.some((log: any) => log.msg === 'job terminated: reason=stale_check'));
      const done = (await api.call('getJob', { ...as, params: { jobId: fresh.body.checkId } })).body.job;
      assert.equal(done.status, 'success');
      assert.equal(done.summary.servicesChecked, 0, 'an unknown stack selects nothing');
    });

    it('refuses a second check of the same target while one runs', async () => {
      const running = newId('chk');
      await api.store.jobs.create({ id: running, type: 'check', scope: 'all', status: 'running', createdBy: 'ops', reason: 'ui' });
      const response = await api.call('createCheck', { ...as, body: { scope: 'all' } });
      assert.equal(response.status, 409);
      assert.deepEqual(response.body.error, { code: 'conflict', message: 'check already running', details: { existingJobId: running } });
      const scan = newId('job');
      await api.store.jobs.create({ id: scan, type: 'runtime_scan', scope: 'all', status: 'running', createdBy: 'ops', reason: 'ui' });
      const second = await api.call('createRuntimeScan', { ...as, body: { scope: 'all' } });
      assert.equal(second.status, 409);
      assert.equal(second.body.error.details.existingJobId, scan);
      await api.store.jobs.update(running, { status: 'failed' });
      await api.store.jobs.update(scan, { status: 'failed' });
    });
  });

  describe('jobs', () => {
    // A database of its own: other tests start jobs too.
    let api: Api;
    before(async () => {
      api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops' } });
    });
    after(() => api.close());

    it('lists newest first with cursor paging and filters, and shows one job with its logs', async () => {
      const ids: string[] = [];
      for (let index = 0; index < 5; index += 1) {
        const id = newId(index % 2 === 0 ? 'chk' : 'job');
        ids.push(id);
        await api.store.jobs.create({
          id,
          type: index % 2 === 0 ? 'check' : 'update',
          scope: 'all',
          status: index === 4 ? 'running' : 'success',
          createdBy: 'ops',
          reason: 'ui',
          createdAt: `2026-01-01T00:00:0${index}.000Z`,
          summary: { progress: { phase: 'done', message: 'finished', current: 1, total: 1, percent: 100, updatedAt: '2026-01-01T00:00:09.000Z' } },
        });
      }
      await api.store.jobs.appendLog(ids[0]!, 'info', 'check started');
      const eventId = await api.store.jobs.appendLog(ids[0]!, 'event', JSON.stringify({ type: 'job_progress', jobId: ids[0] }));

      const first = (await api.call('listJobs', { ...as, query: { limit: 2 } })).body;
      assert.deepEqual(first.jobs.map((job: any) => job.id), [ids[4], ids[3]]);
      assert.ok(first.nextCursor);
      const second = (await api.call('listJobs', { ...as, query: { limit: 2, cursor: first.nextCursor } })).body;
      assert.deepEqual(second.jobs.map((job: any) => job.id), [ids[2], ids[1]]);
      const checks = (await api.call('listJobs', { ...as, query: { type: 'check' } })).body;
      assert.ok(checks.jobs.every((job: any) => job.type === 'check'));
      const running = (await api.call('listJobs', { ...as, query: { status: 'running' } })).body;
      assert.deepEqual(running.jobs.map((job: any) => job.id), [ids[4]]);

      const badCursor = await api.call('listJobs', { ...as, query: { cursor: 'garbage!' } });
      assert.equal(badCursor.status, 400);
      assert.equal(badCursor.body.error.code, 'invalid_jobs_cursor');
      assert.equal((await api.call('listJobs', { ...as, query: { limit: 0 } })).status, 400);
      assert.equal((await api.call('listJobs', { ...as, query: { limit: 201 } })).status, 400);

      const { job } = (await api.call('getJob', { ...as, params: { jobId: ids[0]! } })).body;
      assert.equal(job.type, 'check');
      assert.deepEqual(job.logs.map((log: any) => [log.level, log.msg.slice(0, 13)]), [['info', 'check started'], ['event', '{"type":"job_']]);
      assert.equal(job.logsLastId, eventId);
      assert.equal(job.progress.phase, 'done');
      const missing = await api.call('getJob', { ...as, params: { jobId: 'job_nope' } });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.message, 'job not found');
    });
  });
});
