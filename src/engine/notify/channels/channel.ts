// What every notification channel is: its settings (view with secrets masked, merge of a PUT,
// what a send needs), and how it renders a message and sends it. One file per channel implements
// this; nothing else knows a channel's fields or protocol.
import type { components } from '../../../generated/dockrev.js';
import type { NotificationChannelKey, NotificationSettings, WebPushSubscription } from '../../../store/index.js';

export type ChannelKey = NotificationChannelKey;
export type NotificationKind = components['schemas']['NotificationKind'];

/** A channel's stored settings (secrets in clear). */
export type StoredChannel<K extends ChannelKey> = NotificationSettings[K];
/** A channel's settings as `GET /api/notifications` shows them. */
export type ChannelView<K extends ChannelKey> = components['schemas']['NotificationSettings'][K];
/** A channel's object in a `PUT /api/notifications` body. */
export type ChannelInput<K extends ChannelKey> = NonNullable<components['schemas']['NotificationSettingsUpdate'][K]>;

/** The v2 payload (behaviour.md §F.3) before it is addressed to a channel. */
export interface UnaddressedPayload {
  schema: string;
  kind: NotificationKind;
  sentAt: string;
  url?: string;
  human: { title: string; summary: string; detail: string };
  debug: Record<string, unknown>;
  /** Kind-specific blocks: `job`, `check`, `links`. */
  [block: string]: unknown;
}

/** The v2 payload as one channel sends it. */
export interface NotificationPayload extends UnaddressedPayload {
  channel: ChannelKey;
}

/** A payload ready for one channel: the JSON copy, and the human text after the channel's template. */
export interface ChannelMessage {
  payload: NotificationPayload;
  title: string;
  /** Summary and detail, or the template's body. */
  body: string;
  /** A template wrote the text: channels then leave out their debug blocks. */
  templated: boolean;
  /** Where the notification points (absolute when a public base URL is set). */
  link?: string;
}

/** What a send may use besides its settings. */
export interface SendContext {
  /** Aborts the send when the channel's time is up. */
  signal: AbortSignal;
  timeoutMs: number;
  appVersion: string;
  telegramApiBaseUrl: string;
  webPushSubscriptions: {
    list(): Promise<WebPushSubscription[]>;
    /** A subscription the push service says is gone. */
    remove(endpoint: string): Promise<void>;
  };
}

export interface Channel<K extends ChannelKey, Rendered> {
  readonly key: K;
  /** Human name, e.g. `Web Push`. */
  readonly label: string;
  /** How long one send may take. */
  readonly timeoutMs: number;
  view(stored: StoredChannel<K>): ChannelView<K>;
  /** The stored settings after a PUT; throws `invalid_input` naming the field for a bad value. */
  merge(input: ChannelInput<K>, stored: StoredChannel<K>): StoredChannel<K>;
  /** Values that must never appear in logs, errors or responses. */
  secrets(stored: StoredChannel<K>): string[];
  /** What keeps a send from being tried, as the send's error (e.g. `webhook.url missing`). */
  problem(stored: StoredChannel<K>): string | undefined;
  render(message: ChannelMessage, stored: StoredChannel<K>): Rendered;
  /** Throws an Error whose message says why the service refused or could not be reached. */
  send(rendered: Rendered, stored: StoredChannel<K>, context: SendContext): Promise<void>;
}

/** Any one of the channels, whatever it renders to. */
export type AnyChannel = { [K in ChannelKey]: Channel<K, any> }[ChannelKey];
