// Slack: an incoming webhook with Block Kit blocks (header ≤ 150, section ≤ 3000 characters) and a
// plain `text` fallback for notifications. Slack answers 200 `ok`, errors as text (`invalid_blocks`).
import type { Channel } from './channel.js';
import { secretUrlSettings } from './fields.js';
import { postJson } from './http.js';
import { absoluteLink, clip } from './text.js';

type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: boolean } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** Slack reads `&`, `<` and `>` as markup (`<!channel>` would ping everyone). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const slackChannel: Channel<'slack', SlackMessage> = {
  key: 'slack',
  label: 'Slack',
  timeoutMs: 8000,

  ...secretUrlSettings('slack', 'webhookUrl'),

  render(message) {
    const link = absoluteLink(message.link);
    const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: clip(message.title, 150), emoji: true } }];
    if (message.body) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(slackEscape(message.body), 3000) } });
    const context = link ? `<${link}|Open in Dockrev>` : `Dockrev ${String(message.payload.debug.appVersion ?? '')}`.trim();
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(context, 3000) }] });
    return { text: clip(slackEscape([message.title, message.body].filter(Boolean).join(' — ')), 3000), blocks };
  },

  async send(body, stored, context) {
    await postJson('slack', stored.webhookUrl!, body, context.signal);
  },
};
