// Notification settings as a user changes them: secrets are never sent back in the clear, a client
// that sends a mask (or nothing) keeps the stored secret, and a value that could never work (a bad
// URL, SMTP URL or template) is refused naming its field before anything is stored.
import type { components } from '../../generated/dockrev.js';
import type { NotificationSettings, Store } from '../../store/index.js';
import type { AnyChannel, ChannelKey } from './channels/channel.js';
import { CHANNELS, channelNamed } from './channels/index.js';

export type NotificationSettingsInput = components['schemas']['NotificationSettingsUpdate'];
export type NotificationSettingsView = components['schemas']['NotificationSettings'];

export { MASK, mergeSecret } from './channels/fields.js';

/** The stored settings after a `PUT /api/notifications` body; omitted new channels stay as stored. */
export function mergeNotificationSettings(stored: NotificationSettings, body: NotificationSettingsInput): NotificationSettings {
  for (const name of Object.keys(body)) if (name !== 'events') channelNamed(name);
  const merged = structuredClone(stored);
  for (const channel of CHANNELS) {
    const input = body[channel.key];
    if (input === undefined) continue;
    setChannel(merged, channel, channel.merge(input as never, stored[channel.key] as never));
  }
  if (body.events) {
    merged.events = {
      update: body.events.update ?? true,
      newVersion: body.events.newVersion ?? true,
      ghcrWebhookAnomaly: body.events.ghcrWebhookAnomaly ?? true,
    };
  }
  return merged;
}

function setChannel(settings: NotificationSettings, channel: AnyChannel, value: NotificationSettings[ChannelKey]): void {
  (settings as unknown as Record<ChannelKey, unknown>)[channel.key] = value;
}

export async function putNotificationSettings(store: Store, body: NotificationSettingsInput): Promise<void> {
  const stored = await store.notifications.getSettings();
  await store.notifications.putSettings(mergeNotificationSettings(stored, body));
}

/** The settings as `GET /api/notifications` shows them: secrets masked, the bot token never. */
export function notificationSettingsView(settings: NotificationSettings): NotificationSettingsView {
  const view: Record<string, unknown> = { events: { ...settings.events } };
  for (const channel of CHANNELS) view[channel.key] = channel.view(settings[channel.key] as never);
  return view as unknown as NotificationSettingsView;
}

/** Every secret of the stored settings, for scrubbing error texts. */
export function settingsSecrets(settings: NotificationSettings): string[] {
  return CHANNELS.flatMap((channel) => channel.secrets(settings[channel.key] as never));
}
