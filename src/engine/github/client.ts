// GitHub's REST API, as far as Dockrev uses it: repositories of an owner, one repository, and the
// repository webhooks. Octokit with GitHub's own throttling (rate-limit headers, `Retry-After`),
// retry (transient failures) and pagination (`Link: rel="next"`) plugins. Every attempt has a
// timeout; rate-limit waits are bounded, so a caller is never held for longer than it allows.
// Failures come out as GithubCallError with a kind and never carry the request (whose body can
// hold the webhook secret) or the token.
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import type { Logger } from 'pino';
import { errorText } from '../../errors.js';

const API_VERSION = '2022-11-28';
const PER_PAGE = 100;

const GithubOctokit = Octokit.plugin(throttling, retry, paginateRest);

export type GithubFailureKind =
  /** The PAT is unknown, expired or lacks a scope (401, or a 403 that is not a rate limit). */
  | 'unauthorized'
  | 'not_found'
  /** GitHub's rate limit is exhausted and the wait for its reset is longer than the caller allows. */
  | 'rate_limited'
  | 'timeout'
  /** GitHub refused the request as invalid (422), e.g. a hook that already exists. */
  | 'rejected'
  /** Anything else: 5xx, connection refused, an unreadable answer. */
  | 'unavailable';

export class GithubCallError extends Error {
  constructor(
    readonly kind: GithubFailureKind,
    message: string,
    /** GitHub's HTTP status, when it answered. */
    readonly status?: number,
    /** When a retry may succeed (rate limits). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'GithubCallError';
  }

  /** Worth trying again later without changing anything. */
  get transient(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'timeout' || this.kind === 'unavailable';
  }
}

export interface GithubRepository {
  owner: string;
  name: string;
  fullName: string;
  visibility: 'public' | 'private';
  /** `pushed_at`, else `updated_at`. */
  lastActivityAt: string | null;
}

export interface GithubHook {
  id: number;
  active: boolean;
  events: string[];
  url?: string;
}

/** The webhook Dockrev keeps on a repository. */
export interface HookConfig {
  url: string;
  secret: string;
}

export interface GithubClientOptions {
  baseUrl: string;
  token: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Retries of a transient failure (0 for calls a user waits on). */
  retries: number;
  /** Retry n waits n² of these (default 1 s, as the retry plugin). */
  retryBackoffUnitMs?: number;
  /** The longest wait for a rate limit to reset before failing with `rate_limited`. */
  maxRateLimitWaitMs: number;
  userAgent: string;
  logger: Logger;
}

interface RequestErrorLike {
  status?: number;
  message?: string;
  cause?: unknown;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

/** Seconds until GitHub accepts requests again, from `Retry-After` or an exhausted `x-ratelimit-*`. */
export function retryAfterSeconds(headers: Record<string, string | undefined> = {}, now = Date.now()): number | undefined {
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim());
  if (headers['x-ratelimit-remaining'] === '0' && headers['x-ratelimit-reset']) {
    return Math.max(0, Math.ceil(Number(headers['x-ratelimit-reset']) - now / 1000));
  }
  return undefined;
}

/** GitHub's `message`, with the `errors[].message` of a validation failure ("Validation Failed: Hook already exists …"). */
function gitHubMessage(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  if (typeof message !== 'string') return undefined;
  const details = Array.isArray(errors) ? errors.flatMap((entry) => (typeof entry?.message === 'string' ? [entry.message as string] : [])) : [];
  return details.length > 0 ? `${message}: ${details.join('; ')}` : message;
}

/** A failed Octokit call as a GithubCallError (what failed, in GitHub's words, without the request). */
export function classify(error: unknown, what: string): GithubCallError {
  if (error instanceof GithubCallError) return error;
  const failure = (error ?? {}) as RequestErrorLike;
  const cause = failure.cause as { name?: string } | undefined;
  if (cause?.name === 'TimeoutError' || (error as { name?: string })?.name === 'TimeoutError') {
    return new GithubCallError('timeout', `${what}: GitHub did not answer in time`);
  }
  const status = typeof failure.status === 'number' ? failure.status : undefined;
  const headers = failure.response?.headers ?? {};
  const text = gitHubMessage(failure.response?.data) ?? errorText(error);
  if (status === undefined || !failure.response) {
    return new GithubCallError('unavailable', `${what}: ${errorText(cause ?? error)}`);
  }
  const wait = retryAfterSeconds(headers);
  const rateLimited = status === 429 || (status === 403 && (wait !== undefined || /rate limit/i.test(text)));
  if (rateLimited) return new GithubCallError('rate_limited', `${what}: ${text}`, status, wait);
  if (status === 401 || status === 403) return new GithubCallError('unauthorized', `${what}: ${text}`, status);
  if (status === 404) return new GithubCallError('not_found', `${what}: ${text}`, status);
  if (status === 422) return new GithubCallError('rejected', `${what}: ${text}`, status);
  return new GithubCallError('unavailable', `${what}: ${text}`, status);
}

interface RepositoryPayload {
  name: string;
  full_name: string;
  owner?: { login?: string };
  private?: boolean;
  visibility?: string;
  pushed_at?: string | null;
  updated_at?: string | null;
}

function repository(payload: RepositoryPayload): GithubRepository {
  const [owner = payload.owner?.login ?? '', name = payload.name] = payload.full_name.split('/');
  return {
    owner,
    name,
    fullName: payload.full_name,
    visibility: payload.private || payload.visibility === 'private' || payload.visibility === 'internal' ? 'private' : 'public',
    lastActivityAt: payload.pushed_at ?? payload.updated_at ?? null,
  };
}

interface HookPayload {
  id: number;
  active?: boolean;
  events?: string[];
  config?: { url?: string };
}

function hook(payload: HookPayload): GithubHook {
  return { id: Number(payload.id), active: payload.active !== false, events: payload.events ?? [], url: payload.config?.url };
}

/** fetch with a timeout on each attempt (retries get a fresh one). */
function timedFetch(timeoutMs: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

export class GithubClient {
  private readonly octokit: InstanceType<typeof GithubOctokit>;

  constructor(options: GithubClientOptions) {
    const { logger } = options;
    const mayWait = (retryAfter: number, retryCount: number) => retryCount < 1 && retryAfter * 1000 <= options.maxRateLimitWaitMs;
    this.octokit = new GithubOctokit({
      auth: options.token,
      baseUrl: options.baseUrl,
      userAgent: options.userAgent,
      request: { fetch: timedFetch(options.timeoutMs) },
      log: {
        debug: () => undefined,
        info: () => undefined,
        warn: (message: string) => logger.warn({ github: message }, 'github client'),
        error: (message: string) => logger.error({ github: message }, 'github client'),
      },
      throttle: {
        id: `dockrev ${options.baseUrl}`,
        onRateLimit: (retryAfter: number, _request: unknown, _octokit: unknown, retryCount: number) => mayWait(retryAfter, retryCount),
        onSecondaryRateLimit: (retryAfter: number, _request: unknown, _octokit: unknown, retryCount: number) => mayWait(retryAfter, retryCount),
      },
      // Rate limits (403/429) are the throttling plugin's; retrying them blindly would only burn the budget.
      retry: { retries: options.retries, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451], retryAfterBaseValue: options.retryBackoffUnitMs ?? 1000 },
    });
    this.octokit.hook.before('request', (request) => {
      request.headers.accept = 'application/vnd.github+json';
      request.headers['x-github-api-version'] = API_VERSION;
    });
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw classify(error, what);
    }
  }

  async getRepository(owner: string, repo: string): Promise<GithubRepository> {
    const response = await this.call(`GET /repos/${owner}/${repo}`, () => this.octokit.request('GET /repos/{owner}/{repo}', { owner, repo }));
    return repository(response.data as RepositoryPayload);
  }

  /**
   * The repositories of an owner: an organization's, else a user's public ones plus, when the
   * PAT belongs to that user, their private ones. `not_found` when GitHub knows no such owner.
   */
  async listOwnerRepositories(owner: string): Promise<GithubRepository[]> {
    try {
      const repos = await this.call(`GET /orgs/${owner}/repos`, () =>
        this.octokit.paginate('GET /orgs/{org}/repos', { org: owner, type: 'all', per_page: PER_PAGE }),
      );
      return (repos as RepositoryPayload[]).map(repository);
    } catch (error) {
      if (!(error instanceof GithubCallError) || error.kind !== 'not_found') throw error;
    }
    const [publicRepos, ownRepos] = await Promise.all([
      this.call(`GET /users/${owner}/repos`, () => this.octokit.paginate('GET /users/{username}/repos', { username: owner, type: 'owner', per_page: PER_PAGE })),
      this.call('GET /user/repos', () => this.octokit.paginate('GET /user/repos', { visibility: 'all', affiliation: 'owner', per_page: PER_PAGE })),
    ]);
    const byName = new Map<string, GithubRepository>();
    for (const payload of [...(publicRepos as RepositoryPayload[]), ...(ownRepos as RepositoryPayload[])]) {
      const repo = repository(payload);
      if (repo.owner.toLowerCase() === owner.toLowerCase()) byName.set(repo.fullName.toLowerCase(), repo);
    }
    return [...byName.values()].sort((a, b) => a.fullName.localeCompare(b.fullName));
  }

  async listHooks(owner: string, repo: string): Promise<GithubHook[]> {
    const hooks = await this.call(`GET /repos/${owner}/${repo}/hooks`, () =>
      this.octokit.paginate('GET /repos/{owner}/{repo}/hooks', { owner, repo, per_page: PER_PAGE }),
    );
    return (hooks as HookPayload[]).map(hook);
  }

  async createHook(owner: string, repo: string, config: HookConfig): Promise<GithubHook> {
    const response = await this.call(`POST /repos/${owner}/${repo}/hooks`, () =>
      this.octokit.request('POST /repos/{owner}/{repo}/hooks', {
        owner,
        repo,
        name: 'web',
        active: true,
        events: ['package'],
        config: { url: config.url, content_type: 'json', secret: config.secret, insecure_ssl: '0' },
      }),
    );
    return hook(response.data as HookPayload);
  }

  /** Sets Dockrev's configuration on an existing hook; events it has besides `package` stay. */
  async updateHook(owner: string, repo: string, hookId: number, config: HookConfig): Promise<GithubHook> {
    const response = await this.call(`PATCH /repos/${owner}/${repo}/hooks/${hookId}`, () =>
      this.octokit.request('PATCH /repos/{owner}/{repo}/hooks/{hook_id}', {
        owner,
        repo,
        hook_id: hookId,
        active: true,
        add_events: ['package'],
        config: { url: config.url, content_type: 'json', secret: config.secret, insecure_ssl: '0' },
      }),
    );
    return hook(response.data as HookPayload);
  }

  /** False when the hook was not there (already deleted). */
  async deleteHook(owner: string, repo: string, hookId: number): Promise<boolean> {
    try {
      await this.call(`DELETE /repos/${owner}/${repo}/hooks/${hookId}`, () =>
        this.octokit.request('DELETE /repos/{owner}/{repo}/hooks/{hook_id}', { owner, repo, hook_id: hookId }),
      );
      return true;
    } catch (error) {
      if (error instanceof GithubCallError && error.kind === 'not_found') return false;
      throw error;
    }
  }
}
