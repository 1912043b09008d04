import type { components } from '../generated/dockrev.js';
import type { HandlerMap } from '../http/handler-types.js';
import type { NotificationDelivery } from '../store/index.js';
import { notificationSettingsView } from '../engine/notify/settings.js';

type NotificationHandlers = Pick<HandlerMap, 'getNotificationSettings' | 'putNotificationSettings' | 'sendTestNotification' | 'listNotificationDeliveries'>;
type DeliveryView = components['schemas']['NotificationDelivery'];

/** A delivery row as the log shows it; the payload stays inside (the title says what it was). */
function deliveryView(delivery: NotificationDelivery): DeliveryView {
  const view: DeliveryView = {
    id: delivery.id,
    // Rows are written with the contract's channel and kind names only.
    channel: delivery.channel as DeliveryView['channel'],
    kind: delivery.kind as DeliveryView['kind'],
    status: delivery.status,
    attempts: delivery.attempts,
    maxAttempts: delivery.maxAttempts,
    title: delivery.title,
    createdAt: delivery.createdAt,
    updatedAt: delivery.updatedAt,
  };
  if (delivery.jobId) view.jobId = delivery.jobId;
  if (delivery.lastError) view.lastError = delivery.lastError;
  if (delivery.lastAttemptAt) view.lastAttemptAt = delivery.lastAttemptAt;
  if (delivery.nextAttemptAt) view.nextAttemptAt = delivery.nextAttemptAt;
  if (delivery.sentAt) view.sentAt = delivery.sentAt;
  return view;
}

export const notificationsHandlers: NotificationHandlers = {
  getNotificationSettings: async ({ deps }) => ({
    status: 200,
    body: notificationSettingsView(await deps.store.notifications.getSettings()),
  }),

  putNotificationSettings: async ({ body, deps }) => {
    await deps.engine.putNotificationSettings(body);
    return { status: 200, body: { ok: true } };
  },

  sendTestNotification: async ({ body, deps }) => ({
    status: 200,
    body: { ok: true, results: await deps.engine.sendTestNotification(body ?? {}) },
  }),

  listNotificationDeliveries: async ({ query, deps }) => {
    const page = query.page ?? 1;
    const perPage = query.perPage ?? 50;
    const { total, deliveries } = await deps.store.notificationDeliveries.list({ ...query, page, perPage });
    return { status: 200, body: { page, perPage, total, deliveries: deliveries.map(deliveryView) } };
  },
};
