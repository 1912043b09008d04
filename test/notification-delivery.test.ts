// Notifications as subscribers of engine events, on a real SQLite store with protocol doubles and
// no HTTP in front: which events notify, filters, archived-service rules, new-version dedupe and
// the wait for version inference, templates, and delivery — channels that are down, slow or
// failing, back-off retries, and retries that survive a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { EngineEvents, type CandidateFoundEvent, type CheckFinishedEvent } from '../src/engine/events.js';
import { Notifier } from '../src/engine/notify/notifier.js';
import { newId } from '../src/ids.js';
import { openStore, type Service, type StackWithServices, type Store } from '../src/store/index.js';
import { freePort } from '../contract-tests/process.js';
import { startNotificationDoubles, type NotificationDoubles } from './doubles/index.js';

const DIGEST = (c: string) => `sha256:${c.repeat(64)}`;
const RETRY_BASE_MS = 60_000;

describe('notifications from engine events', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-notify-'));
  const sqlitePath = join(dir, 'dockrev.sqlite3');
  let store: Store;
  let doubles: NotificationDoubles;
  let events: EngineEvents;
  let clock: number;
  let notifier: Notifier;
  let stack: StackWithServices;
  let web: Service;
  const settled: string[][] = [];

  /** A notifier on fresh events, so only it hears what the test publishes next. */
  const makeNotifier = (inference?: { whenSettled(digests: readonly string[], timeoutMs: number): Promise<void> }) => {
    events = new EngineEvents();
    return new Notifier({
      store,
      logger: pino({ level: 'silent' }),
      events,
      appVersion: '9.9.9-test',
      telegramApiBaseUrl: doubles.telegram.url,
      retryBaseMs: RETRY_BASE_MS,
      timeoutsMs: { telegram: 1000 },
      now: () => clock,
      inference,
      inferenceWaitMs: 5000,
    });
  };

  const settings = async (enabled: Parameters<NotificationDoubles['settings']>[0], change: (value: any) => void = () => undefined) => {
    const { mergeNotificationSettings } = await import('../src/engine/notify/settings.js');
    const body = { ...doubles.settings(enabled) } as any;
    change(body);
    await store.notifications.putSettings(mergeNotificationSettings(await store.notifications.getSettings(), body));
  };

  const finishedUpdate = async (status: 'success' | 'failed' | 'rolled_back', service: Service = web, extra: Record<string, unknown> = {}) => {
    const jobId = newId('job');
    const now = new Date(clock).toISOString();
    await store.jobs.create({ id: jobId, type: 'update', scope: 'service', serviceId: service.id, stackId: service.stackId, status: 'running', createdBy: 'ops', reason: 'ui', createdAt: now, startedAt: now });
    const summary = { mode: 'apply', targets: [{ serviceId: service.id }], stacks: [{ stackId: service.stackId, update: { changedServices: status === 'success' ? 1 : 0 } }], ...extra };
    await store.jobs.update(jobId, { status, summary, finishedAt: now });
    events.publish('job.finished', { jobId, type: 'update', status, scope: 'service', serviceId: service.id, stackId: service.stackId, createdBy: 'ops', reason: 'ui', createdAt: now, finishedAt: now, summary });
    await events.drain();
    return jobId;
  };

  const logsOf = async (jobId: string) => (await store.jobs.listLogs(jobId)).map((log) => log.msg);

  before(async () => {
    doubles = await startNotificationDoubles(`S${Date.now().toString(36)}planted`);
    store = await openStore({ sqlitePath });
  });

  beforeEach(async () => {
    clock = Date.parse('2026-03-05T08:00:00.000Z');
    await store.knex('notification_deliveries').delete();
    notifier = makeNotifier();
    stack = await store.stacks.create({
      name: `demo-${newId('stk').slice(-5).toLowerCase()}`,
      compose: { type: 'path', composeFiles: ['/srv/demo/compose.yml'] },
      services: [{ name: 'web', image: { ref: 'ghcr.io/acme/web', tag: 'latest' } }],
    });
    web = stack.services[0]!;
    for (const double of [doubles.webhook, doubles.telegram, doubles.ntfy, doubles.gotify, doubles.discord, doubles.slack, doubles.push]) double.override(undefined);
    settled.length = 0;
  });

  afterEach(() => events.drain());

  after(async () => {
    await store?.close();
    await doubles?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends one job_finished per enabled channel, in v2, and logs each result on the job', async () => {
    await settings(['webhook', 'telegram', 'ntfy']);
    const before = doubles.counts();
    const jobId = await finishedUpdate('success');
    const after = doubles.counts();
    assert.deepEqual([after.webhook - before.webhook, after.telegram - before.telegram, after.ntfy - before.ntfy, after.slack - before.slack], [1, 1, 1, 0]);
    const payload = doubles.webhook.accepted.at(-1)!.payload;
    assert.equal(payload.schema, 'dockrev.notification.job.v2');
    assert.equal(payload.kind, 'job_finished');
    assert.deepEqual([payload.job.id, payload.job.status, payload.job.type], [jobId, 'success', 'update']);
    assert.equal(payload.human.title, 'Dockrev: update finished (success)');
    assert.equal(payload.human.summary, `Updated ${stack.name} / web: 1 service changed.`);
    assert.deepEqual(payload.links.serviceUrls, [{ stackId: stack.id, stackName: stack.name, serviceId: web.id, serviceName: 'web', url: `/services/${stack.id}/${web.id}` }]);
    assert.equal(payload.links.jobUrl, `/queue/${jobId}`);
    const logs = await logsOf(jobId);
    for (const channel of ['webhook', 'telegram', 'ntfy']) assert.ok(logs.includes(`notify: ${channel}=ok`), logs.join('\n'));
  });

  it('builds links on the public base URL and renders job variables into templates', async () => {
    await store.settings.putSystem({ ...(await store.settings.getSystem()), instance: { publicBaseUrl: 'https://dockrev.example.com/' } });
    await settings(['discord'], (body) => (body.discord.template = { title: '{{stack}}/{{service}}: {{status}}', body: 'see {{jobUrl}}' }));
    const jobId = await finishedUpdate('failed', web, { error: 'pull failed: manifest unknown' });
    const embed = doubles.discord.accepted.at(-1)!.embeds![0]!;
    assert.equal(embed.title, `${stack.name}/web: failed`);
    assert.equal(embed.description, `see https://dockrev.example.com/queue/${jobId}`);
    assert.equal(embed.url, `https://dockrev.example.com/services/${stack.id}/${web.id}`);
    await store.settings.putSystem({ ...(await store.settings.getSystem()), instance: { publicBaseUrl: null } });
  });

  it('skips a success on an archived service or stack and says so; a failure there still notifies', async () => {
    await settings(['webhook']);
    await store.services.setArchived(web.id, true);
    const before = doubles.counts().webhook;
    const skipped = await finishedUpdate('success');
    assert.equal(doubles.counts().webhook, before);
    assert.ok((await logsOf(skipped)).includes('notify skipped (archived service)'));
    await finishedUpdate('failed');
    assert.equal(doubles.counts().webhook, before + 1, 'failures always notify');

    await store.services.setArchived(web.id, false);
    await store.stacks.setArchived(stack.id, true);
    const onArchivedStack = await finishedUpdate('success');
    assert.ok((await logsOf(onArchivedStack)).includes('notify skipped (archived stack)'));
    assert.equal(doubles.counts().webhook, before + 1);
  });

  it('filters by event: the default switches, overridden per channel', async () => {
    await settings(['webhook', 'slack'], (body) => {
      body.events = { update: false };
      body.slack.events = { update: true };
    });
    const before = doubles.counts();
    await finishedUpdate('success');
    const after = doubles.counts();
    assert.deepEqual([after.webhook - before.webhook, after.slack - before.slack], [0, 1]);
    await settings(['webhook', 'slack'], (body) => {
      body.events = { update: true };
      body.slack.events = null;
    });
  });

  it('lets no channel that is down, slow or failing delay the others, then retries it with back-off', async () => {
    await settings(['webhook', 'telegram', 'gotify', 'ntfy']);
    doubles.webhook.override(() => ({ status: 500, body: 'try later' }));
    // Telegram hangs far beyond its 1 s timeout; Gotify's port answers nothing at all.
    doubles.telegram.override(() => new Promise((resolve) => setTimeout(() => resolve({ status: 200, body: '{}' }), 5000)));
    const closedPort = await freePort();
    await settings(['webhook', 'telegram', 'gotify', 'ntfy'], (body) => (body.gotify.serverUrl = `http://127.0.0.1:${closedPort}`));
    const before = doubles.counts();
    const started = Date.now();
    const jobId = await finishedUpdate('success');
    assert.ok(Date.now() - started < 4500, 'the hanging channel was cut off at its timeout');
    assert.equal(doubles.counts().ntfy, before.ntfy + 1, 'the healthy channel delivered');
    const ntfyReceived = doubles.ntfy.requests.at(-1)!.receivedAt;
    const telegramAsked = doubles.telegram.requests.at(-1)!.receivedAt;
    assert.ok(ntfyReceived - telegramAsked < 900, 'ntfy did not wait for Telegram');

    const rows = (await store.notificationDeliveries.list({ jobId })).deliveries;
    const byChannel = Object.fromEntries(rows.map((row) => [row.channel, row]));
    assert.equal(byChannel.ntfy!.status, 'sent');
    for (const channel of ['webhook', 'telegram', 'gotify']) {
      assert.equal(byChannel[channel]!.status, 'pending', channel);
      assert.equal(byChannel[channel]!.attempts, 1);
      assert.equal(byChannel[channel]!.nextAttemptAt, new Date(clock + RETRY_BASE_MS).toISOString());
    }
    assert.equal(byChannel.webhook!.lastError, 'webhook http 500: try later');
    assert.match(byChannel.telegram!.lastError!, /timed out/);
    assert.match(byChannel.gotify!.lastError!, /ECONNREFUSED/);
    const logs = await logsOf(jobId);
    assert.ok(logs.includes('notify: webhook=failed error=webhook http 500: try later (attempt 1/4; retry in 60s)'), logs.join('\n'));

    assert.equal(await notifier.dispatcher.retryDue(), 0, 'nothing is due before its time');
    doubles.telegram.override(undefined);
    clock += RETRY_BASE_MS;
    assert.equal(await notifier.dispatcher.retryDue(), 3);
    const second = Object.fromEntries((await store.notificationDeliveries.list({ jobId })).deliveries.map((row) => [row.channel, row]));
    assert.deepEqual([second.telegram!.status, second.telegram!.attempts], ['sent', 2]);
    assert.deepEqual([second.webhook!.status, second.webhook!.attempts, second.webhook!.nextAttemptAt], ['pending', 2, new Date(clock + 2 * RETRY_BASE_MS).toISOString()]);
    assert.ok((await logsOf(jobId)).includes('notify: telegram=ok (attempt 2/4)'));

    // Two more failures of the webhook, then it gives up; Gotify's settings are fixed meanwhile.
    await settings(['webhook', 'telegram', 'gotify', 'ntfy']);
    clock += 2 * RETRY_BASE_MS;
    await notifier.dispatcher.retryDue();
    clock += 4 * RETRY_BASE_MS;
    await notifier.dispatcher.retryDue();
    const last = Object.fromEntries((await store.notificationDeliveries.list({ jobId })).deliveries.map((row) => [row.channel, row]));
    assert.deepEqual([last.webhook!.status, last.webhook!.attempts, last.webhook!.nextAttemptAt], ['failed', 4, undefined]);
    assert.equal(last.gotify!.status, 'sent');
    assert.ok((await logsOf(jobId)).includes('notify: webhook=failed error=webhook http 500: try later (attempt 4/4; giving up)'));
    clock += 60 * RETRY_BASE_MS;
    assert.equal(await notifier.dispatcher.retryDue(), 0, 'a delivery that gave up is not retried');
  });

  it('keeps a retry across a restart: it is a row, not a timer', async () => {
    await settings(['webhook']);
    doubles.webhook.override(() => ({ status: 503, body: 'down for maintenance' }));
    const jobId = await finishedUpdate('success');
    await store.close();

    // A new process on the same database: the service is back.
    doubles.webhook.override(undefined);
    store = await openStore({ sqlitePath });
    notifier = makeNotifier();
    const before = doubles.counts().webhook;
    clock += RETRY_BASE_MS;
    assert.equal(await notifier.dispatcher.retryDue(), 1);
    assert.equal(doubles.counts().webhook, before + 1);
    assert.equal(doubles.webhook.accepted.at(-1)!.payload.job.id, jobId, 'the payload kept in the row is sent');
    const [row] = (await store.notificationDeliveries.list({ jobId })).deliveries;
    assert.deepEqual([row!.status, row!.attempts], ['sent', 2]);
  });

  describe('new versions', () => {
    const candidateFor = (service: Service, digest: string, currentDigest = DIGEST('1')): CandidateFoundEvent => ({
      jobId: 'chk_x',
      reason: 'schedule',
      stackId: stack.id,
      stackName: stack.name,
      serviceId: service.id,
      serviceName: service.name,
      imageRef: service.image.ref,
      tag: service.image.tag,
      currentDigest,
      candidateDigest: digest,
      archMatch: 'match',
      ignored: false,
    });

    const finishedCheck = async (reason: string, candidates: CandidateFoundEvent[], source?: string) => {
      const jobId = newId('chk');
      const now = new Date(clock).toISOString();
      await store.jobs.create({ id: jobId, type: 'check', scope: 'all', status: 'success', createdBy: reason, reason, createdAt: now, startedAt: now });
      const event: CheckFinishedEvent = {
        jobId,
        reason,
        createdBy: reason,
        scope: 'all',
        stackIds: [stack.id],
        servicesChecked: 1,
        servicesWithCandidate: candidates.length,
        newCandidates: candidates.map((candidate) => ({ ...candidate, jobId })),
        ...(source ? { source } : {}),
      };
      events.publish('check.finished', event);
      await events.drain();
      return jobId;
    };

    const withCandidate = async (digest: string) => {
      await store.services.updateState(web.id, { digest: DIGEST('1'), candidate: { tag: 'latest', digest, archMatch: 'match', arch: ['linux/amd64'] } });
      return (await store.services.get(web.id))!;
    };

    it('waits for version inference and says 1.4.2 -> 1.5.0, once per service and candidate digest', async () => {
      await settings(['webhook']);
      const service = await withCandidate(DIGEST('2'));
      notifier = makeNotifier({
        whenSettled: async (digests) => {
          settled.push([...digests]);
          // Inference finishing meanwhile: the resolved tags land on the service.
          await new Promise((resolve) => setTimeout(resolve, 50));
          await store.services.updateState(web.id, { resolvedTag: '1.4.2', candidate: { ...service.candidate!, resolvedTag: '1.5.0' } });
        },
      });
      const before = doubles.counts().webhook;
      await finishedCheck('schedule', [candidateFor(service, DIGEST('2'))]);
      assert.deepEqual(settled, [[DIGEST('2'), DIGEST('1')]]);
      assert.equal(doubles.counts().webhook, before + 1);
      const payload = doubles.webhook.accepted.at(-1)!.payload;
      assert.equal(payload.schema, 'dockrev.notification.new_version_discovered.v2');
      assert.equal(payload.human.summary, `${stack.name} / web has a new version (1.4.2 -> 1.5.0).`);
      assert.deepEqual([payload.links.serviceUrls[0].currentDisplayTag, payload.links.serviceUrls[0].candidateDisplayTag], ['1.4.2', '1.5.0']);
      assert.deepEqual([payload.check.newVersions, payload.check.servicesChecked], [1, 1]);

      const again = await finishedCheck('schedule', [candidateFor(service, DIGEST('2'))]);
      assert.equal(doubles.counts().webhook, before + 1, 'the same digest is announced once');
      assert.ok((await logsOf(again)).includes('new-version notification skipped: all 1 services already have active records'));
    });

    it('never says latest -> latest when inference cannot tell; a UI check announces nothing unless a push notice joined it', async () => {
      await settings(['webhook']);
      const service = await withCandidate(DIGEST('3'));
      const before = doubles.counts().webhook;
      await finishedCheck('ui', [candidateFor(service, DIGEST('3'))]);
      assert.equal(doubles.counts().webhook, before, 'a UI check is watched by the person who asked');
      await finishedCheck('ui', [candidateFor(service, DIGEST('3'))], 'github_webhook');
      assert.equal(doubles.counts().webhook, before + 1);
      const summary = doubles.webhook.accepted.at(-1)!.payload.human.summary as string;
      assert.equal(summary, `${stack.name} / web has a new version (latest (${'1'.repeat(12)}) -> latest (${'3'.repeat(12)})).`);
      assert.doesNotMatch(summary, /latest -> latest/);
    });

    it('announces nothing for a candidate the service no longer has, or for an archived service', async () => {
      await settings(['webhook']);
      const service = await withCandidate(DIGEST('4'));
      const before = doubles.counts().webhook;
      const stale = await finishedCheck('schedule', [candidateFor(service, DIGEST('5'))]);
      assert.ok((await logsOf(stale)).some((line) => /no longer have matching candidates/.test(line)));
      await store.services.setArchived(web.id, true);
      await finishedCheck('webhook', [candidateFor(service, DIGEST('4'))]);
      assert.equal(doubles.counts().webhook, before);
    });
  });

  it('announces GitHub webhook audit anomalies', async () => {
    await settings(['slack']);
    const jobId = newId('job');
    const now = new Date(clock).toISOString();
    await store.jobs.create({ id: jobId, type: 'github_packages_webhook', scope: 'all', status: 'success', createdBy: 'schedule', reason: 'schedule', createdAt: now, startedAt: now });
    events.publish('ghcr_webhook.anomaly', {
      jobId,
      repos: [
        { owner: 'acme', repo: 'web', fullName: 'acme/web', state: 'missing' },
        { owner: 'acme', repo: 'api', fullName: 'acme/api', state: 'error', lastError: 'Bad credentials' },
      ],
    });
    await events.drain();
    const slack = doubles.slack.accepted.at(-1)!;
    assert.equal(slack.blocks?.[0]?.text?.text, 'Dockrev: GitHub webhook audit found problems');
    assert.match(slack.blocks?.[1]?.text?.text ?? '', /^2 repositories need attention: 1 missing, 0 conflicting, 1 failing webhooks\./);
    assert.ok((await logsOf(jobId)).includes('notify: slack=ok'));
  });
});
