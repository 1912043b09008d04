// Notifications and the deploy check on the real Docker engine, registry and Compose
// (scripts/infra/up.sh), with the eight notification services as local protocol doubles: an update
// notifies each enabled channel exactly once, a scheduled check announces a new digest once, a
// channel that hangs never holds up the update, and a planted secret never comes back out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApi, waitForJob as waitForJobUntil, type Api } from '../contract-tests/harness.js';
import { createLogger } from '../src/logger.js';
import type { Service } from '../src/store/index.js';
import { CHANNEL_KEYS, startNotificationDoubles, type NotificationDoubles } from './doubles/index.js';
import { createComposeProject, infraOrSkip, publishImage, removeImages, repointTag, uniqueName, type ComposeProject } from './fixtures/index.js';

const { infra, skip } = infraOrSkip();
const as = { user: 'ops' };

describe('notifications on the real engine', { skip, timeout: 600_000 }, () => {
  const run = uniqueName('ntf').toLowerCase();
  const secret = `S${run.replace(/[^a-z0-9]/g, '')}planted`;
  const work = mkdtempSync(join(tmpdir(), 'dockrev-notify-e2e-'));
  const serverLog: string[] = [];
  const ref = `${infra?.registries.open.host ?? ''}/${run}/web:latest`;
  let doubles: NotificationDoubles;
  let project: ComposeProject;
  let api: Api;
  let web: Service;
  const jobIds: string[] = [];

  const job = async (jobId: string) => (await api.call('getJob', { ...as, params: { jobId } })).body.job;
  const waitForJob = (jobId: string) => waitForJobUntil(job, jobId, { timeoutMs: 180_000, pollMs: 200 });
  const check = async () => {
    const started = await api.call('createCheck', { ...as, body: { scope: 'service', serviceId: web.id } });
    jobIds.push(started.body.checkId);
    return waitForJob(started.body.checkId);
  };
  const update = async () => {
    const current = (await api.store.services.get(web.id))!;
    assert.ok(current.candidate, 'web has a candidate');
    const response = await api.call('createUpdate', { ...as, body: { scope: 'service', serviceId: web.id, targetTag: 'latest', targetDigest: current.candidate.digest, pullTags: [] } });
    assert.equal(response.status, 200, response.text);
    jobIds.push(response.body.jobId);
    return waitForJob(response.body.jobId);
  };
  const kindsReceived = () => ({
    webhook: doubles.webhook.accepted.map((delivery) => delivery.payload.kind),
    webPush: doubles.push.accepted.map((message) => message.payload.kind),
  });

  before(async () => {
    doubles = await startNotificationDoubles(secret);
    await publishImage({ ref });
    project = await createComposeProject({ name: run, services: { web: { image: ref } } });
    await project.up();
    api = await startApi({
      env: {
        DOCKREV_AUTH_ALLOWED_USER: 'ops',
        DOCKER_HOST: infra!.dockerHost,
        DOCKREV_DOCKER_CONFIG: infra!.dockerConfig,
        DOCKREV_COMPOSE_BIN: infra!.composeV1Bin.join(' '),
        DOCKREV_OVERRIDE_DIR: join(work, 'overrides'),
        DOCKREV_UPDATE_HEALTH_TIMEOUT_SECONDS: '20',
        ...doubles.env,
      },
      logger: createLogger({ logLevel: 'debug' }, { write: (line: string) => void serverLog.push(line) }),
    });
    // The stack as discovery records it, without discovering every other run's projects on the shared engine.
    const stack = await api.store.stacks.create({
      name: project.name,
      compose: { type: 'path', composeFiles: [project.file] },
      services: [{ name: 'web', image: { ref: ref.replace(/:latest$/, ''), tag: 'latest' } }],
    });
    web = stack.services[0]!;
    await api.call('putSettings', { ...as, body: { backup: { enabled: false, requireSuccess: true, baseDir: join(work, 'backups'), skipTargetsOverBytes: 1 << 30 } } });
    assert.equal((await api.call('putNotificationSettings', { ...as, body: doubles.settings() })).status, 200);
    assert.equal((await api.call('createWebPushSubscription', { ...as, body: doubles.push.subscribe('browser') })).status, 200);
    await check();
  });

  after(async () => {
    await api?.close();
    await project?.dispose().catch(() => undefined);
    await removeImages([ref]).catch(() => undefined);
    await doubles?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('sends every channel a test notification', async () => {
    const before = doubles.counts();
    const response = await api.call('sendTestNotification', { ...as, body: { message: 'e2e' } });
    for (const key of CHANNEL_KEYS) assert.deepEqual(response.body.results[key], { ok: true }, key);
    const counts = doubles.counts();
    for (const key of CHANNEL_KEYS) assert.equal(counts[key], before[key] + 1, key);
  });

  it('sends exactly one job_finished per enabled channel for an update, and logs each result on the job', async () => {
    await repointTag(ref);
    const checked = await check();
    assert.equal(checked.summary.servicesWithCandidate, 1, JSON.stringify(checked.summary.services));
    await api.engine.events.drain();
    const before = doubles.counts();
    const updated = await update();
    assert.equal(updated.status, 'success', JSON.stringify(updated.summary));
    await api.engine.events.drain();
    const after = doubles.counts();
    for (const key of CHANNEL_KEYS) assert.equal(after[key], before[key] + 1, `${key}: one message for the update (a UI check announces nothing)`);

    const payload = doubles.webhook.accepted.at(-1)!.payload;
    assert.deepEqual([payload.kind, payload.job.id, payload.job.status, payload.human.title], ['job_finished', updated.id, 'success', 'Dockrev: update finished (success)']);
    assert.equal(doubles.push.accepted.at(-1)!.payload.kind, 'job_finished');
    assert.equal(doubles.smtp.messages.at(-1)!.subject, '[dockrev] Dockrev: update finished (success)');
    assert.match(doubles.telegram.accepted.at(-1)!.plain, /^Dockrev: update finished \(success\)\n\nUpdated .* \/ web: 1 service changed\./);
    for (const title of [doubles.ntfy.accepted.at(-1)!.title, doubles.gotify.accepted.at(-1)!.title, doubles.discord.accepted.at(-1)!.embeds![0]!.title, doubles.slack.accepted.at(-1)!.blocks![0]!.text!.text]) {
      assert.equal(title, 'Dockrev: update finished (success)');
    }
    const logs = (await api.store.jobs.listLogs(updated.id)).map((log) => log.msg);
    for (const key of CHANNEL_KEYS) assert.ok(logs.includes(`notify: ${key}=ok`), `${key}: ${logs.join('\n')}`);
    const deliveries = (await api.call('listNotificationDeliveries', { ...as, query: { jobId: updated.id } })).body;
    assert.deepEqual(deliveries.deliveries.map((row: any) => `${row.channel}=${row.status}`).sort(), CHANNEL_KEYS.map((key) => `${key}=sent`).sort());
  });

  it('announces a new digest found by a scheduled check once; the next scheduled check announces nothing', async () => {
    await repointTag(ref);
    const before = doubles.counts();
    assert.equal(await api.engine.scheduler.runNow('update-check'), true);
    await api.engine.events.drain();
    const after = doubles.counts();
    for (const key of CHANNEL_KEYS) assert.equal(after[key], before[key] + 1, `${key}: one new_version_discovered`);
    const payload = doubles.webhook.accepted.at(-1)!.payload;
    assert.equal(payload.kind, 'new_version_discovered');
    assert.equal(payload.links.serviceUrls[0].serviceId, web.id);
    assert.match(payload.human.summary, new RegExp(`${project.name} / web has a new version \\(latest \\(\\w{12}\\) -> latest \\(\\w{12}\\)\\)\\.`));
    const scheduled = (await api.store.jobs.list({ types: ['check'], limit: 1 })).jobs[0]!;
    assert.equal(scheduled.reason, 'schedule');
    jobIds.push(scheduled.id);

    assert.equal(await api.engine.scheduler.runNow('update-check'), true);
    await api.engine.events.drain();
    assert.deepEqual(doubles.counts(), after, 'the same digest is not announced again');
    assert.deepEqual(kindsReceived().webhook.filter((kind) => kind === 'new_version_discovered').length, 1);
  });

  it('finishes an update without waiting for a channel that hangs', async () => {
    let hung = false;
    let release: () => void = () => undefined;
    doubles.webhook.override(() => {
      hung = true;
      return new Promise((resolve) => (release = () => resolve(undefined)));
    });
    const updated = await update();
    assert.equal(updated.status, 'success');
    // The job is final while the webhook still hangs; every other channel is delivered meanwhile.
    const deadline = Date.now() + 30_000;
    let rows: any[] = [];
    while (Date.now() < deadline) {
      rows = (await api.call('listNotificationDeliveries', { ...as, query: { jobId: updated.id } })).body.deliveries;
      if (rows.length === 8 && rows.filter((row) => row.channel !== 'webhook').every((row) => row.status === 'sent')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(hung, 'the webhook was called');
    const webhook = rows.find((row) => row.channel === 'webhook');
    assert.deepEqual([webhook.status, webhook.attempts], ['pending', 0], 'still in its first attempt while the job and every other channel are done');
    doubles.webhook.override(undefined);
    release();
    await api.engine.events.drain();
    const after = (await api.call('listNotificationDeliveries', { ...as, query: { jobId: updated.id, channel: 'webhook' } })).body.deliveries[0];
    assert.deepEqual([after.status, after.attempts], ['sent', 1]);
  });

  it('passes the deploy check on the test infrastructure, and fails naming a misconfigured channel', async () => {
    const jobsBefore = (await api.store.jobs.list({ limit: 200 })).jobs.length;
    const report = (await api.call('getDeployCheckReport', as)).body;
    const status = Object.fromEntries(report.checks.map((check: any) => [check.id, check.status]));
    assert.equal(report.overall.result, 'pass', JSON.stringify(report.checks.filter((check: any) => check.status === 'fail'), null, 2));
    assert.deepEqual(report.overall.blockingCheckIds, []);
    assert.deepEqual(
      report.checks.map((check: any) => check.id),
      [
        'core.forward_auth_authorization_config',
        'core.forward_auth_request_authorization',
        'core.forward_auth_trusted_proxies',
        'core.docker_engine',
        'core.compose_access',
        'core.service_image_ref_valid',
        'core.update_executor_ready',
        'feature.registry_auth',
        ...CHANNEL_KEYS.map((key) => `feature.notifications.${key}`),
        'feature.github_packages',
      ],
    );
    for (const id of ['core.docker_engine', 'core.compose_access', 'core.update_executor_ready', 'feature.registry_auth', 'feature.notifications.webPush']) assert.equal(status[id], 'pass', id);
    assert.equal(status['feature.github_packages'], 'na');
    assert.equal((await api.store.jobs.list({ limit: 200 })).jobs.length, jobsBefore, 'the report created no job');

    const stored = await api.store.notifications.getSettings();
    await api.store.notifications.putSettings({ ...stored, webhook: { enabled: true } });
    const failing = (await api.call('getDeployCheckReport', as)).body;
    assert.equal(failing.overall.result, 'fail');
    assert.deepEqual(failing.overall.blockingCheckIds, ['feature.notifications.webhook']);
    const webhook = failing.checks.find((check: any) => check.id === 'feature.notifications.webhook');
    assert.deepEqual([webhook.status, webhook.required], ['fail', true]);
    assert.match(webhook.summary, /webhook\.url missing/);
    await api.store.notifications.putSettings(stored);
  });

  it('never lets the planted secret into the server log, job summaries and logs, the delivery log or responses', async () => {
    doubles.telegram.override((request) => ({ status: 500, body: `internal error at ${request.url}` }));
    await repointTag(ref);
    await check();
    const updated = await update();
    await api.engine.events.drain();
    doubles.telegram.override(undefined);
    const failed = (await api.call('listNotificationDeliveries', { ...as, query: { jobId: updated.id, channel: 'telegram' } })).body.deliveries[0];
    assert.equal(failed.lastError, 'telegram http 500: internal error at /bot******/sendMessage');

    const texts = [serverLog.join('')];
    const everyJob = (await api.store.jobs.list({ limit: 200 })).jobs.map((entry) => entry.id);
    assert.ok(everyJob.length >= jobIds.length);
    for (const jobId of everyJob) {
      texts.push((await api.call('getJob', { ...as, params: { jobId } })).text);
      texts.push((await api.store.jobs.listLogs(jobId, 0, 10_000)).map((log) => log.msg).join('\n'));
    }
    texts.push((await api.call('listNotificationDeliveries', { ...as, query: { perPage: 200 } })).text);
    texts.push((await api.call('listJobs', as)).text);
    texts.push((await api.call('getNotificationSettings', as)).text);
    texts.push((await api.call('getDeployCheckReport', as)).text);
    assert.ok(texts.every((text) => text.length > 0));
    for (const [index, text] of texts.entries()) assert.doesNotMatch(text, new RegExp(secret), `text ${index} holds the secret`);
    assert.doesNotMatch(doubles.bodiesReceived(), new RegExp(secret));
  });
});
