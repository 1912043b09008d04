// The one place where a domain failure becomes an HTTP answer.
import type { Failure, FailureKind } from '../errors.js';
import { envelope, type ErrorCode, type ErrorEnvelope } from './errors.js';

type FailureStatus = 400 | 401 | 404 | 409 | 422 | 500;

const ANSWERS: Record<FailureKind, { status: FailureStatus; code: ErrorCode }> = {
  invalid_input: { status: 400, code: 'invalid_argument' },
  arch_mismatch: { status: 400, code: 'invalid_argument' },
  invalid_cursor: { status: 400, code: 'invalid_jobs_cursor' },
  unknown: { status: 404, code: 'not_found' },
  stale_candidate: { status: 409, code: 'conflict' },
  busy: { status: 409, code: 'conflict' },
  unauthenticated: { status: 401, code: 'unauthorized' },
  unknown_upstream: { status: 422, code: 'unprocessable' },
  // The contract documents an upstream failure as `500 internal` with a message naming it ("registry timeout").
  upstream: { status: 500, code: 'internal' },
};

export function failureResponse(failure: Failure): { status: FailureStatus; body: ErrorEnvelope } {
  const { status, code } = ANSWERS[failure.kind];
  return { status, body: envelope(code, failure.message, failure.details) };
}
