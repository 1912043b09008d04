/** The message of an error for logs, job summaries and responses; AggregateError (e.g. a refused connection to several addresses) gives its first cause. */
export function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorText(error.errors[0]);
  return error instanceof Error ? error.message || String(error) : String(error);
}

/**
 * Why the engine or the store refused a request, in the domain's words. `src/http` turns each kind
 * into a status and an error envelope, in one place; nothing below it names an HTTP status.
 */
export type FailureKind =
  /** The request is malformed or contradicts itself. */
  | 'invalid_input'
  /** It names something that does not exist. */
  | 'unknown'
  /** It relies on a scan result that is no longer current (rescan required). */
  | 'stale_candidate'
  /** The candidate image does not fit the host's platform. */
  | 'arch_mismatch'
  /** Another job already works on the same target. */
  | 'busy'
  /** A paging cursor that this server did not issue. */
  | 'invalid_cursor'
  /** A webhook whose signature or secret does not hold (or cannot be checked: no secret stored). */
  | 'unauthenticated'
  /** Well-formed input that names nothing the upstream service knows (an unknown GitHub owner). */
  | 'unknown_upstream'
  /** A registry, GitHub or another service the request needs timed out, rate-limited or failed; the message and `details` say which. */
  | 'upstream';

export interface Failure {
  kind: FailureKind;
  message: string;
  details: Record<string, unknown>;
}

export class DomainError extends Error implements Failure {
  readonly details: Record<string, unknown>;

  constructor(
    readonly kind: FailureKind,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
    this.details = details;
  }

  static from(failure: Failure): DomainError {
    return new DomainError(failure.kind, failure.message, failure.details);
  }
}
