// The node:http server in front of the app: timeouts that close slow and idle sockets, and
// Node's own parser refusals answered in the error envelope instead of an empty 400.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { envelope } from './errors.js';

export interface ListenerTimeouts {
  /** A client gets this long to send the request line and headers (slowloris). */
  headersTimeoutMs: number;
  /** …and this long for the whole request, body included. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** How often Node looks for requests past these limits. */
  checkIntervalMs: number;
}

export const DEFAULT_TIMEOUTS: ListenerTimeouts = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  checkIntervalMs: 5_000,
};

/** Largest request head Node accepts (its default); a larger one is a 431. */
const MAX_HEADER_BYTES = 16 * 1024;

function parserAnswer(error: NodeJS.ErrnoException): { status: number; reason: string; body: ReturnType<typeof envelope> } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', body: envelope('invalid_argument', 'request headers are too large', { limitBytes: MAX_HEADER_BYTES }) };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', body: envelope('invalid_argument', 'the request took too long to arrive') };
    default:
      return { status: 400, reason: 'Bad Request', body: envelope('invalid_argument', 'malformed HTTP request', { parserError: error.code ?? 'unknown' }) };
  }
}

/** Answers a request Node could not parse, when the socket can still take an answer. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset or a half-sent answer has nobody left to read a reply.
  if (error.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, reason, body } = parserAnswer(error);
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}

export function createListener(app: RequestListener, timeouts: ListenerTimeouts = DEFAULT_TIMEOUTS): Server {
  const server = createServer(
    { headersTimeout: timeouts.headersTimeoutMs, requestTimeout: timeouts.requestTimeoutMs, connectionsCheckingInterval: timeouts.checkIntervalMs, maxHeaderSize: MAX_HEADER_BYTES },
    app,
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  server.on('clientError', answerClientError);
  return server;
}
