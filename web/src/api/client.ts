// The typed client: openapi-fetch over the openapi-typescript output of our own spec, so a
// contract change that the UI does not follow fails `make build`.
import createClient from 'openapi-fetch';
import type { paths } from '@contract';
import { markReachable, markUnreachable } from './connection';
import { ApiError, NetworkError } from './errors';

export const api = createClient<paths>({ baseUrl: window.location.origin });

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Awaits an openapi-fetch call and returns its data, or throws ApiError (the envelope) or
 * NetworkError (nothing answered). Reachability is updated on the way.
 */
export async function call<T>(request: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await request;
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    markUnreachable();
    throw new NetworkError(error);
  }
  const { response } = result;
  // A proxy answering 502/503/504 for us means the API itself is gone.
  if ([502, 503, 504].includes(response.status) && !isEnvelope(result.error)) {
    markUnreachable();
    throw ApiError.from(response.status, result.error);
  }
  markReachable();
  if (!response.ok) throw ApiError.from(response.status, result.error);
  return result.data as T;
}

function isEnvelope(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'error' in body;
}
