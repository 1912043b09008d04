// What forms share: client-side checks before sending, and the server's 400 per field after.
import { useState, type FormEvent } from 'react';
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

/**
 * A form's draft and its errors: `onSubmit` runs `validate` and sends only a clean draft; the
 * errors shown are the client's, then the server's 400 for the fields the client let through.
 */
export function useDraftForm<D extends object>(initial: () => D, validate: (draft: D) => Errors, submit: (draft: D) => void, serverError: unknown) {
  const [draft, setDraft] = useState(initial);
  const [clientErrors, setClientErrors] = useState<Errors>({});
  const set = <K extends keyof D>(key: K, value: D[K]) => setDraft((current) => ({ ...current, [key]: value }));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found = validate(draft);
    setClientErrors(found);
    if (Object.keys(found).length === 0) submit(draft);
  };
  return { draft, setDraft, set, onSubmit, errors: mergeErrors(clientErrors, serverFieldErrors(serverError)) };
}
