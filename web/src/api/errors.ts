import type { components } from '@contract';

export type ErrorBody = components['schemas']['ErrorBody'];
export type AuthRequiredDetails = components['schemas']['AuthRequiredDetails'];

/** A non-2xx answer of the API, carrying the envelope's code, message and details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Builds the error from whatever the server (or a proxy in front of it) sent. */
  static from(status: number, body: unknown): ApiError {
    const envelope = (body as { error?: Partial<ErrorBody> } | undefined)?.error;
    if (envelope && typeof envelope === 'object' && typeof envelope.message === 'string') {
      return new ApiError(status, String(envelope.code ?? 'unknown'), envelope.message, envelope.details ?? {});
    }
    // Not our envelope: a reverse proxy's page, a plain-text error. Show its start.
    const text = typeof body === 'string' ? body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim() : '';
    return new ApiError(status, 'http_error', `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }

  get isAuthRequired(): boolean {
    return this.status === 401 && this.code === 'auth_required';
  }

  /**
   * Per-field messages of a 400, keyed by dotted field path (`backup.baseDir`). The server names
   * fields two ways: schema violations list `details.errors[{path: "/body/backup/baseDir"}]`,
   * handler checks set `details.field` (with `details.error` for the parser's complaint).
   */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    const errors = this.details.errors;
    if (Array.isArray(errors)) {
      for (const entry of errors as { path?: unknown; message?: unknown }[]) {
        if (typeof entry.path !== 'string') continue;
        const field = entry.path.replace(/^\/body\/?/, '').split('/').filter(Boolean).join('.');
        out[field || 'body'] = String(entry.message ?? 'is invalid');
      }
    }
    if (typeof this.details.field === 'string') {
      const cause = typeof this.details.error === 'string' ? `: ${this.details.error}` : '';
      out[this.details.field] = `${this.message}${cause}`;
    }
    return out;
  }
}

/** The API could not be reached at all (connection refused, reset, DNS, offline). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('No answer from the Dockrev API: the connection failed');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
