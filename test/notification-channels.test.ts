// The eight notification channels through the real API, each against a local server that speaks
// its service's protocol (test/doubles/): test sends, templates, fallbacks, bad settings, and a
// planted secret that must never come back out.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startApi, type Api } from '../contract-tests/harness.js';
import { createLogger } from '../src/logger.js';
import { CHANNEL_KEYS, startNotificationDoubles, type NotificationDoubles } from './doubles/index.js';

const as = { user: 'ops' };

describe('notification channels against their protocol doubles', { timeout: 120_000 }, () => {
  const secret = `S${randomBytes(12).toString('hex')}`;
  const serverLog: string[] = [];
  let doubles: NotificationDoubles;
  let api: Api;

  const putSettings = async (body: Record<string, unknown>) => {
    const response = await api.call('putNotificationSettings', { ...as, body });
    assert.equal(response.status, 200, response.text);
  };
  const sendTest = async (body: Record<string, unknown>) => {
    const response = await api.call('sendTestNotification', { ...as, body });
    assert.equal(response.status, 200, response.text);
    return response.body.results as Record<string, { ok: boolean; error?: string }>;
  };

  before(async () => {
    doubles = await startNotificationDoubles(secret);
    api = await startApi({
      env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', APP_EFFECTIVE_VERSION: '9.9.9-test', ...doubles.env },
      logger: createLogger({ logLevel: 'debug' }, { write: (line: string) => void serverLog.push(line) }),
    });
    const subscription = doubles.push.subscribe('browser-1');
    assert.equal((await api.call('createWebPushSubscription', { ...as, body: subscription })).status, 200);
  });

  beforeEach(async () => {
    doubles.telegram.refuseHtml = false;
    for (const double of [doubles.webhook, doubles.telegram, doubles.ntfy, doubles.gotify, doubles.discord, doubles.slack, doubles.push]) double.override(undefined);
    await putSettings(doubles.settings());
  });

  after(async () => {
    await api?.close();
    await doubles?.close();
  });

  it('delivers a test notification on every enabled channel, each as its service documents it', async () => {
    const before = doubles.counts();
    const results = await sendTest({ message: '  hello from the test  ' });
    assert.deepEqual(Object.keys(results), [...CHANNEL_KEYS], 'every channel, in send order');
    for (const key of CHANNEL_KEYS) assert.deepEqual(results[key], { ok: true }, `${key}: ${JSON.stringify(results[key])}`);
    const after = doubles.counts();
    for (const key of CHANNEL_KEYS) assert.equal(after[key], before[key] + 1, `${key} received exactly one message`);

    const hook = doubles.webhook.accepted.at(-1)!.payload;
    assert.equal(hook.schema, 'dockrev.notification.test.v2');
    assert.equal(hook.kind, 'notification_test');
    assert.equal(hook.channel, 'webhook');
    assert.deepEqual(hook.human, { title: 'Dockrev test notification (Webhook)', summary: 'hello from the test', detail: `This is a test notification for Webhook. Sent at ${hook.sentAt}.` });
    assert.deepEqual(hook.debug, { appVersion: '9.9.9-test', source: 'dockrev-api', requestedChannel: null, rawMessage: 'hello from the test' });
    assert.equal(hook.url, '/settings');
    assert.ok(!('type' in hook) && !('ts' in hook) && !('message' in hook), 'no legacy fields');

    const telegram = doubles.telegram.accepted.at(-1)!;
    assert.equal(telegram.parseMode, 'HTML');
    assert.match(telegram.plain, /^Dockrev test notification \(Telegram\)\n\nhello from the test\n\n/);
    assert.match(telegram.text, /<pre><code class="language-json">/);

    const mail = doubles.smtp.messages.at(-1)!;
    assert.equal(mail.subject, '[dockrev] test notification');
    assert.deepEqual(doubles.smtp.recipients.at(-1), ['ops@example.com', 'dev@example.com']);
    assert.equal(mail.from?.value[0]?.address, 'dockrev@example.com');
    assert.match(mail.text ?? '', /Debug JSON\n```json\n\{/);
    assert.match(String(mail.html), /<h2>Dockrev test notification \(Email\)<\/h2>/);

    const pushed = doubles.push.accepted.at(-1)!;
    assert.equal(pushed.ttl, 60);
    assert.equal(pushed.urgency, 'normal');
    assert.equal(pushed.jwt.sub, 'mailto:ops@example.com');
    assert.equal(pushed.payload.schema, 'dockrev.notification.test.v2');
    assert.equal(pushed.payload.title, 'Dockrev test notification (Web Push)');
    assert.equal(pushed.payload.body, `hello from the test\nThis is a test notification for Web Push. Sent at ${pushed.payload.sentAt}.\nrequestedChannel: all\nappVersion: 9.9.9-test`);
    assert.doesNotMatch(pushed.payload.body, /```|<pre>/, 'natural language only');

    const ntfy = doubles.ntfy.accepted.at(-1)!;
    assert.deepEqual([ntfy.topic, ntfy.title, ntfy.priority, ntfy.tags], [`dockrev-${secret.slice(0, 20)}`, 'Dockrev test notification (ntfy)', 4, ['whale']]);
    assert.match(ntfy.message, /^hello from the test/);

    const gotify = doubles.gotify.accepted.at(-1)!;
    assert.deepEqual([gotify.title, gotify.priority], ['Dockrev test notification (Gotify)', 6]);

    const discord = doubles.discord.accepted.at(-1)!;
    assert.equal(discord.embeds?.[0]?.title, 'Dockrev test notification (Discord)');
    assert.deepEqual(discord.allowed_mentions, { parse: [] });

    const slack = doubles.slack.accepted.at(-1)!;
    assert.deepEqual(slack.blocks?.[0], { type: 'header', text: { type: 'plain_text', text: 'Dockrev test notification (Slack)', emoji: true } });
  });

  it('tries a named channel alone, even when it is switched off; nothing enabled gives no results', async () => {
    await putSettings(doubles.settings([]));
    assert.deepEqual(await sendTest({}), {});
    const before = doubles.counts();
    assert.deepEqual(await sendTest({ channel: 'gotify', message: 'only gotify' }), { gotify: { ok: true } });
    const after = doubles.counts();
    assert.equal(after.gotify, before.gotify + 1);
    assert.equal(after.webhook, before.webhook);
    assert.equal(doubles.gotify.accepted.at(-1)!.message.split('\n')[0], 'only gotify');
  });

  it('reports a channel without its settings, and an unknown channel lists the known ones', async () => {
    // A secret cannot be cleared through the API (blank keeps it), so the store plays an old install.
    const stored = await api.store.notifications.getSettings();
    await api.store.notifications.putSettings({ ...stored, webhook: { enabled: true } });
    assert.deepEqual(await sendTest({ channel: 'webhook' }), { webhook: { ok: false, error: 'webhook.url missing' } });

    const known = /(?=.*webhook)(?=.*telegram)(?=.*email)(?=.*webPush)(?=.*ntfy)(?=.*gotify)(?=.*discord)(?=.*slack)/;
    const unknown = await api.call('sendTestNotification', { ...as, body: { channel: 'matrix' } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, known);
    const settingsWithUnknown = await api.call('putNotificationSettings', { ...as, body: { ...doubles.settings(), matrix: { enabled: true } } });
    assert.equal(settingsWithUnknown.status, 400);
    assert.match(settingsWithUnknown.body.error.message, known);
  });

  it('sends plain text to Telegram when it refuses the HTML or the HTML is too long', async () => {
    doubles.telegram.refuseHtml = true;
    assert.deepEqual(await sendTest({ channel: 'telegram', message: 'plain please' }), { telegram: { ok: true } });
    const fallback = doubles.telegram.accepted.at(-1)!;
    assert.equal(fallback.parseMode, undefined);
    assert.match(fallback.text, /^Dockrev test notification \(Telegram\)\n\nplain please/);

    doubles.telegram.refuseHtml = false;
    const long = '<&>'.repeat(1200);
    assert.deepEqual(await sendTest({ channel: 'telegram', message: long }), { telegram: { ok: true } });
    const plain = doubles.telegram.accepted.at(-1)!;
    assert.equal(plain.parseMode, undefined, 'escaped, the HTML is over 4096 characters');
    assert.ok(plain.text.length <= 4096);
  });

  it('renders templates on the channel that has them; a template that does not parse is a 400 naming its field', async () => {
    const settings = doubles.settings() as Record<string, Record<string, unknown>>;
    await putSettings({ ...settings, slack: { ...settings.slack, template: { title: 'Dockrev <{{kind}}>', body: '{{summary}} via {{channel}} & {{debug.appVersion}}' } } });
    const before = doubles.counts();
    await sendTest({ message: 'templated' });
    assert.equal(doubles.counts().slack, before.slack + 1);
    const slack = doubles.slack.accepted.at(-1)!;
    assert.equal(slack.blocks?.[0]?.text?.text, 'Dockrev <notification_test>', 'templates are plain text: no HTML escaping');
    assert.equal(slack.blocks?.[1]?.text?.text, 'templated via slack &amp; 9.9.9-test', 'and Slack escapes them for mrkdwn');
    assert.equal(doubles.discord.accepted.at(-1)!.embeds?.[0]?.title, 'Dockrev test notification (Discord)', 'other channels keep their text');
    const shown = (await api.call('getNotificationSettings', as)).body;
    assert.deepEqual(shown.slack.template, { title: 'Dockrev <{{kind}}>', body: '{{summary}} via {{channel}} & {{debug.appVersion}}' });

    const broken = await api.call('putNotificationSettings', { ...as, body: { ...settings, discord: { enabled: true, template: { body: 'hello {{#service}} unclosed' } } } });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.details.field, 'discord.template.body');
    assert.equal(broken.body.error.details.reason, 'template_invalid');

    await putSettings({ ...settings, slack: { enabled: true, template: null } });
    assert.equal((await api.call('getNotificationSettings', as)).body.slack.template, undefined, 'null clears the template');
  });

  it('refuses invalid URLs, SMTP URLs and bot tokens naming the field, never echoing the value', async () => {
    const settings = doubles.settings() as Record<string, Record<string, unknown>>;
    const cases: [string, Record<string, unknown>][] = [
      ['webhook.url', { webhook: { enabled: true, url: `ftp://example.com/${secret}` } }],
      ['webhook.url', { webhook: { enabled: true, url: `not a url ${secret}` } }],
      ['email.smtpUrl', { email: { enabled: true, smtpUrl: `http://user:${secret}@smtp.example.com` } }],
      ['email.smtpUrl', { email: { enabled: true, smtpUrl: `smtp://user:${secret}@smtp.example.com?to=not-an-address` } }],
      ['telegram.botToken', { telegram: { enabled: true, botToken: `no-colon-${secret}` } }],
      ['ntfy.topicUrl', { ntfy: { enabled: true, topicUrl: `https://ntfy.example/` } }],
      ['gotify.serverUrl', { gotify: { enabled: true, serverUrl: 'gotify.example' } }],
      ['discord.webhookUrl', { discord: { enabled: true, webhookUrl: `javascript:${secret}` } }],
      ['slack.webhookUrl', { slack: { enabled: true, webhookUrl: 'mailto:x@example.com' } }],
      ['webPush.vapidSubject', { webPush: { enabled: true, vapidSubject: 'ops@example.com' } }],
    ];
    for (const [field, change] of cases) {
      const response = await api.call('putNotificationSettings', { ...as, body: { ...settings, ...change } });
      assert.equal(response.status, 400, `${field}: ${response.text}`);
      assert.equal(response.body.error.details.field, field);
      assert.doesNotMatch(response.text, new RegExp(secret), `${field}: the refused value is not echoed`);
    }
    const stored = await api.store.notifications.getSettings();
    assert.equal(stored.webhook.url, `${doubles.webhook.url}/hooks/${secret}`, 'a refused PUT stores nothing');
  });

  it('deletes a Web Push subscription the push service says is gone', async () => {
    const gone = doubles.push.subscribe('browser-gone');
    await api.call('createWebPushSubscription', { ...as, body: gone });
    doubles.push.revoke('browser-gone');
    assert.deepEqual(await sendTest({ channel: 'webPush' }), { webPush: { ok: true } }, 'the other subscription still receives it');
    const endpoints = (await api.store.notifications.listSubscriptions()).map((subscription) => subscription.endpoint);
    assert.ok(!endpoints.includes(gone.endpoint), 'the 410 subscription is deleted');
    assert.ok(endpoints.some((endpoint) => endpoint.endsWith('/push/browser-1')));
  });

  it('reports a failing channel with its reason, logs the test send once and does not retry it', async () => {
    doubles.webhook.override(() => ({ status: 500, body: `upstream broke while calling /hooks/${secret}` }));
    const results = await sendTest({ channel: 'webhook' });
    assert.equal(results.webhook?.ok, false);
    assert.equal(results.webhook!.error, 'webhook http 500: upstream broke while calling ******', 'the echoed URL path is scrubbed');
    const log = (await api.call('listNotificationDeliveries', { ...as, query: { channel: 'webhook', status: 'failed', kind: 'notification_test' } })).body;
    const failed = log.deliveries[0];
    assert.deepEqual([failed.attempts, failed.maxAttempts, failed.nextAttemptAt], [1, 1, undefined]);
    assert.equal(failed.lastError, results.webhook!.error);
  });

  it('never lets the planted secret out: not in responses, the delivery log, the server log or the message bodies', async () => {
    doubles.telegram.override((request) => ({ status: 502, body: `bad gateway for ${request.url}` }));
    await sendTest({ message: 'secret hunt' });
    const responses = [
      (await api.call('getNotificationSettings', as)).text,
      (await api.call('listNotificationDeliveries', { ...as, query: { perPage: 200 } })).text,
      JSON.stringify(await sendTest({})),
    ];
    for (const text of responses) assert.doesNotMatch(text, new RegExp(secret));
    assert.match(responses[1]!, /telegram http 502: bad gateway for \/bot\*\*\*\*\*\*\/sendMessage/);
    assert.ok(serverLog.some((line) => line.includes('notification send failed')), 'failures are logged');
    assert.doesNotMatch(serverLog.join(''), new RegExp(secret));
    assert.doesNotMatch(doubles.bodiesReceived(), new RegExp(secret), 'no secret is sent inside a message');
  });
});
