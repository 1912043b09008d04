// HTTP for the registry client and the host profiles: keep-alive sockets (node:http costs a
// fraction of fetch's CPU per request, which counts when a check sends hundreds), a per-host
// concurrency limit, a timeout on every exchange, and back-off for 429/502/503/504 and network
// errors that honours Retry-After.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { RetryPolicy } from '../../config.js';
import { RegistryError } from './errors.js';
import { HostLimiter } from './host-limiter.js';
import type { RepositoryRef } from './reference.js';

export type RegistryRequestKind = 'token' | 'manifest' | 'blob' | 'tags' | 'api';

/** One HTTP exchange, reported once it has finished (each retry is an exchange of its own). */
export interface RegistryRequestEvent {
  /** host[:port] the request went to (the token realm's host for tokens). */
  host: string;
  method: 'GET' | 'HEAD';
  kind: RegistryRequestKind;
  /** HTTP status; 0 when no response arrived (network error or timeout). */
  status: number;
  ms: number;
}

export interface RegistryHttpOptions {
  retry?: RetryPolicy;
  perHostConcurrency?: number;
  timeoutMs?: number;
  onRequest?: (event: RegistryRequestEvent) => void;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD';
  url: URL;
  kind: RegistryRequestKind;
  /** What is being fetched, for error messages: "manifest latest", "tags", … */
  what: string;
  accept?: string;
  authorization?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
const MAX_REDIRECTS = 5;

export class RegistryHttp {
  readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly onRequest?: (event: RegistryRequestEvent) => void;
  private readonly limiter: HostLimiter;
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  constructor(options: RegistryHttpOptions = {}) {
    this.retry = options.retry ?? { maxAttempts: 3, baseMs: 250, maxMs: 2000 };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.onRequest = options.onRequest;
    this.limiter = new HostLimiter(options.perHostConcurrency ?? 7);
  }

  /** A GET of a JSON document (a host's own API); the parsed body, or undefined when it is not JSON. */
  async getJson(target: RepositoryRef, url: URL, what: string): Promise<{ status: number; headers: Headers; json: unknown }> {
    const response = await this.exchange(target, { method: 'GET', url, kind: 'api', what, accept: 'application/json' });
    let json: unknown;
    try {
      json = JSON.parse(response.body.toString('utf8'));
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json };
  }

  /**
   * One request with the per-host limit, a timeout, and retries with back-off for 429/502/503/504
   * and network errors. Returns the last response whatever its status; throws when none came.
   */
  async exchange(target: RepositoryRef, request: HttpRequest): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse | undefined;
      let networkError: unknown;
      try {
        response = await this.limiter.run(request.url.host, () => this.send(request));
      } catch (error) {
        // A registry that does not answer within the timeout is not asked again: the caller would wait attempts × timeout.
        if (isTimeout(error)) {
          throw new RegistryError('timeout', target, `${request.what}: no answer from ${request.url.host} within ${this.timeoutMs} ms`, { cause: error });
        }
        networkError = error;
      }
      if (response && !RETRYABLE_STATUSES.has(response.status)) return response;

      const delay = this.retryDelay(attempt, response);
      if (delay === undefined) {
        if (response) return response;
        throw new RegistryError('unavailable', target, `${request.what}: ${request.url.host} unreachable (${networkErrorText(networkError)})`, {
          cause: networkError,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /**
   * Exponential back-off with a little jitter, capped at maxMs. A Retry-After is honoured when it
   * fits under maxMs; a longer one ends the retries at once, because waiting it out (Docker Hub
   * asks for hours) would stall the check and retrying earlier would only be refused again.
   */
  private retryDelay(attempt: number, response: HttpResponse | undefined): number | undefined {
    if (attempt >= this.retry.maxAttempts) return undefined;
    const { baseMs, maxMs } = this.retry;
    const backoff = Math.min(maxMs, baseMs * 2 ** (attempt - 1) + Math.random() * (baseMs / 3));
    const retryAfter = response ? retryAfterMs(response.headers) : undefined;
    if (retryAfter === undefined) return backoff;
    return retryAfter > maxMs ? undefined : Math.max(retryAfter, backoff);
  }

  private async send(request: HttpRequest): Promise<HttpResponse> {
    const started = performance.now();
    let status = 0;
    try {
      const headers: Record<string, string> = {};
      if (request.accept) headers.accept = request.accept;
      if (request.authorization) headers.authorization = request.authorization;
      const response = await this.transfer(request.method, request.url, headers, MAX_REDIRECTS);
      status = response.status;
      return response;
    } finally {
      this.onRequest?.({
        host: request.url.host,
        method: request.method,
        kind: request.kind,
        status,
        ms: Math.round(performance.now() - started),
      });
    }
  }

  /**
   * One HTTP exchange over keep-alive sockets (node:http costs a fraction of fetch's CPU per
   * request, which counts when a check sends hundreds). Redirects are followed as fetch would, e.g.
   * blob downloads handed to a CDN; credentials are not sent to another host.
   */
  private transfer(method: HttpRequest['method'], url: URL, headers: Record<string, string>, redirectsLeft: number): Promise<HttpResponse> {
    const secure = url.protocol === 'https:';
    return new Promise<HttpResponse>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      const req = (secure ? httpsRequest : httpRequest)(url, { method, headers, agent: secure ? this.agents.https : this.agents.http }, (res) => {
        const location = res.headers.location;
        if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location && redirectsLeft > 0) {
          res.resume();
          clearTimeout(timer);
          const next = new URL(location, url);
          const forwarded = next.host === url.host ? headers : Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'authorization'));
          this.transfer(method, next, forwarded, redirectsLeft - 1).then(resolve, reject);
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (Array.isArray(value)) for (const each of value) responseHeaders.append(name, each);
            else if (value !== undefined) responseHeaders.set(name, value);
          }
          resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body: Buffer.concat(chunks) });
        });
      });
      timer = setTimeout(() => {
        const error = new Error(`no answer within ${this.timeoutMs} ms`);
        error.name = 'TimeoutError';
        req.destroy(error);
      }, this.timeoutMs);
      req.on('error', fail);
      req.end();
    });
  }

}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date. */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

function networkErrorText(error: unknown): string {
  const cause = error instanceof Error ? ((error.cause ?? error) as { code?: string; message?: string }) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
