// A loopback HTTP server for protocol doubles: it reads each request whole, hands it to the
// double's handler (which checks it as the real service would and answers as it does), and keeps
// what it accepted. Handlers never trust the client: a request the service would refuse is refused.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  receivedAt: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export const json = (status: number, body: unknown): Answer => ({ status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
export const text = (status: number, body: string): Answer => ({ status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body });

export interface HttpDouble<T> {
  url: string;
  /** What the double accepted, in arrival order, as the service would have stored it. */
  accepted: T[];
  /** Every request, accepted or refused. */
  requests: ReceivedRequest[];
  /** Answers the next requests with this instead (an outage, a slow or failing service). */
  override(answer: ((request: ReceivedRequest) => Promise<Answer | undefined> | Answer | undefined) | undefined): void;
  /** Resolves once `count` messages were accepted. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<T[]>;
  close(): Promise<void>;
}

/** Resolves with `items` once it holds `count`; each waiter in `waiters` is woken after an arrival. */
export function waitForCount<T>(items: T[], count: number, waiters: Set<() => void>, label: string, timeoutMs = 20_000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (items.length < count) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(items);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`${label}: ${items.length} of ${count} messages after ${timeoutMs} ms`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}

/** `handle` returns the answer and, when the service would take the message, what it stored. */
export async function startHttpDouble<T>(handle: (request: ReceivedRequest) => { answer: Answer; accepted?: T }): Promise<HttpDouble<T>> {
  const accepted: T[] = [];
  const requests: ReceivedRequest[] = [];
  let override: ((request: ReceivedRequest) => Promise<Answer | undefined> | Answer | undefined) | undefined;
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const parsed = new URL(req.url ?? '/', 'http://double');
        const request: ReceivedRequest = {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          path: parsed.pathname,
          query: parsed.searchParams,
          headers: req.headers,
          body,
          text: body.toString('utf8'),
          receivedAt: Date.now(),
        };
        requests.push(request);
        let answer = override ? await override(request) : undefined;
        if (!answer) {
          const handled = handle(request);
          answer = handled.answer;
          if (handled.accepted !== undefined) accepted.push(handled.accepted);
          for (const wake of waiters) wake();
        }
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      })();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    accepted,
    requests,
    override(next) {
      override = next;
    },
    waitForAccepted: (count, timeoutMs) => waitForCount(accepted, count, waiters, url, timeoutMs),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The JSON body, or undefined when it is not JSON. */
export function jsonBody(request: ReceivedRequest): unknown {
  try {
    return JSON.parse(request.text);
  } catch {
    return undefined;
  }
}

export function isJsonRequest(request: ReceivedRequest): boolean {
  return /^application\/json\b/i.test(String(request.headers['content-type'] ?? ''));
}
