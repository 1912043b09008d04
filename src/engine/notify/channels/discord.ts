// Discord: "Execute Webhook" with one embed (title ≤ 256, description ≤ 4096 characters); mentions
// are switched off so a service name can never ping anyone. Discord answers 204 without `?wait`.
import type { Channel } from './channel.js';
import { secretUrlSettings } from './fields.js';
import { postJson } from './http.js';
import { absoluteLink, clip, toneOf } from './text.js';

interface DiscordMessage {
  username: string;
  allowed_mentions: { parse: string[] };
  embeds: { title: string; description: string; url?: string; color: number; timestamp: string; footer: { text: string } }[];
}

const COLORS = { good: 0x57f287, bad: 0xed4245, info: 0x5865f2 } as const;

export const discordChannel: Channel<'discord', DiscordMessage> = {
  key: 'discord',
  label: 'Discord',
  timeoutMs: 8000,

  ...secretUrlSettings('discord', 'webhookUrl'),

  render(message) {
    const link = absoluteLink(message.link);
    return {
      username: 'Dockrev',
      allowed_mentions: { parse: [] },
      embeds: [
        {
          title: clip(message.title, 256),
          description: clip(message.body || message.title, 4096),
          ...(link ? { url: link } : {}),
          color: COLORS[toneOf(message.payload)],
          timestamp: message.payload.sentAt,
          footer: { text: clip(`Dockrev ${String(message.payload.debug.appVersion ?? '')}`.trim(), 2048) },
        },
      ],
    };
  },

  async send(body, stored, context) {
    await postJson('discord', stored.webhookUrl!, body, context.signal);
  },
};
