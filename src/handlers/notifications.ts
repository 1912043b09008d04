import type { components } from '../generated/dockrev.js';
import type { HandlerMap } from '../http/handler-types.js';
import type { NotificationSettings } from '../store/index.js';
import { notImplemented } from './not-implemented.js';
import { MASK, putNotificationSettings } from '../engine/notify/settings.js';

type NotificationHandlers = Pick<HandlerMap, 'getNotificationSettings' | 'putNotificationSettings' | 'sendTestNotification'>;

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
    await putNotificationSettings(deps.store, body);
    return { status: 200, body: { ok: true } };
  },

  sendTestNotification: notImplemented('sendTestNotification'),
};
