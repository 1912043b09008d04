// Registry webhook settings as a user changes them: each section merged over what is stored,
// secrets kept unless replaced, a token generated the first time a source is enabled (and shown
// that once), hosts and URLs validated naming their field.
import { randomBytes } from 'node:crypto';
import { DomainError } from '../../errors.js';
import type { components } from '../../generated/dockrev.js';
import { REGISTRY_WEBHOOK_SOURCES, type RegistryWebhookSettings, type Store } from '../../store/index.js';
import { mergeSecret } from '../notify/settings.js';
import { normalizeRegistryHost, parseImageRef } from '../registry/reference.js';
import { cronProblem } from '../schedule/cron.js';
import { callbackUrl, type RegistryWebhookSource } from './sources.js';

export type RegistryWebhookSettingsInput = components['schemas']['RegistryWebhookSettingsUpdate'];
export type RevealedTokens = Partial<Record<RegistryWebhookSource, { token: string; callbackUrl: string | null }>>;

const MIN_TOKEN_LENGTH = 16;

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

function invalid(message: string, field: string, details: Record<string, unknown> = {}): never {
  throw new DomainError('invalid_input', message, { field, ...details });
}

/** `host` or `host:port` as image references name a registry, normalised; undefined when it is not one. */
export function registryHostOf(text: string): string | undefined {
  const host = text.trim();
  if (!host.includes('.') && !host.includes(':') && host.toLowerCase() !== 'localhost') return undefined;
  try {
    const { registry } = parseImageRef(`${host.toLowerCase()}/probe`);
    return registry === normalizeRegistryHost(host) ? registry : undefined;
  } catch {
    return undefined;
  }
}

/** The Quay instance's base URL: absolute http(s), without a trailing `/` or `/api/v1`. */
function quayApiBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return invalid('quay.apiBaseUrl must be an absolute http(s) URL', 'quay.apiBaseUrl');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    invalid('quay.apiBaseUrl must be an http(s) URL without query or fragment', 'quay.apiBaseUrl');
  }
  return url.toString().replace(/\/+$/, '').replace(/\/api\/v1$/, '');
}

function hostAliases(input: NonNullable<RegistryWebhookSettingsInput['hostAliases']>): RegistryWebhookSettings['hostAliases'] {
  const seen = new Set<string>();
  return input.map(({ from, to }, index) => {
    const alias = { from: registryHostOf(from), to: registryHostOf(to) };
    if (!alias.from) invalid(`hostAliases[${index}].from is not a registry host`, `hostAliases[${index}].from`);
    if (!alias.to) invalid(`hostAliases[${index}].to is not a registry host`, `hostAliases[${index}].to`);
    if (alias.from === alias.to) invalid(`hostAliases[${index}] maps a host to itself`, `hostAliases[${index}]`);
    if (seen.has(alias.from)) invalid(`hostAliases names ${alias.from} twice`, `hostAliases[${index}].from`);
    seen.add(alias.from);
    return { from: alias.from, to: alias.to };
  });
}

/** Stores a `PUT /api/registry-webhooks/settings` body; returns the tokens it generated or rotated. */
export async function putRegistryWebhookSettings(store: Store, body: RegistryWebhookSettingsInput): Promise<RevealedTokens> {
  const stored = await store.registryWebhooks.getSettings();
  const { publicBaseUrl } = (await store.settings.getSystem()).instance;
  const next: RegistryWebhookSettings = structuredClone(stored);
  const revealed: RevealedTokens = {};

  for (const source of REGISTRY_WEBHOOK_SOURCES) {
    const input = body.sources?.[source];
    if (!input) continue;
    let token = mergeSecret(input.token, stored.sources[source].token ?? undefined) ?? null;
    if (token !== stored.sources[source].token && token !== null && token.length < MIN_TOKEN_LENGTH) {
      invalid(`sources.${source}.token must be at least ${MIN_TOKEN_LENGTH} characters`, `sources.${source}.token`);
    }
    if (input.rotateToken || (input.enabled && token === null)) {
      token = generateToken();
      revealed[source] = { token, callbackUrl: callbackUrl(publicBaseUrl, source, token) };
    }
    next.sources[source] = { enabled: input.enabled, token };
  }

  if (body.hostAliases) next.hostAliases = hostAliases(body.hostAliases);

  if (body.quay) {
    const { apiBaseUrl, oauthToken, registryHost, audit } = body.quay;
    if (apiBaseUrl !== undefined) next.quay.apiBaseUrl = apiBaseUrl === null || apiBaseUrl.trim() === '' ? null : quayApiBaseUrl(apiBaseUrl.trim());
    next.quay.oauthToken = mergeSecret(oauthToken, stored.quay.oauthToken ?? undefined) ?? null;
    if (registryHost !== undefined) {
      const host = registryHost === null || registryHost.trim() === '' ? null : registryHostOf(registryHost);
      if (host === undefined) invalid('quay.registryHost is not a registry host', 'quay.registryHost');
      next.quay.registryHost = host;
    }
    if (audit) {
      const cron = audit.cron.trim();
      const problem = audit.enabled ? cronProblem(cron) : undefined;
      if (problem) throw new DomainError('invalid_input', 'cron expression is invalid', { reason: 'cron_invalid', field: 'quay.audit.cron', error: problem });
      next.quay.audit = { enabled: audit.enabled, cron };
    }
  }

  await store.registryWebhooks.putSettings(next);
  return revealed;
}
