import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import proxyaddr from 'proxy-addr';
import type { AuthConfig } from '../config.js';

export type AuthorizationMode = 'user_or_group' | 'user_only' | 'group_only' | 'none';
export type MatchedBy = 'user' | 'group' | 'anonymous_dev';

export interface Identity {
  user?: string;
  groups: string[];
}

export interface Principal {
  /** Stored as `createdBy` on jobs: the user, `group:<name>`, `anonymous`, `webhook` or `github`. */
  name: string;
  /** How a forward-auth principal was admitted; absent for public and webhook routes. */
  matchedBy?: MatchedBy;
}

export interface AuthRequiredDetails {
  reason: 'authz_config_missing' | 'identity_missing' | 'authz_no_match';
  message: string;
  forwardHeaderName: string;
  groupHeaderName: string;
  authorizationMode: AuthorizationMode;
  allowedUserMasked?: string;
  allowedGroupMasked?: string;
  currentUser?: string;
  currentGroups: string[];
}

export type AuthDecision = { ok: true; principal: Principal } | { ok: false; details: AuthRequiredDetails };

/** Hides most of a value while keeping it recognisable to the person who configured it. */
export function maskValue(value: string): string {
  if (value.length <= 2) return '**';
  if (value.length <= 4) return `${value[0]}**${value[value.length - 1]}`;
  return `${value.slice(0, 2)}***${value.slice(-2)}`;
}

export function authorizationMode(config: AuthConfig): AuthorizationMode {
  if (config.allowedUser && config.allowedGroup) return 'user_or_group';
  if (config.allowedUser) return 'user_only';
  if (config.allowedGroup) return 'group_only';
  return 'none';
}

// One compiled matcher per configured list (proxy-addr folds IPv4-mapped IPv6 peers into IPv4).
const trustMatchers = new WeakMap<readonly string[], (address: string, hop: number) => boolean>();

export function isTrustedPeer(config: Pick<AuthConfig, 'trustedProxies'>, peerAddress: string | undefined): boolean {
  if (!config.trustedProxies) return true;
  if (!peerAddress) return false;
  let trusts = trustMatchers.get(config.trustedProxies);
  if (!trusts) {
    trusts = proxyaddr.compile([...config.trustedProxies]);
    trustMatchers.set(config.trustedProxies, trusts);
  }
  return trusts(peerAddress, 0);
}

type HeaderBag = Record<string, string | string[] | undefined>;

/** The first value of a header or query parameter that arrived once or repeated, when it is text. */
export function firstText(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function headerValue(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Identity headers count only when they come from a trusted proxy (or no proxy list is set). */
export function readIdentity(config: AuthConfig, headers: HeaderBag, peerAddress: string | undefined): Identity {
  if (!isTrustedPeer(config, peerAddress)) return { groups: [] };
  const user = headerValue(headers, config.forwardHeaderName)?.trim() || undefined;
  const groups = (headerValue(headers, config.groupHeaderName) ?? '')
    .split(',')
    .map((group) => group.trim())
    .filter(Boolean);
  return { user, groups };
}

export function authorize(config: AuthConfig, identity: Identity): AuthDecision {
  const { allowedUser, allowedGroup } = config;
  if (allowedUser && identity.user === allowedUser) {
    return { ok: true, principal: { name: identity.user, matchedBy: 'user' } };
  }
  if (allowedGroup && identity.groups.includes(allowedGroup)) {
    return { ok: true, principal: { name: identity.user ?? `group:${allowedGroup}`, matchedBy: 'group' } };
  }
  const allowlistConfigured = Boolean(allowedUser || allowedGroup);
  // The development bypass only opens an instance that has no allowlist at all.
  if (!allowlistConfigured && config.allowAnonymousInDev) {
    return { ok: true, principal: { name: identity.user ?? 'anonymous', matchedBy: 'anonymous_dev' } };
  }
  const [reason, message] = !allowlistConfigured
    ? (['authz_config_missing', 'authorization target is not configured'] as const)
    : !identity.user && identity.groups.length === 0
      ? (['identity_missing', 'forward auth identity is missing'] as const)
      : (['authz_no_match', 'forward auth identity is not allowed'] as const);
  const details: AuthRequiredDetails = {
    reason,
    message,
    forwardHeaderName: config.forwardHeaderName,
    groupHeaderName: config.groupHeaderName,
    authorizationMode: authorizationMode(config),
    currentGroups: identity.groups.map(maskValue),
  };
  if (allowedUser) details.allowedUserMasked = maskValue(allowedUser);
  if (allowedGroup) details.allowedGroupMasked = maskValue(allowedGroup);
  if (identity.user) details.currentUser = identity.user;
  return { ok: false, details };
}

/** Constant-time string comparison that does not leak the expected length either. */
export function secretsEqual(provided: string, expected: string): boolean {
  const a = createHash('sha256').update(provided, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Verifies GitHub's `X-Hub-Signature-256: sha256=<hex>` over the raw body. */
export function githubSignatureValid(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const hex = header.slice('sha256='.length).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}
