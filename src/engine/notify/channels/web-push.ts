// Web Push (RFC 8030) to every stored browser subscription: VAPID identification (RFC 8292) and
// aes128gcm encryption (RFC 8291), TTL 60 s, urgency normal — built by `web-push`, sent here so
// each request shares the send's deadline. A push service answering 404 or 410 means the
// subscription is gone: it is deleted.
import webpush from 'web-push';
import { mapConcurrently } from '../../../concurrency.js';
import { errorText } from '../../../errors.js';
import type { Channel } from './channel.js';
import { invalidField, MASK, mergeOptions, mergeSecret, optionsView, plainText, present } from './fields.js';
import { excerpt, isSuccess, request } from './http.js';

export const WEB_PUSH_TTL_SECONDS = 60;
const DEFAULT_SUBJECT = 'mailto:dockrev@localhost';
const GONE = new Set([404, 410]);

/** What the service worker shows (`title`, `body`, `url`) plus the v2 payload. */
type PushPayload = Record<string, unknown> & { title: string; body: string };

/** `mailto:` or an http(s) URL, as VAPID asks for a way to contact the sender. */
export function vapidSubjectProblem(subject: string): string | undefined {
  if (/^mailto:[^@\s]+@[^@\s]+$/.test(subject)) return undefined;
  try {
    const url = new URL(subject);
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.hostname) return undefined;
  } catch {
    // reported below
  }
  return 'must be a mailto: address or an https:// URL';
}

/** Decoded length of a base64url key; -1 when it is not base64url. */
function base64UrlBytes(text: string): number {
  return /^[A-Za-z0-9_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64url').length : -1;
}

function naturalBody(message: Parameters<Channel<'webPush', PushPayload>['render']>[0]): string {
  if (message.templated || message.payload.kind !== 'notification_test') return message.body;
  const requested = message.payload.debug.requestedChannel;
  return [
    message.payload.human.summary,
    message.payload.human.detail,
    `requestedChannel: ${typeof requested === 'string' ? requested : 'all'}`,
    `appVersion: ${String(message.payload.debug.appVersion ?? '')}`,
  ].join('\n');
}

export const webPushChannel: Channel<'webPush', PushPayload> = {
  key: 'webPush',
  label: 'Web Push',
  timeoutMs: 10_000,

  view(stored) {
    return {
      ...optionsView(stored),
      ...(stored.vapidPublicKey ? { vapidPublicKey: stored.vapidPublicKey } : {}),
      ...(stored.vapidPrivateKey ? { vapidPrivateKey: MASK } : {}),
      ...(stored.vapidSubject ? { vapidSubject: stored.vapidSubject } : {}),
    };
  },

  merge(input, stored) {
    const vapidSubject = plainText(input.vapidSubject);
    const problem = vapidSubject ? vapidSubjectProblem(vapidSubject) : undefined;
    if (problem) throw invalidField('webPush.vapidSubject', problem, { reason: 'vapid_subject_invalid' });
    const vapidPublicKey = plainText(input.vapidPublicKey);
    const vapidPrivateKey = mergeSecret(input.vapidPrivateKey, stored.vapidPrivateKey);
    return {
      ...mergeOptions('webPush', input, stored),
      ...(vapidPublicKey ? { vapidPublicKey } : {}),
      ...(vapidPrivateKey ? { vapidPrivateKey } : {}),
      ...(vapidSubject ? { vapidSubject } : {}),
    };
  },

  secrets: (stored) => present(stored.vapidPrivateKey),

  problem(stored) {
    if (!stored.vapidPrivateKey) return 'webPush.vapidPrivateKey missing';
    if (!stored.vapidPublicKey) return 'webPush.vapidPublicKey missing';
    if (base64UrlBytes(stored.vapidPublicKey) !== 65) return 'webPush.vapidPublicKey is not a P-256 public key (65 bytes, base64url)';
    if (base64UrlBytes(stored.vapidPrivateKey) !== 32) return 'webPush.vapidPrivateKey is not a P-256 private key (32 bytes, base64url)';
    const subject = stored.vapidSubject ? vapidSubjectProblem(stored.vapidSubject) : undefined;
    return subject ? `webPush.vapidSubject ${subject}` : undefined;
  },

  render(message) {
    const body = naturalBody(message);
    return { ...message.payload, title: message.title, body, ...(message.link ? { url: message.link } : {}) };
  },

  async send(payload, stored, context) {
    const subscriptions = await context.webPushSubscriptions.list();
    if (subscriptions.length === 0) throw new Error('no web push subscriptions');
    const vapidDetails = { subject: stored.vapidSubject ?? DEFAULT_SUBJECT, publicKey: stored.vapidPublicKey!, privateKey: stored.vapidPrivateKey! };
    const text = JSON.stringify(payload);
    const failures = await mapConcurrently(subscriptions, 8, async (subscription): Promise<string | undefined> => {
      try {
        const details = webpush.generateRequestDetails(subscription, text, { vapidDetails, TTL: WEB_PUSH_TTL_SECONDS, urgency: 'normal', contentEncoding: 'aes128gcm' });
        const headers = Object.fromEntries(Object.entries(details.headers).map(([name, value]) => [name, String(value)]));
        const answer = await request(details.endpoint, { method: details.method, headers, body: details.body ? new Uint8Array(details.body) : undefined, signal: context.signal });
        if (isSuccess(answer)) return undefined;
        if (GONE.has(answer.status)) await context.webPushSubscriptions.remove(subscription.endpoint);
        return `web push http ${answer.status}: ${excerpt(answer.text)}`;
      } catch (error) {
        return errorText(error);
      }
    });
    const failed = failures.filter((failure): failure is string => failure !== undefined);
    if (failed.length === subscriptions.length) throw new Error(`web push: no successful sends (${failed[0]})`);
  },
};
