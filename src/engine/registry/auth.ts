// The registry's side of authentication: WWW-Authenticate challenges and a token cache.

export interface Challenge {
  /** Lowercase scheme: "bearer", "basic", … */
  scheme: string;
  /** Lowercase parameter names: realm, service, scope, error. */
  params: Record<string, string>;
}

/** Parses `Bearer realm="https://auth.example/token",service="registry.example",scope="…"`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  const match = header ? /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header) : null;
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const param = /([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let found = param.exec(match[2]!); found; found = param.exec(match[2]!)) {
    params[found[1]!.toLowerCase()] = found[2] !== undefined ? found[2].replace(/\\(.)/g, '$1') : found[3]!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export interface IssuedToken {
  token: string;
  expiresInSeconds: number;
}

/** Tokens live until shortly before they expire, so a request never carries one about to lapse. */
const EXPIRY_MARGIN_MS = 10_000;

interface TokenEntry {
  promise: Promise<string>;
  /** Set once issued; lets a caller whose request was refused drop exactly the token it used. */
  token?: string;
  expiresAt: number;
}

/**
 * Bearer tokens by key (registry and scope). Concurrent callers for the same key share one token
 * request; a failed request is forgotten so the next caller tries again.
 */
export class TokenCache {
  private readonly entries = new Map<string, TokenEntry>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string, issue: () => Promise<IssuedToken>): Promise<string> {
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.promise;

    this.dropExpired();
    const entry: TokenEntry = { promise: Promise.resolve(''), expiresAt: Number.POSITIVE_INFINITY };
    entry.promise = issue().then(
      ({ token, expiresInSeconds }) => {
        const lifetimeMs = expiresInSeconds * 1000;
        // Short-lived tokens keep at least half their life rather than none.
        entry.expiresAt = this.now() + Math.max(lifetimeMs - EXPIRY_MARGIN_MS, lifetimeMs / 2);
        entry.token = token;
        return token;
      },
      (error: unknown) => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, entry);
    return entry.promise;
  }

  /** Keeps the cache as small as the set of repositories checked recently. */
  private dropExpired(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }

  /** Forgets `token` if it is still the cached one (the registry refused it). */
  invalidate(key: string, token: string): void {
    if (this.entries.get(key)?.token === token) this.entries.delete(key);
  }
}
