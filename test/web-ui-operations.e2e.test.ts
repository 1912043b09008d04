// The web UI's pages for the operations that landed after it, in Debian's chromium against the
// real API process, Docker engine, registry and Compose, with the local doubles of what cannot
// run here: a webhook receiver and a Web Push service for notifications, the GitHub REST double,
// the Quay API double. One server, one browser for the whole file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import webpush from 'web-push';
import { chromiumOrSkip, launchChromium, openTestPage } from './browser/chromium.js';
import { ForwardAuthProxy } from './browser/forward-auth-proxy.js';
import { auditPages, type PageToAudit } from './browser/page-checks.js';
import { startUiServer, type UiServer } from './browser/ui-server.js';
import { startPushService, startWebhookReceiver, type HttpDouble, type PushDouble, type WebhookDelivery } from './doubles/index.js';
import { QuayDouble } from './doubles/quay.js';
import { distributionEvent, sendDistributionEnvelope } from './doubles/registry-senders.js';
import { createComposeProject, GithubDouble, infraOrSkip, packageEventPayload, publishImage, removeImages, uniqueName, type ComposeProject } from './fixtures/index.js';

const { infra, skip: noInfra } = infraOrSkip();
const skip = noInfra ?? chromiumOrSkip();
const USER = 'ops';
const LONG = 60_000;
const PAT = 'ghp_uiPlantedPat000000000000000000000000';
const SUPERVISOR_URL = 'https://upgrades.example.test/supervisor/';

describe('the web UI pages of notifications, deploy check, GitHub, registry webhooks and inference', { skip, timeout: 600_000 }, () => {
  const run = uniqueName('uiops').toLowerCase();
  const registry = infra?.registries.open.host ?? '';
  const image = `${registry}/${run}/app:latest`;
  const work = mkdtempSync(join(tmpdir(), 'dockrev-ui-ops-'));
  const vapid = webpush.generateVAPIDKeys();
  let server: UiServer | undefined;
  let apiBase = '';
  let proxy: ForwardAuthProxy;
  let project: ComposeProject | undefined;
  let receiver: HttpDouble<WebhookDelivery>;
  let push: PushDouble;
  let github: GithubDouble;
  let quay: QuayDouble;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  let stackId = '';
  let digest = '';
  const jobs = { github: '', quay: '' };

  const api = (path: string, init?: RequestInit) => server!.api(path, init);
  const waitForJob = async (jobId: string) => {
    for (const deadline = Date.now() + LONG; ; ) {
      const { job } = await api(`/api/jobs/${jobId}`);
      if (['success', 'failed', 'rolled_back'].includes(job.status)) return job;
      assert.ok(Date.now() < deadline, `job ${jobId} still ${job.status}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const saved = () => page.getByRole('status').getByText('Saved.').waitFor();
  const channel = (key: string) => page.getByTestId(`channel-${key}`);

  before(async () => {
    const published = await publishImage({ ref: image });
    digest = published.digest;
    [receiver, push, github] = await Promise.all([startWebhookReceiver(), startPushService({ applicationServerKey: vapid.publicKey }), GithubDouble.start()]);
    github.addToken(PAT, 'octo');
    github.addRepo({ owner: run, name: 'web' });
    quay = await QuayDouble.start({ oauthToken: 'quay-oauth-ui', serverHostname: 'quay.example.test' });

    server = await startUiServer(infra!, work, USER, { DOCKREV_GITHUB_API_BASE_URL: github.baseUrl, DOCKREV_SELF_UPGRADE_URL: SUPERVISOR_URL });
    apiBase = server.base;
    project = await createComposeProject({ name: run, services: { app: { image } } });
    await Promise.all([server.waitForHealth(), project.up()]);
    await api('/api/settings', {
      method: 'PUT',
      body: JSON.stringify({ backup: { enabled: false, requireSuccess: false, baseDir: join(work, 'backups'), skipTargetsOverBytes: 1 }, instance: { publicBaseUrl: apiBase } }),
    });
    await api('/api/deploy-welcome', { method: 'PUT', body: JSON.stringify({ neverAutoOpen: true }) });
    const scan = await waitForJob((await api('/api/discovery/scan', { method: 'POST' })).jobId);
    stackId = scan.summary.scan.actions.find((action: any) => action.project === run).stackId;
    assert.match(stackId, /^stk_/);
    proxy = new ForwardAuthProxy(server.port, USER);
    await proxy.start();

    browser = await launchChromium();
    ({ context, page } = await openTestPage(browser, pageErrors));
    await context.grantPermissions(['notifications', 'clipboard-read', 'clipboard-write'], { origin: proxy.url });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await proxy?.stop().catch(() => undefined);
    await server?.stop();
    await Promise.all([receiver?.close(), push?.close(), github?.close(), quay?.stop()].map((closing) => closing?.catch(() => undefined)));
    await project?.dispose().catch(() => undefined);
    await removeImages([image]).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('links to the supervisor where /api/version says it is', async () => {
    await page.goto(`${proxy.url}/settings`);
    await page.getByTestId('supervisor-link').and(page.locator(`[href="${SUPERVISOR_URL}"]`)).waitFor();
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Deploy check' }).waitFor();
  });

  it('sends a test to a webhook receiver: ok for that channel and for all, and both appear in the delivery log', async () => {
    await page.goto(`${proxy.url}/notifications`);
    const webhook = channel('webhook');
    await webhook.getByLabel('Post the v2 JSON payload to a webhook').check();
    await webhook.getByLabel('Webhook URL').fill(`${receiver.url}/hooks/ui-test`);
    await page.getByTestId('save-notifications').click();
    await saved();
    assert.match(await webhook.getByText(/A value is stored/).innerText(), /leave empty to keep it/, 'the URL is stored, not shown');
    assert.equal(await webhook.getByLabel('Webhook URL').inputValue(), '');

    await webhook.getByTestId('test-webhook').getByRole('button').click();
    await webhook.getByTestId('test-webhook').getByTestId('test-result').getByText('ok').waitFor();
    await page.getByTestId('test-all').getByRole('button').click();
    const all = page.getByTestId('test-all-results');
    await all.locator('[data-channel="webhook"]').getByText('ok').waitFor();
    assert.equal(await all.locator('li').count(), 1, 'only the enabled channel was tried');
    const received = await receiver.waitForAccepted(2);
    assert.deepEqual(
      received.map((delivery) => [delivery.path, delivery.payload.kind]),
      [
        ['/hooks/ui-test', 'notification_test'],
        ['/hooks/ui-test', 'notification_test'],
      ],
    );

    await page.getByRole('link', { name: 'Delivery log' }).click();
    const rows = page.locator('[data-testid="notification-delivery"][data-channel="webhook"][data-status="sent"]');
    await rows.nth(1).waitFor();
    assert.match(await rows.first().innerText(), /Webhook\s+notification test\s+sent/);
    await page.getByTestId('delivery-channel').selectOption('email');
    await page.getByText('No delivery matches these filters.').waitFor();
  });

  it('shows the server\'s 400 for a template next to its field, and saves nothing', async () => {
    await page.goto(`${proxy.url}/notifications`);
    const webhook = channel('webhook');
    await webhook.getByText('Events and message of this channel').click();
    await webhook.getByLabel('Title template').fill('{{#stack}} unclosed');
    await page.getByTestId('save-notifications').click();
    const field = webhook.locator('.field', { has: page.getByLabel('Title template') });
    await field.getByRole('alert').getByText(/webhook\.template\.title: template does not parse/).waitFor();
    assert.equal((await api('/api/notifications')).webhook.template, undefined);
  });

  it('subscribes this browser to Web Push, delivers a test through the push service, and the service worker shows it', async () => {
    // Chromium asks its vendor's push service for a subscription, which cannot be reached here: the
    // push service double stands in for it and hands out the endpoint and keys a browser would.
    const subscription = push.subscribe('ui-browser');
    await page.addInitScript((json) => {
      PushManager.prototype.subscribe = async () => ({ toJSON: () => json }) as unknown as PushSubscription;
    }, subscription);
    await page.goto(`${proxy.url}/notifications`);
    const webPush = channel('webPush');
    await webPush.getByLabel('Send browser push notifications').check();
    await webPush.getByLabel('VAPID public key').fill(vapid.publicKey);
    await webPush.getByLabel('VAPID private key').fill(vapid.privateKey);
    await webPush.getByLabel('VAPID subject').fill('mailto:ops@example.com');
    await page.getByTestId('save-notifications').click();
    await saved();
    await webPush.getByTestId('web-push-subscribe').click();
    await webPush.getByTestId('web-push-status').getByText('Subscribed').waitFor();

    await webPush.getByTestId('test-webPush').getByRole('button').click();
    await webPush.getByTestId('test-webPush').getByTestId('test-result').getByText('ok').waitFor();
    const [message] = await push.waitForAccepted(1);
    assert.equal(message!.payload.kind, 'notification_test');
    assert.ok(message!.payload.title && message!.payload.body, JSON.stringify(message!.payload));

    // What the push service delivered, handed to the page's real service worker.
    const cdp = await context.newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
    await cdp.send('ServiceWorker.enable');
    for (const deadline = Date.now() + 10_000; !registrations.some((entry) => entry.scopeURL === `${proxy.url}/`); ) {
      assert.ok(Date.now() < deadline, 'the service worker /sw.js is registered');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { registrationId } = registrations.find((entry) => entry.scopeURL === `${proxy.url}/`)!;
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: proxy.url, registrationId, data: JSON.stringify(message!.payload) });
    const shown = await page.waitForFunction(async () => {
      const notifications = await (await navigator.serviceWorker.ready).getNotifications();
      return notifications.length > 0 ? notifications.map((notification) => ({ title: notification.title, body: notification.body })) : false;
    });
    assert.deepEqual(await shown.jsonValue(), [{ title: message!.payload.title, body: message!.payload.body }]);
    await cdp.detach();
  });

  it('shows a blocking deploy check once a channel is misconfigured', async () => {
    // Other checks depend on the shared test host (other runs' Compose projects): only this channel's is asserted.
    await page.goto(`${proxy.url}/deploy-check`);
    const item = page.locator('[data-check-id="feature.notifications.webPush"]');
    await item.and(page.locator('[data-status="pass"]')).waitFor();
    await page.locator('[data-check-id="core.docker_engine"][data-status="pass"]').waitFor();
    assert.equal(await item.getAttribute('data-blocking'), null);

    await page.goto(`${proxy.url}/notifications`);
    await channel('webPush').getByLabel('VAPID public key').fill('not-a-vapid-key');
    await page.getByTestId('save-notifications').click();
    await saved();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Deploy check' }).click();
    await item.and(page.locator('[data-blocking="true"][data-status="fail"]')).waitFor();
    assert.match(await item.innerText(), /misconfigured: webPush\.vapidPublicKey is not a P-256 public key/);
    assert.match(await item.innerText(), /Recommendation\s+Fix the channel/);
    await page.locator('[data-testid="deploy-check-overall"][data-result="fail"]').getByText(/^Blocking: (.*, )?Notifications: Web Push(,|$)/).waitFor();
    const features = page.locator('section', { has: page.getByRole('heading', { name: 'Features' }) });
    assert.equal(await features.getByTestId('deploy-check-item').first().getAttribute('data-check-id'), 'feature.notifications.webPush', 'blocking checks come first');
  });

  it('selects a GitHub repository through the UI, which registers its hook at the double; a delivery then arrives in the inbox live', async () => {
    await page.goto(`${proxy.url}/github-packages`);
    await page.getByLabel('Manage package webhooks on the selected GitHub repositories').check();
    assert.equal(await page.getByLabel('Callback URL').inputValue(), `${proxy.url}/api/webhooks/github-packages`, 'the callback URL is suggested');
    await page.getByLabel('Personal access token').fill(PAT);
    await page.getByTestId('save-github').click();
    await saved();
    await page.getByTestId('github-secret-hint').getByText(/secret: stored/).waitFor();

    await page.getByTestId('github-target-input').fill(`${run}/web`);
    await page.getByTestId('github-resolve').click();
    await page.getByTestId('github-resolve-preview').getByText(`${run}/web`).waitFor();
    await page.getByTestId('github-add-target').click();
    const row = page.locator(`[data-testid="github-repo"][data-repo="${run}/web"]`);
    await row.waitFor();
    await row.getByTestId('github-repo-select').check();
    await page.locator(`[data-testid="github-repo"][data-repo="${run}/web"][data-state="ok"]`).waitFor({ timeout: LONG });
    const [hook] = github.hooks(`${run}/web`);
    assert.deepEqual([hook?.config.url, hook?.events], [`${proxy.url}/api/webhooks/github-packages`, ['package']]);
    jobs.github = (await row.getByRole('link', { name: 'job' }).getAttribute('href'))!.split('/').pop()!;
    await page.getByTestId('github-overview').getByText('1 ok').waitFor();

    await page.getByTestId('github-sync-dry-run').click();
    await page.getByTestId('github-dry-run').getByText('dryRun: would enqueue sync_repo job').waitFor();

    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.getByTestId('live-status').getByText('live').waitFor();
    const [answer] = await github.deliverPackageEvent(`${run}/web`, packageEventPayload({ owner: run, repo: 'web', registryHost: registry }), `${run}-ui-delivery`);
    assert.equal(answer!.status, 202, answer!.text);
    const delivery = page.locator('[data-testid="github-delivery"][data-decision="processed"]');
    await delivery.getByText(`${run}-ui-delivery`).waitFor();
    await delivery.getByRole('link', { name: answer!.body.jobId }).waitFor();

    await page.goto(`${proxy.url}/jobs/${jobs.github}`);
    assert.match(await page.getByTestId('job-outcome').innerText(), /Registered hooks on 1 repository: 1 ok/);
    await page.getByTestId('github-job-result').locator(`[data-repo="${run}/web"]`).getByText('created').waitFor();
  });

  it('enables a registry webhook source, reveals its callback URL once, and logs a delivery sent to it', async () => {
    await page.goto(`${proxy.url}/registry-webhooks`);
    await page.getByTestId('source-distribution').getByLabel('Accept push notices from Docker distribution / GitLab').check();
    await page.getByTestId('save-registry-webhooks').click();
    await saved();
    const callbackUrl = await page.getByTestId('revealed-url-distribution').innerText();
    const token = await page.getByTestId('revealed-token-distribution').innerText();
    assert.equal(callbackUrl, `${apiBase}/api/webhooks/registry/distribution`);
    assert.ok(token.length >= 16);
    await page.getByTestId('revealed').getByRole('button', { name: 'Copy Docker distribution / GitLab token' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    await page.getByTestId('callback-distribution').getByText(callbackUrl).waitFor();
    await page.getByRole('button', { name: 'I have copied them' }).click();
    await page.reload();
    await page.getByTestId('source-distribution').waitFor();
    assert.equal(await page.getByTestId('revealed').count(), 0, 'the token is shown once');

    const sent = await sendDistributionEnvelope(callbackUrl, token, {
      events: [distributionEvent({ host: registry, repository: `${run}/app`, tag: 'latest', digest }), distributionEvent({ host: registry, repository: `${run}/app`, digest, action: 'pull' })],
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    await page.getByRole('link', { name: 'Delivery log' }).click();
    const delivery = page.locator('[data-testid="registry-delivery"][data-source="distribution"][data-outcome="processed"]');
    await delivery.waitFor();
    await delivery.locator('summary').click();
    const detail = delivery.getByTestId('registry-delivery-detail');
    await detail.getByText(sent.body.jobIds[0]).waitFor();
    await detail.getByTestId('registry-delivery-ignored').getByText(/not a push \(pull\)/).waitFor();
    await page.getByTestId('registry-delivery-repository').fill('no-such-repository');
    await page.getByText('No delivery matches these filters.').waitFor();
  });

  it('audits Quay notifications from the registry webhook page and shows the job\'s result', async () => {
    await page.goto(`${proxy.url}/registry-webhooks`);
    await page.getByTestId('source-quay').getByLabel('Accept push notices from Quay').check();
    await page.getByLabel('Quay API base URL').fill(quay.baseUrl);
    await page.getByLabel('Quay OAuth token').fill('quay-oauth-ui');
    await page.getByTestId('save-registry-webhooks').click();
    await saved();
    await page.getByTestId('quay-audit').click();
    const link = page.locator('.job-button', { has: page.getByTestId('quay-audit') }).getByRole('link');
    await link.getByText(/Audited Quay notifications/).waitFor({ timeout: LONG });
    jobs.quay = (await link.getAttribute('href'))!.split('/').pop()!;
    await link.click();
    await page.getByTestId('quay-job-result').getByText('Operation: audit').waitFor();
    assert.match(await page.getByTestId('job-outcome').innerText(), /Audited Quay notifications of 0 repositories: 0 ok/);
  });

  it('refreshes a service\'s version from the stack page and lists its snapshot on the inference page', async () => {
    await page.goto(`${proxy.url}/stacks/${stackId}`);
    const card = page.locator('[data-testid="service-card"][data-service-name="app"]');
    await card.getByTestId('refresh-version').click();
    await card.getByTestId('digest-tags').getByTestId('digest-tag').getByText('latest').waitFor({ timeout: LONG });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Versions' }).click();
    await page.getByTestId('live-status').getByText('live').waitFor();
    const row = page.locator(`[data-testid="inference-row"][data-image="${registry}/${run}/app"][data-status="ready"]`);
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(`sha256:${digest.slice(7, 19)}`));
    await page.getByTestId('inference-status').selectOption('all_failed');
    await row.waitFor({ state: 'detached' });
  });

  it('passes axe-core on every new page in light and dark, and fits a 375 px screen', async () => {
    const visible = (testId: string) => () => page.getByTestId(testId).first().waitFor();
    const pages: PageToAudit[] = [
      { name: 'versions', path: '/versions', ready: () => page.getByTestId('inference-row').first().waitFor() },
      { name: 'stack-version', path: `/stacks/${stackId}`, ready: async () => {
        await page.getByTestId('show-digest-tags').click();
        await page.getByTestId('digest-tag').first().waitFor();
      } },
      { name: 'notification-channels', path: '/notifications', ready: visible('channel-slack') },
      { name: 'notification-deliveries', path: '/notifications/deliveries', ready: visible('notification-delivery') },
      { name: 'deploy-check', path: '/deploy-check', ready: visible('deploy-check-item') },
      { name: 'github-packages', path: '/github-packages', ready: visible('github-repo') },
      { name: 'github-deliveries', path: '/github-packages/deliveries', ready: visible('github-delivery') },
      { name: 'github-job', path: `/jobs/${jobs.github}`, ready: visible('github-job-result') },
      { name: 'registry-webhooks', path: '/registry-webhooks', ready: visible('callback-distribution') },
      { name: 'registry-deliveries', path: '/registry-webhooks/deliveries', ready: async () => {
        await page.locator('[data-testid="registry-delivery"] summary').first().click();
        await page.getByTestId('registry-delivery-detail').waitFor();
      } },
      { name: 'quay-job', path: `/jobs/${jobs.quay}`, ready: visible('quay-job-result') },
    ];
    const { problems, overflowing } = await auditPages(page, proxy.url, pages);
    assert.deepEqual(problems, [], JSON.stringify(problems, null, 2));
    assert.deepEqual(overflowing, []);
  });

  it('threw no uncaught error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
