// The channels in send order (behaviour.md §F.1: webhook, telegram, email, webPush; then the four
// added here). This is the one list: settings, sends and the deploy check iterate it.
import { DomainError } from '../../../errors.js';
import type { AnyChannel, ChannelKey } from './channel.js';
import { discordChannel } from './discord.js';
import { emailChannel } from './email.js';
import { gotifyChannel } from './gotify.js';
import { ntfyChannel } from './ntfy.js';
import { slackChannel } from './slack.js';
import { telegramChannel } from './telegram.js';
import { webPushChannel } from './web-push.js';
import { webhookChannel } from './webhook.js';

export const CHANNELS: readonly AnyChannel[] = [
  webhookChannel,
  telegramChannel,
  emailChannel,
  webPushChannel,
  ntfyChannel,
  gotifyChannel,
  discordChannel,
  slackChannel,
];

export const CHANNEL_KEYS: readonly ChannelKey[] = CHANNELS.map((channel) => channel.key);

export function isChannelKey(name: string): name is ChannelKey {
  return (CHANNEL_KEYS as readonly string[]).includes(name);
}

/** The channel of that name; an unknown name is refused with the list of known ones. */
export function channelNamed(name: string): AnyChannel {
  const channel = CHANNELS.find((candidate) => candidate.key === name);
  if (!channel) {
    throw new DomainError('invalid_input', `unknown notification channel '${name}'; known channels: ${CHANNEL_KEYS.join(', ')}`, {
      reason: 'unknown_channel',
      channel: name,
      knownChannels: [...CHANNEL_KEYS],
    });
  }
  return channel;
}

export type { AnyChannel, ChannelKey, ChannelMessage, NotificationKind, NotificationPayload, SendContext } from './channel.js';
