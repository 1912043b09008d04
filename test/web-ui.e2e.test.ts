// The web UI in Debian's chromium against the real API process, Docker engine, registry and
// Compose: discovery, an update found and applied with its log followed live, a health-check
// rollback through a dropped stream, an ignore rule, settings, errors, 401, offline, and every
// page checked with axe-core in both themes at desktop and 375 px widths.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumOrSkip, launchChromium, openTestPage } from './browser/chromium.js';
import { ForwardAuthProxy } from './browser/forward-auth-proxy.js';
import { auditPages, screenshot, type PageToAudit } from './browser/page-checks.js';
import { startUiServer, type UiServer } from './browser/ui-server.js';
import { createComposeProject, infraOrSkip, publishImage, removeImages, repointTag, uniqueName, type ComposeProject } from './fixtures/index.js';

const { infra, skip: noInfra } = infraOrSkip();
const skip = noInfra ?? chromiumOrSkip();
const USER = 'ops';
const LONG = 120_000;

/** The UI's short form of a digest (web/src/format.ts). */
const short = (digest: string) => `sha256:${digest.replace(/^sha256:/, '').slice(0, 12)}`;

describe('the web UI in a real browser', { skip, timeout: 900_000 }, () => {
  const run = uniqueName('ui').toLowerCase();
  const registry = infra?.registries.open.host ?? '';
  const ref = (name: string) => `${registry}/${run}/${name}:latest`;
  const work = mkdtempSync(join(tmpdir(), 'dockrev-ui-'));
  const refs: string[] = [];
  let server: UiServer | undefined;
  let proxy: ForwardAuthProxy;
  let project: ComposeProject | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  let stackId = '';
  let rolledBackJobId = '';
  const digests = { webNew: '', flakyOld: '', flakyNew: '' };

  const api = (path: string, init?: RequestInit) => server!.api(path, init);
  const stackRow = () => page.locator(`[data-testid="stack-row"][data-stack-name="${run}"]`);
  const card = (service: string) => page.locator(`[data-testid="service-card"][data-service-name="${service}"]`);
  const openStack = async () => {
    await page.goto(`${proxy.url}/stacks/${stackId}`);
    await card('web').waitFor();
  };

  before(async () => {
    refs.push((await publishImage({ ref: ref('web') })).ref, (await publishImage({ ref: ref('flaky') })).ref);
    server = await startUiServer(infra!, work, USER, { DOCKREV_UPDATE_HEALTH_TIMEOUT_SECONDS: '20' });
    await server.waitForHealth();
    await api('/api/settings', {
      method: 'PUT',
      body: JSON.stringify({ backup: { enabled: false, requireSuccess: true, baseDir: join(work, 'backups'), skipTargetsOverBytes: 100 * 1024 * 1024 } }),
    });
    proxy = new ForwardAuthProxy(server.port, USER);
    await proxy.start();

    project = await createComposeProject({
      name: run,
      services: {
        web: { image: ref('web'), labels: { 'homepage.name': 'Web front', 'homepage.href': 'https://web.example.test/', 'homepage.group': 'Apps' } },
        flaky: { image: ref('flaky') },
      },
    });
    await project.up();

    browser = await launchChromium();
    ({ page } = await openTestPage(browser, pageErrors));
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await proxy?.stop().catch(() => undefined);
    await server?.stop();
    await project?.dispose().catch(() => undefined);
    await removeImages(refs).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('opens the deploy welcome on the first visit and not again after "don\'t show again"', async () => {
    await page.goto(proxy.url);
    const welcome = page.getByRole('dialog', { name: 'Welcome to Dockrev' });
    await welcome.waitFor();
    await page.getByTestId('welcome-never').click();
    await welcome.waitFor({ state: 'hidden' });
    assert.equal((await api('/api/deploy-welcome')).neverAutoOpen, true);
    await page.reload();
    await page.getByTestId('totals').waitFor();
    assert.equal(await welcome.isVisible(), false);
  });

  it('shows a Compose project discovered on the host as a stack on the overview', async () => {
    await page.getByTestId('discover').click();
    await stackRow().waitFor({ timeout: LONG });
    assert.match(await stackRow().innerText(), /2 services/);
    assert.match(await stackRow().innerText(), /healthy/);
    stackId = (await stackRow().getByRole('link', { name: run }).getAttribute('href'))!.split('/').pop()!;
    assert.match(stackId, /^stk_/);
  });

  it('shows a re-pointed tag as an update with its new digest after "check all"', async () => {
    digests.webNew = (await repointTag(ref('web'))).digest;
    // flaky's next release never becomes healthy.
    digests.flakyNew = (await repointTag(ref('flaky'), { healthcheck: { test: ['CMD', 'false'], interval: '1s', retries: 2 } })).digest;
    await page.getByTestId('check-all').click();
    await stackRow().getByText('2 updates').waitFor({ timeout: LONG });
    const updates = stackRow().getByTestId('pending-update');
    await updates.first().waitFor();
    const text = (await updates.allInnerTexts()).join('\n');
    assert.match(text, new RegExp(`web.*${short(digests.webNew)}`));
    assert.match(text, new RegExp(`flaky.*${short(digests.flakyNew)}`));
    const services = (await api(`/api/stacks/${stackId}`)).stack.services;
    digests.flakyOld = services.find((service: any) => service.name === 'flaky').image.digest;
    assert.ok(digests.flakyOld, 'the check knows what flaky runs');
  });

  it('applies an update from the dialog and follows its live log to "done" without a reload', async () => {
    await openStack();
    await page.evaluate(() => ((window as any).__sameDocument = true));
    await card('web').getByTestId('open-update').click();
    const dialog = page.getByRole('dialog', { name: 'Update web' });
    const plan = await dialog.getByTestId('update-plan').innerText();
    assert.match(plan, new RegExp(short(digests.webNew)), 'the dialog names the candidate digest');
    await dialog.getByLabel('Backup before updating').selectOption('skip');
    await dialog.getByTestId('update-apply').click();
    const live = dialog.locator('[data-testid="job-live"]');
    await live.waitFor();
    await dialog.locator('[data-testid="job-live"][data-status="success"]').waitFor({ timeout: LONG });
    assert.match(await dialog.getByTestId('job-progress-message').innerText(), /./);
    assert.match(await dialog.getByTestId('job-outcome').innerText(), /Updated 1 service/);
    assert.match(await dialog.getByTestId('job-log').innerText(), /update started/);
    assert.equal(await page.evaluate(() => (window as any).__sameDocument), true, 'no page reload');
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    await card('web').getByTestId('running-version').getByText(short(digests.webNew)).waitFor();
    assert.match(await card('web').getByTestId('candidate').innerText(), /up to date/);
  });

  it('shows a failed health check as "rolled back" with the old version running, through a dropped stream without duplicate lines', async () => {
    await openStack();
    const streams: number[] = [];
    page.on('request', (request) => {
      const match = /\/api\/jobs\/job_\w+\/events\?afterId=(\d+)/.exec(request.url());
      if (match) streams.push(Number(match[1]));
    });
    await card('flaky').getByTestId('open-update').click();
    const dialog = page.getByRole('dialog', { name: 'Update flaky' });
    await dialog.getByLabel('Backup before updating').selectOption('skip');
    await dialog.getByTestId('update-apply').click();
    const log = dialog.getByTestId('job-log');
    // Wait for a line that came over the stream (after the snapshot the stream started from), then
    // drop everything: the proxy cuts every connection, the job stream included. It must resume
    // after the last event it saw.
    await page.waitForFunction(() => document.querySelector('[data-testid="job-log"]') !== null);
    for (const deadline = Date.now() + 20_000; streams.length === 0; ) {
      assert.ok(Date.now() < deadline, 'the dialog opened the job stream');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await page.waitForFunction(
      (snapshotLastId) => [...document.querySelectorAll('[data-testid="job-log"] [data-log-id]')].some((line) => Number(line.getAttribute('data-log-id')) > snapshotLastId),
      streams[0]!,
    );
    proxy.cutConnections();
    await dialog.locator('[data-testid="job-live"][data-status="rolled_back"]').waitFor({ timeout: LONG });
    assert.match(await dialog.getByTestId('job-outcome').innerText(), /Rolled back after the healthcheck step failed/);
    assert.ok(streams.length >= 2, `the stream reconnected (requests with afterId ${streams.join(', ')})`);
    assert.ok(streams.at(-1)! > streams[0]!, `and resumed after the last event seen (afterId ${streams.join(' → ')})`);

    const shown = (await log.locator('li').evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-log-id'))))) as number[];
    assert.equal(new Set(shown).size, shown.length, `duplicate log lines: ${shown.join(',')}`);
    rolledBackJobId = (await dialog.getByRole('link', { name: 'Open the job page' }).getAttribute('href'))!.split('/').pop()!;
    const { job } = await api(`/api/jobs/${rolledBackJobId}`);
    const expected = job.logs.filter((line: any) => line.level !== 'event').map((line: any) => line.id);
    assert.deepEqual(shown, expected, 'every log line once, in order');

    await dialog.getByRole('button', { name: 'Close' }).last().click();
    await card('flaky').getByTestId('running-version').getByText(short(digests.flakyOld)).waitFor();
    assert.match(await card('flaky').getByTestId('candidate').innerText(), new RegExp(short(digests.flakyNew)), 'the new version is still offered');
  });

  it('hides an update behind an ignore rule', async () => {
    await openStack();
    await card('flaky').getByTestId('ignore-update').click();
    await card('flaky').getByTestId('ignored').waitFor({ timeout: LONG });
    await page.goto(proxy.url);
    await stackRow().getByText('up to date').waitFor();
    await page.goto(`${proxy.url}/ignores`);
    const rule = page.getByTestId('rule-row');
    await rule.getByText(`${run} / flaky`).waitFor();
    assert.match(await rule.innerText(), /exact tag\s+latest/);
  });

  it('saves settings that survive a reload, and the overview shows the next scheduled check', async () => {
    await page.goto(`${proxy.url}/settings`);
    await page.getByLabel('Public base URL').fill('https://dockrev.example.com');
    await page.getByLabel('Check for updates on a schedule').check();
    await page.getByLabel('Update check schedule (cron)').fill('0 */6 * * *');
    await page.getByLabel('Skip targets larger than (MiB)').fill('250');
    await page.getByTestId('save-settings').click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    await page.reload();
    assert.equal(await page.getByLabel('Public base URL').inputValue(), 'https://dockrev.example.com/');
    assert.equal(await page.getByLabel('Check for updates on a schedule').isChecked(), true);
    assert.equal(await page.getByLabel('Update check schedule (cron)').inputValue(), '0 */6 * * *');
    assert.equal(await page.getByLabel('Skip targets larger than (MiB)').inputValue(), '250');
    await page.goto(proxy.url);
    await page.getByTestId('next-check').getByText(/next scheduled check in \d+ (hour|minute|second)/).waitFor();
  });

  it('checks a form before sending it, and shows the API\'s 400 message next to its field', async () => {
    await page.goto(`${proxy.url}/settings`);
    const puts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PUT') puts.push(request.url());
    });
    await page.getByLabel('Update check schedule (cron)').fill('every day');
    await page.getByTestId('save-settings').click();
    await page.getByText('Not a valid cron expression').waitFor();
    assert.deepEqual(puts, [], 'nothing was sent');

    await page.getByLabel('Update check schedule (cron)').fill('0 */6 * * *');
    await page.getByLabel('Public base URL').fill('https://dockrev.example.com/?from=ui');
    await page.getByTestId('save-settings').click();
    const field = page.locator('.field', { has: page.getByLabel('Public base URL') });
    await field.getByRole('alert').getByText('publicBaseUrl must not contain a query or fragment').waitFor();
    assert.match(await page.getByTestId('save-error').innerText(), /Not saved: publicBaseUrl must not contain a query or fragment/);
    assert.equal(puts.length, 1);

    await page.goto(`${proxy.url}/stacks/stk_does_not_exist`);
    assert.equal(await page.getByTestId('error-message').innerText(), 'stack not found');
  });

  it('explains a 401 from forward auth: what arrived, what is allowed, what to configure', async () => {
    try {
      proxy.user = 'mallory';
      await page.goto(`${proxy.url}/jobs`);
      const help = page.getByTestId('auth-required');
      await help.waitFor();
      const text = await help.innerText();
      assert.match(text, /not on its allowlist/);
      assert.match(text, /mallory/);
      assert.match(text, /X-Forwarded-User/);
      assert.match(text, /o\*\*s/);
      proxy.user = undefined;
      await page.reload();
      await help.getByText('No identity reached Dockrev').waitFor();
    } finally {
      proxy.user = USER;
    }
  });

  it('shows an offline banner while the API is unreachable, keeps the data, and recovers by itself', async () => {
    await page.goto(proxy.url);
    await stackRow().waitFor();
    await proxy.stop();
    try {
      await page.getByTestId('check-all').click();
      await page.getByTestId('offline-banner').waitFor();
      assert.equal(await stackRow().isVisible(), true, 'the last data stays on screen');
    } finally {
      await proxy.start();
    }
    await page.getByTestId('offline-banner').waitFor({ state: 'hidden', timeout: 15_000 });
    await stackRow().waitFor();
  });

  it('is usable with the keyboard alone, with a visible focus indicator', async () => {
    await page.goto(proxy.url);
    await stackRow().waitFor();
    await page.keyboard.press('Tab');
    const skipLink = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement;
      const style = getComputedStyle(element);
      return { text: element.textContent, outline: style.outlineStyle, width: parseFloat(style.outlineWidth), top: element.getBoundingClientRect().top };
    });
    assert.equal(skipLink.text, 'Skip to content');
    assert.notEqual(skipLink.outline, 'none');
    assert.ok(skipLink.width >= 2 && skipLink.top >= 0, JSON.stringify(skipLink));
    await page.keyboard.press('Enter');
    for (let presses = 0; presses < 100; presses += 1) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent)) === run) break;
    }
    const focused = await page.evaluate(() => ({ text: document.activeElement?.textContent, outline: getComputedStyle(document.activeElement!).outlineStyle }));
    assert.equal(focused.text, run, 'Tab reaches the stack link');
    assert.notEqual(focused.outline, 'none');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/stacks/${stackId}`);
  });

  it('passes axe-core on every page in light and dark, fits a 375 px screen, and writes screenshots', async () => {
    // The pages of notifications, inference, GitHub, registry webhooks and the deploy check are
    // audited by web-ui-operations.e2e.test.ts, with the data that fills them.
    const pages: PageToAudit[] = [
      { name: 'overview', path: '/', ready: () => stackRow().getByText('up to date').waitFor() },
      { name: 'stack', path: `/stacks/${stackId}`, ready: () => card('flaky').getByTestId('ignored').waitFor() },
      {
        name: 'update-dialog',
        path: `/stacks/${stackId}`,
        ready: async () => {
          await card('flaky').getByTestId('open-update').click();
          await page.getByRole('dialog', { name: 'Update flaky' }).getByTestId('update-plan').waitFor();
        },
      },
      { name: 'jobs', path: '/jobs', ready: () => page.getByTestId('job-row').first().waitFor() },
      { name: 'job', path: `/jobs/${rolledBackJobId}`, ready: () => page.getByTestId('job-outcome').waitFor() },
      { name: 'discovery', path: '/discovery', ready: () => page.locator(`[data-project="${run}"]`).waitFor() },
      { name: 'ignores', path: '/ignores', ready: () => page.getByTestId('rule-row').getByText(`${run} / flaky`).waitFor() },
      { name: 'settings', path: '/settings', ready: () => page.getByLabel('Public base URL').waitFor() },
      { name: 'welcome', path: '/welcome', ready: () => page.getByLabel('Do not open this welcome automatically').waitFor() },
      { name: 'not-found', path: '/no/such/page', ready: () => page.getByText('Page not found').waitFor() },
    ];
    const { problems, overflowing } = await auditPages(page, proxy.url, pages, async (entry, width, theme) => {
      // The README shows the rolled-back job as a screen sees it.
      if (entry.name === 'job' && width === 1280 && theme === 'light') await screenshot(page, 'readme-job', theme, false);
    });
    assert.deepEqual(problems, [], JSON.stringify(problems, null, 2));
    assert.deepEqual(overflowing, []);
  });

  it('serves the UI at / with the right caching and leaves /api and /supervisor to the API', async () => {
    const index = await fetch(`${proxy.url}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(await index.text())?.[1];
    assert.ok(script, 'index.html loads a module script');
    const asset = await fetch(`${proxy.url}${script}`);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${proxy.url}/jobs/job_x`)).headers.get('content-type')?.startsWith('text/html'), true);
    const unknown = await fetch(`${proxy.url}/api/no-such-route`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as any).error.code, 'not_found');
    const misrouted = await fetch(`${proxy.url}/supervisor/self-upgrade`);
    assert.equal(misrouted.status, 502);
    assert.equal(((await misrouted.json()) as any).error.code, 'supervisor_misrouted');
  });

  it('threw no uncaught error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
