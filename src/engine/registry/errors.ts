import type { RepositoryRef } from './reference.js';

export type RegistryErrorKind = 'unauthorized' | 'not_found' | 'rate_limited' | 'timeout' | 'unavailable' | 'invalid_response';

/** A failed registry operation. The message names the registry and repository, never credentials. */
export class RegistryError extends Error {
  readonly registry: string;
  readonly repository: string;
  /** The HTTP status behind the failure, when there was a response. */
  readonly status?: number;
  /** How long the registry asked us to wait (429/503 with a Retry-After we did not honour). */
  readonly retryAfterMs?: number;

  constructor(
    readonly kind: RegistryErrorKind,
    target: RepositoryRef,
    detail: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(`${target.registry}/${target.repository}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.registry = target.registry;
    this.repository = target.repository;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The error kind an HTTP status means, for statuses that are failures. */
export function errorKindForStatus(status: number): RegistryErrorKind {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unavailable';
  return 'invalid_response';
}
