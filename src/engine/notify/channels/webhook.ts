// Webhook: an HTTP POST of the v2 payload as JSON (behaviour.md §F.4). The URL is a secret: it
// often carries a token.
import type { Channel, NotificationPayload } from './channel.js';
import { checkHttpUrl, MASK, mergeOptions, mergeSecret, optionsView, present, urlFieldProblem, urlSecretParts } from './fields.js';
import { postJson } from './http.js';

export const webhookChannel: Channel<'webhook', NotificationPayload> = {
  key: 'webhook',
  label: 'Webhook',
  timeoutMs: 8000,

  view(stored) {
    return { ...optionsView(stored), ...(stored.url ? { url: MASK } : {}) };
  },

  merge(input, stored) {
    const url = checkHttpUrl(mergeSecret(input.url, stored.url), 'webhook.url');
    return { ...mergeOptions('webhook', input, stored), ...(url ? { url } : {}) };
  },

  secrets: (stored) => urlSecretParts(stored.url),

  problem: (stored) => urlFieldProblem('webhook.url', stored.url),

  render: (message) => message.payload,

  async send(payload, stored, context) {
    await postJson('webhook', stored.url!, payload, context.signal, { 'User-Agent': `dockrev/${context.appVersion}` });
  },
};
