// What users type to name GitHub owners and repositories, and the callback URL Dockrev registers
// on them. Pure functions: no GitHub call, no store.

/** An owner (user or organization) or one repository. */
export type GithubTarget = { kind: 'owner'; owner: string } | { kind: 'repo'; owner: string; repo: string };

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** GitHub logins: letters, digits and single inner hyphens, at most 39 characters. */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** Repository names: letters, digits, `.`, `_`, `-`, at most 100 characters, not `.` or `..`. */
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
const GITHUB_HOSTS = new Set(['github.com', 'www.github.com']);

function validRepoName(name: string): boolean {
  return REPO.test(name) && name !== '.' && name !== '..';
}

function withoutGitSuffix(name: string): string {
  return name.toLowerCase().endsWith('.git') ? name.slice(0, -4) : name;
}

/** `owner` or `owner/repo` path segments (the first ones of a GitHub URL path). */
function fromSegments(segments: string[]): Parsed<GithubTarget> {
  const [first, second] = segments;
  if (first === 'orgs' && second !== undefined) {
    return OWNER.test(second) ? { ok: true, value: { kind: 'owner', owner: second } } : { ok: false, error: 'unrecognized target input' };
  }
  if (first === undefined || !OWNER.test(first)) return { ok: false, error: 'unrecognized target input' };
  if (second === undefined) return { ok: true, value: { kind: 'owner', owner: first } };
  const repo = withoutGitSuffix(second);
  return validRepoName(repo) ? { ok: true, value: { kind: 'repo', owner: first, repo } } : { ok: false, error: 'unrecognized target input' };
}

function fromUrl(text: string): Parsed<GithubTarget> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, error: 'unrecognized target input' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, error: 'unrecognized target input' };
  if (!GITHUB_HOSTS.has(url.hostname)) return { ok: false, error: `unsupported host: ${url.hostname}` };
  return fromSegments(url.pathname.split('/').filter(Boolean));
}

/**
 * Parses a target input (behaviour.md §C.12): `owner`, `owner/repo`, `owner/repo.git`,
 * `https://github.com/owner[/repo…]`, `https://github.com/orgs/owner…`, `github.com/owner/repo`,
 * `git@github.com:owner/repo(.git)`. Another host is `unsupported host: <h>`.
 */
export function parseTargetInput(input: string): Parsed<GithubTarget> {
  const text = input.trim();
  if (text === '') return { ok: false, error: 'input is empty' };
  const ssh = /^[\w.-]+@([^:/\s]+):(.+)$/.exec(text);
  if (ssh) {
    const host = ssh[1]!.toLowerCase();
    if (!GITHUB_HOSTS.has(host)) return { ok: false, error: `unsupported host: ${host}` };
    const parsed = fromSegments(ssh[2]!.split('/').filter(Boolean));
    return parsed.ok && parsed.value.kind === 'repo' ? parsed : { ok: false, error: 'unrecognized target input' };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return fromUrl(text);
  const segments = text.split('/');
  // Owners cannot contain a dot, so a first segment with one is a host written without a scheme.
  if (segments[0]!.includes('.')) return fromUrl(`https://${text}`);
  if (segments.length > 2 || segments.some((segment) => segment === '')) return { ok: false, error: 'unrecognized target input' };
  return fromSegments(segments);
}

/** `owner/repo` exactly (trimmed); undefined for anything else. */
export function parseFullName(text: string): { owner: string; repo: string } | undefined {
  const parts = text.trim().split('/');
  if (parts.length !== 2) return undefined;
  const [owner, repo] = parts as [string, string];
  return OWNER.test(owner) && validRepoName(repo) ? { owner, repo } : undefined;
}

/** Why a callback URL cannot be registered as a webhook; undefined when it can. */
export function callbackUrlProblem(callbackUrl: string): 'callbackUrl is required' | 'invalid callbackUrl' | undefined {
  if (callbackUrl.trim() === '') return 'callbackUrl is required';
  try {
    const url = new URL(callbackUrl);
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'invalid callbackUrl';
  } catch {
    return 'invalid callbackUrl';
  }
}

/** Scheme, host (lowercase, default port dropped), path without trailing slashes, and the query as written. */
function comparable(text: string): string | undefined {
  try {
    const url = new URL(text.trim());
    const path = url.pathname.replace(/\/+$/, '');
    return `${url.protocol}//${url.username}:${url.password}@${url.host}${path}${url.search}`;
  } catch {
    return undefined;
  }
}

/**
 * Whether a hook's URL is Dockrev's callback: scheme and host compare case-insensitively, a
 * default port equals none, a trailing `/` does not matter, the query must be identical.
 */
export function callbackUrlsMatch(hookUrl: string | undefined, callbackUrl: string): boolean {
  if (!hookUrl) return false;
  const a = comparable(hookUrl);
  return a !== undefined && a === comparable(callbackUrl);
}
