// The eight notification channels as the form shows them: each field, whether it is a secret
// (masked by the server, kept unless retyped) and how a draft value becomes the request body.
// The field keys are the contract's, so the server's 400 (`details.field` = `ntfy.topicUrl`)
// lands next to the right input.
import type { Schemas } from '../api/queries';

export type ChannelKey = Schemas['NotificationChannelKey'];
export type EventKey = keyof Schemas['NotificationEventSwitches'];
export type View = Schemas['NotificationSettings'];
export type Update = Schemas['NotificationSettingsUpdate'];

type FieldKind =
  /** Masked by the server; empty keeps the stored value. */
  | 'secret'
  /** Shown as stored; empty clears it (sent as "", which every plain field reads as "clear"). */
  | 'text'
  /** An integer in a range; empty clears it. */
  | 'integer'
  /** A comma-separated list; empty clears it. */
  | 'list';

export interface FieldSpec {
  key: string;
  label: string;
  kind: FieldKind;
  placeholder?: string;
  hint?: string;
  /** Needed to send anything: enabling the channel without it is refused before saving. */
  required?: boolean;
  /** What a typed value must look like (checked before sending). */
  check?: (value: string) => string | undefined;
  range?: [number, number];
}

export interface ChannelSpec {
  key: ChannelKey;
  label: string;
  toggle: string;
  fields: FieldSpec[];
}

const httpUrl = (value: string) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'Starts with http:// or https://';
  } catch {
    return 'Enter an absolute http:// or https:// URL';
  }
};

/** In the server's send order (§F.1). */
export const CHANNELS: ChannelSpec[] = [
  {
    key: 'webhook',
    label: 'Webhook',
    toggle: 'Post the v2 JSON payload to a webhook',
    fields: [{ key: 'url', label: 'Webhook URL', kind: 'secret', placeholder: 'https://hooks.example.com/dockrev', required: true, check: httpUrl }],
  },
  {
    key: 'telegram',
    label: 'Telegram',
    toggle: 'Send Telegram messages',
    fields: [
      { key: 'botToken', label: 'Bot token', kind: 'secret', placeholder: '123456:ABC…', required: true, check: (value) => (/^\d+:[\w-]+$/.test(value) ? undefined : 'Looks like <digits>:<token>, as BotFather gives it') },
      { key: 'chatId', label: 'Chat id', kind: 'text', required: true, hint: 'Empty clears it.' },
    ],
  },
  {
    key: 'email',
    label: 'Email',
    toggle: 'Send email',
    fields: [
      {
        key: 'smtpUrl',
        label: 'SMTP URL',
        kind: 'secret',
        placeholder: 'smtps://user:password@mail.example.com:465?to=ops@example.com',
        required: true,
        hint: 'Recipients in ?to=, the sender in &from=.',
        check: (value) => (/^smtps?:\/\//.test(value) ? undefined : 'Starts with smtp:// or smtps://'),
      },
    ],
  },
  {
    key: 'webPush',
    label: 'Web Push',
    toggle: 'Send browser push notifications',
    fields: [
      { key: 'vapidPublicKey', label: 'VAPID public key', kind: 'text', required: true, hint: 'Browsers subscribe with this key; empty clears it.' },
      { key: 'vapidPrivateKey', label: 'VAPID private key', kind: 'secret', required: true },
      {
        key: 'vapidSubject',
        label: 'VAPID subject',
        kind: 'text',
        placeholder: 'mailto:ops@example.com',
        hint: 'mailto:dockrev@localhost when empty.',
        check: (value) => (/^(mailto:|https?:\/\/)/.test(value) ? undefined : 'Starts with mailto: or https://'),
      },
    ],
  },
  {
    key: 'ntfy',
    label: 'ntfy',
    toggle: 'Publish to an ntfy topic',
    fields: [
      { key: 'topicUrl', label: 'Topic URL', kind: 'secret', placeholder: 'https://ntfy.sh/my-dockrev-topic', required: true, check: httpUrl },
      { key: 'token', label: 'Access token', kind: 'secret', hint: 'Only for protected topics.' },
      { key: 'priority', label: 'Priority (1–5)', kind: 'integer', range: [1, 5], hint: 'The server default (3) when empty.' },
      { key: 'tags', label: 'Tags', kind: 'list', placeholder: 'whale, rocket', hint: 'Comma-separated; ntfy shows emoji for known ones.' },
    ],
  },
  {
    key: 'gotify',
    label: 'Gotify',
    toggle: 'Send Gotify messages',
    fields: [
      { key: 'serverUrl', label: 'Server URL', kind: 'text', placeholder: 'https://gotify.example.com', required: true, check: httpUrl, hint: 'Empty clears it.' },
      { key: 'appToken', label: 'Application token', kind: 'secret', required: true },
      { key: 'priority', label: 'Priority (0–10)', kind: 'integer', range: [0, 10], hint: "The application's default when empty." },
    ],
  },
  {
    key: 'discord',
    label: 'Discord',
    toggle: 'Post to a Discord channel',
    fields: [{ key: 'webhookUrl', label: 'Discord webhook URL', kind: 'secret', placeholder: 'https://discord.com/api/webhooks/…', required: true, check: httpUrl }],
  },
  {
    key: 'slack',
    label: 'Slack',
    toggle: 'Post to a Slack channel',
    fields: [{ key: 'webhookUrl', label: 'Slack webhook URL', kind: 'secret', placeholder: 'https://hooks.slack.com/services/…', required: true, check: httpUrl }],
  },
];

export const EVENTS: { key: EventKey; label: string }[] = [
  { key: 'update', label: 'Update finished (success, failure, rollback)' },
  { key: 'newVersion', label: 'New version found by a scheduled or webhook check' },
  { key: 'ghcrWebhookAnomaly', label: 'GitHub package webhook anomaly' },
];

export type Override = 'default' | 'on' | 'off';

export interface ChannelDraft {
  enabled: boolean;
  values: Record<string, string>;
  events: Record<EventKey, Override>;
  title: string;
  body: string;
}

export interface Draft {
  channels: Record<ChannelKey, ChannelDraft>;
  events: View['events'];
}

type ChannelView = View[ChannelKey] & Record<string, unknown>;
const channelView = (view: View, key: ChannelKey) => view[key] as ChannelView;

/** Whether the server holds a value for a secret field (it only ever says so). */
export function isStored(view: View, channel: ChannelKey, field: string): boolean {
  if (channel === 'telegram' && field === 'botToken') return view.telegram.botTokenConfigured;
  return Boolean(channelView(view, channel)[field]);
}

export function draftOf(view: View): Draft {
  const channels = {} as Record<ChannelKey, ChannelDraft>;
  for (const spec of CHANNELS) {
    const stored = channelView(view, spec.key);
    const values: Record<string, string> = {};
    for (const field of spec.fields) {
      const value = stored[field.key];
      values[field.key] = field.kind === 'secret' || value === undefined ? '' : Array.isArray(value) ? value.join(', ') : String(value);
    }
    const own = stored.events ?? {};
    const events = Object.fromEntries(EVENTS.map(({ key }) => [key, own[key] === undefined ? 'default' : own[key] ? 'on' : 'off'])) as Record<EventKey, Override>;
    channels[spec.key] = { enabled: stored.enabled, values, events, title: stored.template?.title ?? '', body: stored.template?.body ?? '' };
  }
  return { channels, events: { ...view.events } };
}

/** A draft after saving: typed secrets are stored now, their inputs go back to "leave empty to keep". */
export function withSecretsCleared(draft: Draft): Draft {
  const channels = { ...draft.channels };
  for (const spec of CHANNELS) {
    const values = { ...channels[spec.key].values };
    for (const field of spec.fields) if (field.kind === 'secret') values[field.key] = '';
    channels[spec.key] = { ...channels[spec.key], values };
  }
  return { ...draft, channels };
}

/** Client-side checks, keyed like the server's fields (`ntfy.priority`). */
export function validate(draft: Draft, view: View): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const spec of CHANNELS) {
    const channel = draft.channels[spec.key];
    for (const field of spec.fields) {
      const path = `${spec.key}.${field.key}`;
      const value = channel.values[field.key]!.trim();
      if (value && field.check) {
        const problem = field.check(value);
        if (problem) errors[path] = problem;
      }
      if (value && field.range) {
        const number = Number(value);
        if (!Number.isInteger(number) || number < field.range[0] || number > field.range[1]) errors[path] = `A whole number from ${field.range[0]} to ${field.range[1]}`;
      }
      const kept = field.kind === 'secret' && isStored(view, spec.key, field.key);
      if (channel.enabled && field.required && !value && !kept && !errors[path]) errors[path] = `Enter the ${field.label.toLowerCase()} to enable ${spec.label}`;
    }
  }
  return errors;
}

function fieldValue(field: FieldSpec, text: string): unknown {
  const value = text.trim();
  switch (field.kind) {
    case 'secret':
      return value || undefined;
    case 'text':
      return value;
    case 'integer':
      return value ? Number(value) : null;
    case 'list': {
      const items = value.split(',').map((item) => item.trim()).filter(Boolean);
      return items.length ? items : null;
    }
  }
}

export function bodyOf(draft: Draft): Update {
  const body: Record<string, unknown> = { events: draft.events };
  for (const spec of CHANNELS) {
    const channel = draft.channels[spec.key];
    const out: Record<string, unknown> = { enabled: channel.enabled };
    for (const field of spec.fields) out[field.key] = fieldValue(field, channel.values[field.key]!);
    const own = Object.fromEntries(EVENTS.filter(({ key }) => channel.events[key] !== 'default').map(({ key }) => [key, channel.events[key] === 'on']));
    out.events = Object.keys(own).length > 0 ? own : null;
    const title = channel.title.trim();
    const text = channel.body.trim();
    out.template = title || text ? { title: title || null, body: text || null } : null;
    body[spec.key] = out;
  }
  return body as unknown as Update;
}
