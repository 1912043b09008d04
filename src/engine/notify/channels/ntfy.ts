// ntfy: publishing as JSON to the server's root URL (`{topic, title, message, tags, priority,
// click}`), so titles need no header encoding. The topic URL is a secret: on a public server the
// topic name is the password. An access token goes in `Authorization: Bearer`.
import type { Channel } from './channel.js';
import { checkHttpUrl, invalidField, MASK, mergeOptions, mergeSecret, optionsView, present, urlFieldProblem, urlSecretParts } from './fields.js';
import { postJson } from './http.js';
import { absoluteLink, clip, toneOf } from './text.js';

interface NtfyMessage {
  topic: string;
  title: string;
  message: string;
  tags?: string[];
  priority?: number;
  click?: string;
}

/** `https://ntfy.example/alerts` → the root `https://ntfy.example/` and the topic `alerts`. */
export function splitTopicUrl(topicUrl: string): { root: string; topic: string } | undefined {
  const url = new URL(topicUrl);
  const segments = url.pathname.split('/').filter(Boolean);
  const topic = segments.pop();
  if (!topic) return undefined;
  url.pathname = `/${segments.map((segment) => `${segment}/`).join('')}`;
  url.search = '';
  url.hash = '';
  return { root: url.toString(), topic: decodeURIComponent(topic) };
}

export const ntfyChannel: Channel<'ntfy', NtfyMessage> = {
  key: 'ntfy',
  label: 'ntfy',
  timeoutMs: 8000,

  view(stored) {
    return {
      ...optionsView(stored),
      ...(stored.topicUrl ? { topicUrl: MASK } : {}),
      ...(stored.token ? { token: MASK } : {}),
      ...(stored.priority !== undefined ? { priority: stored.priority } : {}),
      ...(stored.tags && stored.tags.length > 0 ? { tags: [...stored.tags] } : {}),
    };
  },

  merge(input, stored) {
    const topicUrl = checkHttpUrl(mergeSecret(input.topicUrl, stored.topicUrl), 'ntfy.topicUrl');
    if (topicUrl && !splitTopicUrl(topicUrl)) throw invalidField('ntfy.topicUrl', 'must end with the topic, e.g. https://ntfy.sh/my-topic', { reason: 'url_invalid' });
    const token = mergeSecret(input.token, stored.token);
    const priority = input.priority === undefined ? stored.priority : (input.priority ?? undefined);
    const tags = input.tags === undefined ? stored.tags : (input.tags?.map((tag) => tag.trim()).filter(Boolean) ?? undefined);
    return {
      ...mergeOptions('ntfy', input, stored),
      ...(topicUrl ? { topicUrl } : {}),
      ...(token ? { token } : {}),
      ...(priority !== undefined ? { priority } : {}),
      ...(tags && tags.length > 0 ? { tags } : {}),
    };
  },

  secrets: (stored) => [...urlSecretParts(stored.topicUrl), ...present(stored.token)],

  problem(stored) {
    const problem = urlFieldProblem('ntfy.topicUrl', stored.topicUrl);
    if (problem) return problem;
    return splitTopicUrl(stored.topicUrl!) ? undefined : 'ntfy.topicUrl must end with the topic';
  },

  render(message, stored) {
    const { topic } = splitTopicUrl(stored.topicUrl!)!;
    const link = absoluteLink(message.link);
    const tags = stored.tags && stored.tags.length > 0 ? stored.tags : toneOf(message.payload) === 'bad' ? ['warning'] : undefined;
    return {
      topic,
      title: clip(message.title, 250),
      message: clip(message.body || message.title, 4000),
      ...(tags ? { tags } : {}),
      ...(stored.priority !== undefined ? { priority: stored.priority } : {}),
      ...(link ? { click: link } : {}),
    };
  },

  async send(body, stored, context) {
    const { root } = splitTopicUrl(stored.topicUrl!)!;
    await postJson('ntfy', root, body, context.signal, stored.token ? { Authorization: `Bearer ${stored.token}` } : {});
  },
};
