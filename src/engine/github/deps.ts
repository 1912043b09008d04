// What the GitHub packages integration needs from the rest of the engine, and the one place that
// builds GitHub clients for it.
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { DomainError } from '../../errors.js';
import type { Job, Service, Store } from '../../store/index.js';
import type { PushOrigin } from '../check/push.js';
import type { EngineEvents } from '../events.js';
import type { JobRunner } from '../jobs/runner.js';
import { GithubCallError, GithubClient } from './client.js';

export interface GithubDeps {
  config: Pick<Config, 'appVersion' | 'github' | 'registryHosts'>;
  store: Store;
  jobs: JobRunner;
  events: EngineEvents;
  logger: Logger;
  servicesUsing(repositoryKey: string): Promise<Service[]>;
  checkForPush(serviceIds: readonly string[], origin: PushOrigin): Promise<{ serviceId: string; job: Job; reused: boolean }[]>;
  discoveryForPush(origin: PushOrigin): Promise<{ job: Job; reused: boolean }>;
  /**
   * Tuning for tests: the first delay before a failed webhook job is tried again, the cap on its
   * attempts, and the unit of the back-off between retries of one call (1 s, then 4 s).
   */
  retry?: { baseMs?: number; maxAttempts?: number; callBackoffUnitMs?: number };
  /** How often the webhook worker looks for queued jobs other instances (or a restart) left. */
  workerPollMs?: number;
}

/** A rate-limit reset a webhook job may wait for inside one attempt; longer ones fail and retry later. */
const JOB_RATE_LIMIT_WAIT_MS = 10_000;

/**
 * A client with the stored PAT. `interactive` calls (a user waits on the answer) neither retry
 * nor wait for a rate limit; `job` calls retry transient failures twice and wait for short resets.
 */
export function githubClient(deps: Pick<GithubDeps, 'config' | 'logger' | 'retry'>, token: string, purpose: 'interactive' | 'job'): GithubClient {
  return new GithubClient({
    retryBackoffUnitMs: deps.retry?.callBackoffUnitMs,
    baseUrl: deps.config.github.apiBaseUrl,
    token,
    timeoutMs: deps.config.github.timeoutMs,
    retries: purpose === 'job' ? 2 : 0,
    maxRateLimitWaitMs: purpose === 'job' ? JOB_RATE_LIMIT_WAIT_MS : 0,
    userAgent: `dockrev/${deps.config.appVersion}`,
    logger: deps.logger,
  });
}

/** The image repository GHCR serves for a GitHub repository: `<ghcr host>/<owner>/<repo>`, lowercase. */
export function ghcrRepositoryKey(deps: Pick<GithubDeps, 'config'>, owner: string, name: string): string {
  return `${deps.config.registryHosts.ghcrHost}/${owner}/${name}`.toLowerCase();
}

/** A failed GitHub call a user waits on, as the domain failure the API answers with (behaviour.md §C.12). */
export function githubFailure(error: unknown, subject: { owner: string; repo?: string }): unknown {
  if (!(error instanceof GithubCallError)) return error;
  const { owner, repo } = subject;
  const target = repo === undefined ? { owner } : { owner, repo };
  switch (error.kind) {
    case 'unauthorized':
      return new DomainError('invalid_input', 'github pat is invalid or lacks required scopes', {
        reason: 'ghcr_pat_invalid_or_scope_insufficient',
        ...target,
        status: error.status,
        cause: error.message,
      });
    case 'not_found':
      return repo === undefined
        ? new DomainError('unknown_upstream', 'github owner not found', { reason: 'github_owner_not_found', owner })
        : new DomainError('unknown_upstream', 'github repository not found', { reason: 'github_repo_not_found', owner, repo });
    case 'timeout':
      return new DomainError('upstream', 'github upstream timeout', { reason: 'github_upstream_timeout', ...target });
    case 'rate_limited':
      return new DomainError('upstream', 'github rate limit exceeded', {
        reason: 'github_rate_limited',
        ...target,
        status: error.status,
        ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
      });
    default:
      return new DomainError('upstream', 'github upstream unavailable', {
        reason: 'github_upstream_unavailable',
        ...target,
        ...(error.status === undefined ? {} : { status: error.status }),
        cause: error.message,
      });
  }
}
