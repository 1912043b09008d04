// What forms share: client-side checks before sending, and the server's 400 per field after.
import { ApiError } from './api/errors';

export type Errors = Record<string, string>;

/** The server's per-field messages, keyed like the client's (`backup.baseDir`). */
export function serverFieldErrors(error: unknown): Errors {
  return error instanceof ApiError ? error.fieldErrors() : {};
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Client errors first (they are what the user just typed), then the server's for the rest. */
export function mergeErrors(client: Errors, server: Errors): Errors {
  return { ...server, ...client };
}
