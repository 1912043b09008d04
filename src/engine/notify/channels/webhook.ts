// Webhook: an HTTP POST of the v2 payload as JSON (behaviour.md §F.4). The URL is a secret: it
// often carries a token.
import type { Channel, NotificationPayload } from './channel.js';
import { secretUrlSettings } from './fields.js';
import { postJson } from './http.js';

export const webhookChannel: Channel<'webhook', NotificationPayload> = {
  key: 'webhook',
  label: 'Webhook',
  timeoutMs: 8000,

  ...secretUrlSettings('webhook', 'url'),

  render: (message) => message.payload,

  async send(payload, stored, context) {
    await postJson('webhook', stored.url!, payload, context.signal, { 'User-Agent': `dockrev/${context.appVersion}` });
  },
};
