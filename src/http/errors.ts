import type { components } from '../generated/dockrev.js';

export type ErrorCode = components['schemas']['ErrorCode'];
export type ErrorEnvelope = components['schemas']['ErrorEnvelope'];

export function envelope(code: ErrorCode, message: string, details: Record<string, unknown> = {}): ErrorEnvelope {
  return { error: { code, message, details } };
}

// Typed results for the common failures; a handler can only return them where the spec documents
// the status, because the handler map checks every return value against the operation.
export const badRequest = (message: string, details: Record<string, unknown> = {}) =>
  ({ status: 400, body: envelope('invalid_argument', message, details) }) as const;

export const notFound = (message: string, details: Record<string, unknown> = {}) =>
  ({ status: 404, body: envelope('not_found', message, details) }) as const;

export const conflict = (message: string, details: Record<string, unknown> = {}) =>
  ({ status: 409, body: envelope('conflict', message, details) }) as const;

/** Thrown for failures that happen before a handler runs (body parsing, routing). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorEnvelope,
  ) {
    super(body.error.message);
  }
}
