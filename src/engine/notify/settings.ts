// Notification settings as a user changes them: secrets are never sent back in the clear, and a
// client that sends a mask (or nothing) keeps the stored secret.
import type { components } from '../../generated/dockrev.js';
import type { Store } from '../../store/index.js';

export type NotificationSettingsInput = components['schemas']['NotificationSettingsUpdate'];

/** What a stored secret reads as in responses. */
export const MASK = '******';
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

/** Stores a `PUT /api/notifications` body, merging each secret with the stored one. */
export async function putNotificationSettings(store: Store, body: NotificationSettingsInput): Promise<void> {
  const stored = await store.notifications.getSettings();
  const events = body.events
    ? {
        update: body.events.update ?? true,
        newVersion: body.events.newVersion ?? true,
        ghcrWebhookAnomaly: body.events.ghcrWebhookAnomaly ?? true,
      }
    : stored.events;
  await store.notifications.putSettings({
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
}
