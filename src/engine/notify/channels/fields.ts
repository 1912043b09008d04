// Settings fields shared by the channels: secrets that a mask keeps, URLs and templates that must
// be valid before they are stored, and the enabled/events/template options every channel has.
import { DomainError } from '../../../errors.js';
import type { ChannelOptions, NotificationEventSwitches, NotificationTemplate } from '../../../store/index.js';
import { templateProblem } from '../template.js';
import type { Channel, ChannelKey, ChannelView, StoredChannel } from './channel.js';

/** What a stored secret reads as in responses. */
export const MASK = '******';
/** Masks clients may send back to mean "keep the stored secret". */
const KEEP_MARKERS = new Set([MASK, '••••••••••••••••']);

/** Omitted, null, blank or a mask keeps the stored secret; anything else replaces it. */
export function mergeSecret(incoming: string | null | undefined, stored: string | undefined): string | undefined {
  if (incoming === undefined || incoming === null) return stored;
  const value = incoming.trim();
  if (value === '' || KEEP_MARKERS.has(value)) return stored;
  return value;
}

/** Omitted, null or a mask keeps the value; blank clears it; anything else is stored trimmed. */
export function mergeKeptText(incoming: string | null | undefined, stored: string | undefined): string | undefined {
  if (incoming === undefined || incoming === null || KEEP_MARKERS.has(incoming.trim())) return stored;
  const value = incoming.trim();
  return value === '' ? undefined : value;
}

/** Plain fields are stored as sent; omitted, null or blank clears them. */
export function plainText(value: string | null | undefined): string | undefined {
  const text = value?.trim();
  return text ? text : undefined;
}

export function invalidField(field: string, message: string, extra: Record<string, unknown> = {}): DomainError {
  return new DomainError('invalid_input', `${field}: ${message}`, { field, ...extra });
}

/** An absolute http(s) URL, or undefined; the message never repeats the value (it may be a secret). */
export function httpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (!url.hostname) return 'must name a host';
  return undefined;
}

/** Throws naming the field when a value to be stored is not an http(s) URL. */
export function checkHttpUrl(value: string | undefined, field: string): string | undefined {
  const problem = value === undefined ? undefined : httpUrlProblem(value);
  if (problem) throw invalidField(field, problem, { reason: 'url_invalid' });
  return value;
}

/** `<field> missing`, `<field> must …`, or undefined for a usable URL (the value is never repeated). */
export function urlFieldProblem(field: string, value: string | undefined): string | undefined {
  if (!value) return `${field} missing`;
  const problem = httpUrlProblem(value);
  return problem ? `${field} ${problem}` : undefined;
}

/**
 * The parts of a secret URL a service might echo on their own: the URL, its path and query, the
 * last path segment and any long one (tokens), query values and credentials.
 */
export function urlSecretParts(value: string | undefined): string[] {
  if (!value) return [];
  const parts = [value];
  try {
    const url = new URL(value);
    const segments = url.pathname.split('/').filter(Boolean).map((segment) => decodeURIComponent(segment));
    if (url.pathname !== '/') parts.push(`${url.pathname}${url.search}`, url.pathname);
    const last = segments.at(-1);
    if (last) parts.push(last);
    parts.push(...segments.filter((segment) => segment.length >= 16));
    for (const [, query] of url.searchParams) parts.push(query);
    if (url.password) parts.push(url.password, decodeURIComponent(url.password));
  } catch {
    // not a URL: the value itself is the secret
  }
  return [...new Set(parts.filter(Boolean))];
}

/** A stored settings' secret, listed only when set. */
export function present(...values: (string | undefined)[]): string[] {
  return values.filter((value): value is string => Boolean(value));
}

type OptionsInput = {
  enabled: boolean;
  events?: Partial<Record<keyof NotificationEventSwitches, boolean>> | null;
  template?: { title?: string | null; body?: string | null } | null;
};

/** `enabled`, the channel's own event switches and its templates, merged and checked. */
export function mergeOptions(key: ChannelKey, input: OptionsInput, stored: ChannelOptions): ChannelOptions {
  const merged: ChannelOptions = { enabled: input.enabled };
  const events = input.events === undefined ? stored.events : input.events === null ? undefined : switchesOf(input.events);
  if (events && Object.keys(events).length > 0) merged.events = events;
  const template = input.template === undefined ? stored.template : input.template === null ? undefined : templateOf(key, input.template);
  if (template && (template.title || template.body)) merged.template = template;
  return merged;
}

function switchesOf(input: Partial<Record<keyof NotificationEventSwitches, boolean>>): Partial<NotificationEventSwitches> {
  const switches: Partial<NotificationEventSwitches> = {};
  for (const name of ['update', 'newVersion', 'ghcrWebhookAnomaly'] as const) {
    if (typeof input[name] === 'boolean') switches[name] = input[name];
  }
  return switches;
}

function templateOf(key: ChannelKey, input: { title?: string | null; body?: string | null }): NotificationTemplate {
  const template: NotificationTemplate = {};
  for (const part of ['title', 'body'] as const) {
    const text = input[part];
    if (text === undefined || text === null || text.trim() === '') continue;
    const problem = templateProblem(text);
    if (problem) throw invalidField(`${key}.template.${part}`, `template does not parse: ${problem}`, { reason: 'template_invalid' });
    template[part] = text;
  }
  return template;
}

/** The options block of a settings view: the channel's own switches and templates when set. */
export function optionsView(stored: ChannelOptions): Pick<ChannelOptions, 'enabled' | 'events' | 'template'> {
  const view: Pick<ChannelOptions, 'enabled' | 'events' | 'template'> = { enabled: stored.enabled };
  if (stored.events && Object.keys(stored.events).length > 0) view.events = { ...stored.events };
  if (stored.template && (stored.template.title || stored.template.body)) view.template = { ...stored.template };
  return view;
}

/**
 * The settings of a channel that is one secret URL (webhook, Discord, Slack): masked in views,
 * kept when a mask comes back, an http(s) URL or refused naming the field.
 */
export function secretUrlSettings<K extends 'webhook' | 'discord' | 'slack'>(key: K, field: string): Pick<Channel<K, unknown>, 'view' | 'merge' | 'secrets' | 'problem'> {
  const path = `${key}.${field}`;
  const valueOf = (stored: StoredChannel<K>) => (stored as unknown as Record<string, string | undefined>)[field];
  return {
    view: (stored) => ({ ...optionsView(stored), ...(valueOf(stored) ? { [field]: MASK } : {}) }) as ChannelView<K>,
    merge(input, stored) {
      const value = checkHttpUrl(mergeSecret((input as unknown as Record<string, string | null | undefined>)[field], valueOf(stored)), path);
      return { ...mergeOptions(key, input, stored), ...(value ? { [field]: value } : {}) } as StoredChannel<K>;
    },
    secrets: (stored) => urlSecretParts(valueOf(stored)),
    problem: (stored) => urlFieldProblem(path, valueOf(stored)),
  };
}
