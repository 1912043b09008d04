import type { components } from '../generated/dockrev.js';
import type { HandlerMap } from '../http/handler-types.js';
import type { NotificationSettings } from '../store/index.js';
import { notImplemented } from './not-implemented.js';

type NotificationHandlers = Pick<HandlerMap, 'getNotificationSettings' | 'putNotificationSettings' | 'sendTestNotification'>;

const MASK = '******';
/** Masks clients may send back to mean "keep the stored secret". */
const KEEP_MARKERS = new Set([MASK, '••••••••••••••••']);

/** Omitted, null, blank or a mask keeps the stored secret; anything else replaces it. */
export function mergeSecret(incoming: string | null | undefined, stored: string | undefined): string | undefined {
  if (incoming === undefined || incoming === null) return stored;
  const value = incoming.trim();
  if (value === '' || KEEP_MARKERS.has(value)) return stored;
  return value;
}

/** Omitted, null or a mask keeps the chat id; blank clears it; anything else is stored trimmed. */
export function mergeChatId(incoming: string | null | undefined, stored: string | undefined): string | undefined {
  if (incoming === undefined || incoming === null || KEEP_MARKERS.has(incoming.trim())) return stored;
  const value = incoming.trim();
  return value === '' ? undefined : value;
}

function optionalText(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}

export function notificationSettingsView(settings: NotificationSettings): components['schemas']['NotificationSettings'] {
  const view: components['schemas']['NotificationSettings'] = {
    email: { enabled: settings.email.enabled },
    webhook: { enabled: settings.webhook.enabled },
    telegram: { enabled: settings.telegram.enabled, botTokenConfigured: Boolean(settings.telegram.botToken) },
    webPush: { enabled: settings.webPush.enabled },
    events: settings.events,
  };
  if (settings.email.smtpUrl) view.email.smtpUrl = MASK;
  if (settings.webhook.url) view.webhook.url = MASK;
  if (settings.telegram.chatId) view.telegram.chatId = settings.telegram.chatId;
  if (settings.webPush.vapidPublicKey) view.webPush.vapidPublicKey = settings.webPush.vapidPublicKey;
  if (settings.webPush.vapidPrivateKey) view.webPush.vapidPrivateKey = MASK;
  if (settings.webPush.vapidSubject) view.webPush.vapidSubject = settings.webPush.vapidSubject;
  return view;
}

export const notificationsHandlers: NotificationHandlers = {
  getNotificationSettings: async ({ deps }) => ({
    status: 200,
    body: notificationSettingsView(await deps.store.notifications.getSettings()),
  }),

  putNotificationSettings: async ({ body, deps }) => {
    const stored = await deps.store.notifications.getSettings();
    const events = body.events
      ? {
          update: body.events.update ?? true,
          newVersion: body.events.newVersion ?? true,
          ghcrWebhookAnomaly: body.events.ghcrWebhookAnomaly ?? true,
        }
      : stored.events;
    await deps.store.notifications.putSettings({
      email: { enabled: body.email.enabled, smtpUrl: mergeSecret(body.email.smtpUrl, stored.email.smtpUrl) },
      webhook: { enabled: body.webhook.enabled, url: mergeSecret(body.webhook.url, stored.webhook.url) },
      telegram: {
        enabled: body.telegram.enabled,
        botToken: mergeSecret(body.telegram.botToken, stored.telegram.botToken),
        chatId: mergeChatId(body.telegram.chatId, stored.telegram.chatId),
      },
      webPush: {
        enabled: body.webPush.enabled,
        vapidPublicKey: optionalText(body.webPush.vapidPublicKey),
        vapidPrivateKey: mergeSecret(body.webPush.vapidPrivateKey, stored.webPush.vapidPrivateKey),
        vapidSubject: optionalText(body.webPush.vapidSubject),
      },
      events,
    });
    return { status: 200, body: { ok: true } };
  },

  sendTestNotification: notImplemented('sendTestNotification'),
};
