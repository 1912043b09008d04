// Gotify: `POST <server>/message` with the application token in `X-Gotify-Key`, a JSON body of
// `title`, `message`, `priority` and a click URL in the `client::notification` extras.
import type { Channel } from './channel.js';
import { checkHttpUrl, MASK, mergeOptions, mergeSecret, optionsView, plainText, present, urlFieldProblem } from './fields.js';
import { postJson } from './http.js';
import { absoluteLink } from './text.js';

interface GotifyMessage {
  title: string;
  message: string;
  priority?: number;
  extras: Record<string, unknown>;
}

/** `<server>/message`, keeping a path prefix (Gotify behind a reverse proxy under /gotify/). */
export function gotifyMessageUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/message`;
  url.search = '';
  return url.toString();
}

export const gotifyChannel: Channel<'gotify', GotifyMessage> = {
  key: 'gotify',
  label: 'Gotify',
  timeoutMs: 8000,

  view(stored) {
    return {
      ...optionsView(stored),
      ...(stored.serverUrl ? { serverUrl: stored.serverUrl } : {}),
      ...(stored.appToken ? { appToken: MASK } : {}),
      ...(stored.priority !== undefined ? { priority: stored.priority } : {}),
    };
  },

  merge(input, stored) {
    const serverUrl = checkHttpUrl(input.serverUrl === undefined ? stored.serverUrl : plainText(input.serverUrl), 'gotify.serverUrl');
    const appToken = mergeSecret(input.appToken, stored.appToken);
    const priority = input.priority === undefined ? stored.priority : (input.priority ?? undefined);
    return {
      ...mergeOptions('gotify', input, stored),
      ...(serverUrl ? { serverUrl } : {}),
      ...(appToken ? { appToken } : {}),
      ...(priority !== undefined ? { priority } : {}),
    };
  },

  secrets: (stored) => present(stored.appToken),

  problem(stored) {
    const problem = urlFieldProblem('gotify.serverUrl', stored.serverUrl);
    if (problem) return problem;
    if (!stored.appToken) return 'gotify.appToken missing';
    return undefined;
  },

  render(message, stored) {
    const link = absoluteLink(message.link);
    return {
      title: message.title,
      message: message.body || message.title,
      ...(stored.priority !== undefined ? { priority: stored.priority } : {}),
      extras: {
        'client::display': { contentType: 'text/plain' },
        ...(link ? { 'client::notification': { click: { url: link } } } : {}),
      },
    };
  },

  async send(body, stored, context) {
    await postJson('gotify', gotifyMessageUrl(stored.serverUrl!), body, context.signal, { 'X-Gotify-Key': stored.appToken! });
  },
};
