// The four registry families that announce pushes, and how each one authenticates to Dockrev:
// distribution and Harbor can send a header, Docker Hub and Quay only call a URL, so their token
// is part of it.
import type { RegistryWebhookSource } from '../../store/index.js';

export type { RegistryWebhookSource };

export type TokenPlacement = 'authorization_header' | 'query';

export const SOURCE_TOKEN_PLACEMENT: Record<RegistryWebhookSource, TokenPlacement> = {
  distribution: 'authorization_header',
  harbor: 'authorization_header',
  dockerhub: 'query',
  quay: 'query',
};

/** What a stored token reads as wherever it is shown. */
export const TOKEN_MASK = '******';

/** The receiver's URL under a public base URL (which ends with `/`); a query source's token is in it. */
export function callbackUrl(publicBaseUrl: string | null, source: RegistryWebhookSource, token: string = TOKEN_MASK): string | null {
  if (!publicBaseUrl) return null;
  const url = `${publicBaseUrl}api/webhooks/registry/${source}`;
  return SOURCE_TOKEN_PLACEMENT[source] === 'query' ? `${url}?token=${encodeURIComponent(token)}` : url;
}

/** Replaces every occurrence of the secrets in a text (error messages of upstream APIs, URLs). */
export function redact(text: string, secrets: readonly (string | null | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join(TOKEN_MASK).split(encodeURIComponent(secret)).join(TOKEN_MASK);
  }
  return out;
}
