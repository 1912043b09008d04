// All eight notification services at once, each holding the same planted secret in its
// credentials or URL, and the `PUT /api/notifications` body that points Dockrev at them.
import webpush from 'web-push';
import type { HttpDouble } from './http-double.js';
import { startDiscordServer, type DiscordMessage } from './discord-server.js';
import { startGotifyServer, type GotifyMessage } from './gotify-server.js';
import { startNtfyServer, type NtfyMessage } from './ntfy-server.js';
import { startPushService, type PushDouble } from './push-service.js';
import { startSlackServer, type SlackMessage } from './slack-server.js';
import { startSmtpServer, type SmtpDouble } from './smtp-server.js';
import { startTelegramBotApi, type TelegramDouble } from './telegram-bot-api.js';
import { startWebhookReceiver, type WebhookDelivery } from './webhook-receiver.js';

export const CHANNEL_KEYS = ['webhook', 'telegram', 'email', 'webPush', 'ntfy', 'gotify', 'discord', 'slack'] as const;
export type DoubleChannel = (typeof CHANNEL_KEYS)[number];

export interface NotificationDoubles {
  secret: string;
  webhook: HttpDouble<WebhookDelivery>;
  telegram: TelegramDouble;
  smtp: SmtpDouble;
  push: PushDouble;
  ntfy: HttpDouble<NtfyMessage>;
  gotify: HttpDouble<GotifyMessage>;
  discord: HttpDouble<DiscordMessage>;
  slack: HttpDouble<SlackMessage>;
  vapid: { publicKey: string; privateKey: string };
  chatId: string;
  /** Env for the server: the Bot API base URL. */
  env: Record<string, string>;
  /** A PUT /api/notifications body enabling every channel (or those given). */
  settings(enabled?: readonly DoubleChannel[]): Record<string, unknown>;
  /** How many messages each double accepted so far. */
  counts(): Record<DoubleChannel, number>;
  /** The message bodies the doubles received (not the URLs and headers that carry credentials). */
  bodiesReceived(): string;
  close(): Promise<void>;
}

/** `secret` must be URL-safe letters and digits: it is planted in paths, tokens and a password. */
export async function startNotificationDoubles(secret: string): Promise<NotificationDoubles> {
  const chatId = '-10055667788';
  const telegramToken = `123456:${secret}`;
  const [webhook, telegram, smtp, ntfy, gotify, discord, slack] = await Promise.all([
    startWebhookReceiver(),
    startTelegramBotApi({ token: telegramToken, chatId }),
    startSmtpServer({ user: 'dockrev', password: `pw-${secret}` }),
    startNtfyServer({ token: `tk_${secret}` }),
    startGotifyServer({ appToken: `A${secret}` }),
    startDiscordServer({ webhookId: '1234567890', token: `d-${secret}` }),
    startSlackServer({ path: `/services/T0001/B0001/${secret}` }),
  ]);
  const vapid = webpush.generateVAPIDKeys();
  const push = await startPushService({ applicationServerKey: vapid.publicKey });
  const http = [webhook, telegram, ntfy, gotify, discord, slack, push];
  return {
    secret,
    webhook,
    telegram,
    smtp,
    push,
    ntfy,
    gotify,
    discord,
    slack,
    vapid,
    chatId,
    env: { DOCKREV_TELEGRAM_API_BASE_URL: telegram.url },
    settings(enabled = CHANNEL_KEYS) {
      const on = (key: DoubleChannel) => enabled.includes(key);
      return {
        webhook: { enabled: on('webhook'), url: `${webhook.url}/hooks/${secret}` },
        telegram: { enabled: on('telegram'), botToken: telegramToken, chatId },
        email: { enabled: on('email'), smtpUrl: `smtp://dockrev:pw-${secret}@127.0.0.1:${smtp.port}?to=ops@example.com,dev@example.com&from=Dockrev%20%3Cdockrev@example.com%3E` },
        webPush: { enabled: on('webPush'), vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, vapidSubject: 'mailto:ops@example.com' },
        ntfy: { enabled: on('ntfy'), topicUrl: `${ntfy.url}/dockrev-${secret.slice(0, 20)}`, token: `tk_${secret}`, priority: 4, tags: ['whale'] },
        gotify: { enabled: on('gotify'), serverUrl: gotify.url, appToken: `A${secret}`, priority: 6 },
        discord: { enabled: on('discord'), webhookUrl: `${discord.url}/api/webhooks/1234567890/d-${secret}` },
        slack: { enabled: on('slack'), webhookUrl: `${slack.url}/services/T0001/B0001/${secret}` },
      };
    },
    counts() {
      return {
        webhook: webhook.accepted.length,
        telegram: telegram.accepted.length,
        email: smtp.messages.length,
        webPush: push.accepted.length,
        ntfy: ntfy.accepted.length,
        gotify: gotify.accepted.length,
        discord: discord.accepted.length,
        slack: slack.accepted.length,
      };
    },
    bodiesReceived() {
      const requests = [webhook, telegram, ntfy, gotify, discord, slack].flatMap((double) => double.requests.map((request) => request.text));
      const pushes = push.accepted.map((message) => JSON.stringify(message.payload));
      const mails = smtp.messages.map((mail) => `${mail.subject}\n${mail.text}\n${String(mail.html)}`);
      return [...requests, ...pushes, ...mails].join('\n');
    },
    async close() {
      await Promise.all([...http.map((double) => double.close()), smtp.close()]);
    },
  };
}
