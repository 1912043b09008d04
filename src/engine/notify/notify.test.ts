import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../errors.js';
import { DEFAULT_NOTIFICATION_SETTINGS, type NotificationSettings, type Service, type Stack } from '../../store/index.js';
import type { NotificationPayload } from './channels/channel.js';
import { parseSmtpUrl } from './channels/email.js';
import { urlSecretParts } from './channels/fields.js';
import { gotifyMessageUrl } from './channels/gotify.js';
import { splitTopicUrl } from './channels/ntfy.js';
import { telegramText } from './channels/telegram.js';
import { archivedSkip } from './job-finished.js';
import { announcesNewVersions, displayTags } from './new-versions.js';
import { channelsFor } from './notifier.js';
import { anomalyPayload, jobPayload, newVersionPayload, testPayload, type NewVersionService } from './payload.js';
import { redactSecrets } from './redact.js';
import { mergeNotificationSettings, notificationSettingsView, settingsSecrets } from './settings.js';
import { channelMessage, templateProblem } from './template.js';

const context = { appVersion: '1.2.3', sentAt: '2026-03-05T08:00:00.000Z' };
const defaults = (): NotificationSettings => structuredClone(DEFAULT_NOTIFICATION_SETTINGS);
const original = { email: { enabled: false }, webhook: { enabled: false }, telegram: { enabled: false }, webPush: { enabled: false } };

describe('notification settings', () => {
  it('keeps the channels a client written for the original four does not send, and every stored secret', () => {
    const stored = mergeNotificationSettings(defaults(), {
      ...original,
      ntfy: { enabled: true, topicUrl: 'https://ntfy.example/alerts', token: 'tk_one', priority: 5, tags: [' whale ', ''] },
      discord: { enabled: true, webhookUrl: 'https://discord.example/api/webhooks/1/tok', events: { newVersion: false }, template: { title: '{{stack}}' } },
    });
    assert.deepEqual(stored.ntfy, { enabled: true, topicUrl: 'https://ntfy.example/alerts', token: 'tk_one', priority: 5, tags: ['whale'] });
    const again = mergeNotificationSettings(stored, { ...original, ntfy: { enabled: false, topicUrl: '******', token: null, tags: null } });
    assert.deepEqual(again.ntfy, { enabled: false, topicUrl: 'https://ntfy.example/alerts', token: 'tk_one', priority: 5 }, 'masks keep secrets, null clears tags, omitted keeps the priority');
    assert.deepEqual(again.discord, stored.discord, 'an omitted channel is unchanged');
    const cleared = mergeNotificationSettings(again, { ...original, discord: { enabled: true, events: null, template: null } });
    assert.deepEqual(cleared.discord, { enabled: true, webhookUrl: 'https://discord.example/api/webhooks/1/tok' });
  });

  it('shows every secret masked and never the bot token', () => {
    const stored = mergeNotificationSettings(defaults(), {
      email: { enabled: true, smtpUrl: 'smtps://u:p4ss@smtp.example:465?to=a@example.com' },
      webhook: { enabled: true, url: 'https://hooks.example/x' },
      telegram: { enabled: true, botToken: '1:abc', chatId: '42' },
      webPush: { enabled: false, vapidPublicKey: 'BPub', vapidPrivateKey: 'priv', vapidSubject: 'mailto:a@example.com' },
      gotify: { enabled: true, serverUrl: 'https://gotify.example', appToken: 'Aapp' },
      slack: { enabled: true, webhookUrl: 'https://hooks.slack.example/services/T/B/x' },
    });
    assert.deepEqual(notificationSettingsView(stored), {
      events: { update: true, newVersion: true, ghcrWebhookAnomaly: true },
      email: { enabled: true, smtpUrl: '******' },
      webhook: { enabled: true, url: '******' },
      telegram: { enabled: true, botTokenConfigured: true, chatId: '42' },
      webPush: { enabled: false, vapidPublicKey: 'BPub', vapidPrivateKey: '******', vapidSubject: 'mailto:a@example.com' },
      ntfy: { enabled: false },
      gotify: { enabled: true, serverUrl: 'https://gotify.example', appToken: '******' },
      discord: { enabled: false },
      slack: { enabled: true, webhookUrl: '******' },
    });
    const secrets = settingsSecrets(stored);
    for (const secret of ['p4ss', 'https://hooks.example/x', '1:abc', 'priv', 'Aapp', '/services/T/B/x']) assert.ok(secrets.includes(secret), secret);
  });

  it('refuses an unknown channel by listing the known ones, and a bad template naming its field', () => {
    assert.throws(
      () => mergeNotificationSettings(defaults(), { ...original, matrix: { enabled: true } } as never),
      (error: DomainError) => error.kind === 'invalid_input' && /known channels: webhook, telegram, email, webPush, ntfy, gotify, discord, slack/.test(error.message),
    );
    assert.throws(
      () => mergeNotificationSettings(defaults(), { ...original, webhook: { enabled: true, template: { title: '{{#open}} never closed' } } }),
      (error: DomainError) => error.details.field === 'webhook.template.title',
    );
  });
});

describe('secret scrubbing', () => {
  it('replaces every form and part of a secret, longest first', () => {
    const url = 'https://hooks.example/hook/abcdefghijklmnopqrstu?key=k3y-value';
    const text = `POST ${url} failed; path /hook/abcdefghijklmnopqrstu; token ${encodeURIComponent('a/b c')}; key k3y-value`;
    assert.equal(redactSecrets(text, [...urlSecretParts(url), 'a/b c']), 'POST ****** failed; path ******; token ******; key ******');
    assert.equal(redactSecrets('ab is short', ['ab']), 'ab is short', 'two characters are too likely to be ordinary text');
  });
});

describe('templates', () => {
  const payload = { ...testPayload({ message: 'hi', requestedChannel: null, channel: 'slack', label: 'Slack' }, context), channel: 'slack' } as NotificationPayload;

  it('reports what does not parse', () => {
    assert.equal(templateProblem('{{title}} ok'), undefined);
    assert.match(templateProblem('{{title')!, /Unclosed tag/);
  });

  it('writes plain text from the payload and leaves the channel its own text without a template', () => {
    assert.deepEqual(channelMessage(payload, undefined), { payload, title: payload.human.title, body: `hi\n\n${payload.human.detail}`, templated: false, link: '/settings' });
    const templated = channelMessage(payload, { title: '<{{kind}}> & {{debug.appVersion}}' });
    assert.equal(templated.title, '<notification_test> & 1.2.3');
    assert.equal(templated.body, `hi\n\n${payload.human.detail}`, 'no body template: the usual body');
    assert.equal(templated.payload.human.title, templated.title, 'the JSON copy says what people read');
  });
});

describe('payloads v2', () => {
  const service = (index: number) => ({ stackId: 'stk_1', stackName: 'demo', serviceId: `svc_${String(index).padStart(2, '0')}`, serviceName: `s${String(index).padStart(2, '0')}` });

  it('cuts the test summary at 512 characters and the raw copy at 1024', () => {
    const long = 'x'.repeat(2000);
    const payload = testPayload({ message: long, requestedChannel: 'webhook', channel: 'webhook', label: 'Webhook' }, context);
    assert.equal(payload.human.summary, `${'x'.repeat(512)}... [truncated]`);
    assert.equal((payload.debug.rawMessage as string).length, 1024);
    assert.equal(testPayload({ message: '   ', requestedChannel: null, channel: 'email', label: 'Email' }, context).human.summary, 'dockrev test');
  });

  it('titles a job by its outcome and links the single service, or the job', () => {
    const job = { id: 'job_1', type: 'update', scope: 'service', status: 'failed', reason: 'ui', createdBy: 'ops', createdAt: context.sentAt };
    const failed = jobPayload({ job, mode: 'apply', services: [service(1)], changedServices: 0, error: 'pull failed' }, { ...context, publicBaseUrl: 'https://d.example/' });
    assert.deepEqual([failed.human.title, failed.human.summary, failed.url], ['Dockrev: update failed', 'The update of demo / s01 failed: pull failed.', 'https://d.example/services/stk_1/svc_01']);
    const rolledBack = jobPayload({ job: { ...job, status: 'rolled_back' }, mode: 'apply', services: [service(1)], changedServices: 0, failureStep: 'healthcheck' }, context);
    assert.equal(rolledBack.human.title, 'Dockrev: update finished (rolled back)');
    assert.match(rolledBack.human.detail, /set a public base URL/);
    const many = jobPayload({ job: { ...job, status: 'success', scope: 'all' }, mode: 'apply', services: Array.from({ length: 12 }, (_, i) => service(12 - i)), changedServices: 12 }, context);
    const links = many.links as { primaryUrl: string; serviceUrls: { serviceId: string }[]; truncated: { serviceUrlsOmitted: number } };
    assert.equal(links.primaryUrl, '/queue/job_1');
    assert.deepEqual([links.serviceUrls.length, links.serviceUrls[0]!.serviceId, links.truncated.serviceUrlsOmitted], [10, 'svc_01', 2]);
    assert.equal(many.human.summary, 'Updated 12 services: 12 services changed.');
  });

  it('lists new versions with their display tags, and counts audit anomalies', () => {
    const versions: NewVersionService[] = [1, 2].map((index) => ({ ...service(index), currentTag: '5.2', currentDisplayTag: '5.2.0', candidateTag: '5.2', candidateDisplayTag: '5.2.1', candidateDigest: 'sha256:x' }));
    const payload = newVersionPayload({ check: { jobId: 'chk_1', status: 'success', scope: 'all', servicesChecked: 7 }, services: versions }, context);
    assert.equal(payload.human.title, 'New versions for 2 services');
    assert.equal(payload.human.summary, 'demo / s01 (5.2.0 -> 5.2.1); demo / s02 (5.2.0 -> 5.2.1).');
    assert.deepEqual(payload.check, { jobId: 'chk_1', status: 'success', scope: 'all', servicesChecked: 7, newVersions: 2 });
    const anomaly = anomalyPayload({ jobId: 'job_a', status: 'success', repos: [{ owner: 'a', repo: 'b', fullName: 'a/b', state: 'conflict' }] }, context);
    assert.deepEqual(anomaly.job, { id: 'job_a', status: 'success', missing: 0, conflict: 1, error: 0, totalAnomalies: 1 });
    assert.equal(anomaly.schema, 'dockrev.notification.ghcr_webhook_anomaly.v2');
  });

  it('never shows latest -> latest', () => {
    assert.deepEqual(displayTags({ tag: 'latest', resolvedTag: '1.4.2' }, { tag: 'latest', resolvedTag: '1.5.0', digest: 'sha256:b' }), { currentDisplayTag: '1.4.2', candidateDisplayTag: '1.5.0' });
    assert.deepEqual(displayTags({ tag: 'latest', digest: `sha256:${'a'.repeat(64)}` }, { tag: 'latest', digest: `sha256:${'b'.repeat(64)}` }), {
      currentDisplayTag: `latest (${'a'.repeat(12)})`,
      candidateDisplayTag: `latest (${'b'.repeat(12)})`,
    });
    assert.equal(announcesNewVersions({ reason: 'ui' }), false);
    assert.equal(announcesNewVersions({ reason: 'ui', source: 'distribution' }), true);
    assert.equal(announcesNewVersions({ reason: 'schedule' }), true);
  });
});

describe('who is notified', () => {
  it('uses the default switches unless a channel has its own', () => {
    const settings = defaults();
    settings.webhook.enabled = true;
    settings.slack = { enabled: true, events: { update: false } };
    settings.discord = { enabled: false, events: { update: true } };
    settings.events.newVersion = false;
    assert.deepEqual(channelsFor(settings, 'update'), ['webhook']);
    assert.deepEqual(channelsFor(settings, 'newVersion'), []);
    settings.slack.events = { newVersion: true };
    assert.deepEqual(channelsFor(settings, 'newVersion'), ['slack']);
  });

  it('skips successes that touched only archived services or stacks (behaviour.md §E.5)', () => {
    const stack = (id: string, archived = false) => ({ id, name: id, archived }) as Stack;
    const svc = (id: string, stackId: string, archived = false) => ({ id, stackId, archived }) as Service;
    const stacks = new Map([['stk_a', stack('stk_a')], ['stk_x', stack('stk_x', true)]]);
    assert.equal(archivedSkip({ scope: 'service', serviceId: 'svc_1' }, [svc('svc_1', 'stk_a', true)], stacks), 'archived service');
    assert.equal(archivedSkip({ scope: 'service', serviceId: 'svc_1' }, [svc('svc_1', 'stk_x')], stacks), 'archived stack');
    assert.equal(archivedSkip({ scope: 'service', serviceId: 'svc_1' }, [svc('svc_1', 'stk_a')], stacks), undefined);
    assert.equal(archivedSkip({ scope: 'stack', stackId: 'stk_x' }, [], stacks), 'archived stack');
    assert.equal(archivedSkip({ scope: 'all' }, [svc('svc_1', 'stk_a', true), svc('svc_2', 'stk_x')], stacks), 'all stacks archived or only archived services touched');
    assert.equal(archivedSkip({ scope: 'all' }, [svc('svc_1', 'stk_a'), svc('svc_2', 'stk_x')], stacks), undefined);
  });
});

describe('channel protocol details', () => {
  it('splits ntfy topic URLs and builds Gotify message URLs under a path prefix', () => {
    assert.deepEqual(splitTopicUrl('https://ntfy.example/alerts'), { root: 'https://ntfy.example/', topic: 'alerts' });
    assert.deepEqual(splitTopicUrl('https://example.com/ntfy/alerts?x=1'), { root: 'https://example.com/ntfy/', topic: 'alerts' });
    assert.equal(splitTopicUrl('https://ntfy.example/'), undefined);
    assert.equal(gotifyMessageUrl('https://example.com/gotify/'), 'https://example.com/gotify/message');
  });

  it('reads recipients and sender from the SMTP URL and refuses what is not one', () => {
    assert.deepEqual(parseSmtpUrl('smtps://u:p@smtp.example.com:465?to=a@x.example,b@y.example&from=Dockrev%20%3Cd@x.example%3E'), {
      transportUrl: 'smtps://u:p@smtp.example.com:465',
      to: ['a@x.example', 'b@y.example'],
      from: 'Dockrev <d@x.example>',
    });
    assert.equal((parseSmtpUrl('smtp://smtp.example.com') as { from: string }).from, 'Dockrev <dockrev@smtp.example.com>');
    assert.match((parseSmtpUrl('https://smtp.example.com') as { problem: string }).problem, /smtp:\/\/ or smtps:\/\//);
    assert.match((parseSmtpUrl('smtp://smtp.example.com?to=nobody') as { problem: string }).problem, /to= parameter/);
  });

  it('gives Telegram HTML within 4096 characters, else plain text only', () => {
    const payload = { ...testPayload({ message: 'a < b', requestedChannel: null, channel: 'telegram', label: 'Telegram' }, context), channel: 'telegram' } as NotificationPayload;
    const short = telegramText(channelMessage(payload, undefined));
    assert.match(short.html!, /^<b>Dockrev test notification \(Telegram\)<\/b>\n\na &lt; b\n\n/);
    const long = { ...payload, human: { ...payload.human, summary: '&'.repeat(1500) } };
    const text = telegramText(channelMessage(long, undefined));
    assert.equal(text.html, undefined, 'escaped it would exceed the limit');
    assert.ok(text.plain.length <= 4096);
  });
});
