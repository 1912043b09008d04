import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Bytes of the request the client managed to write before the answer or the close. */
  written: number;
}

/**
 * Sends bytes exactly as given (malformed escapes, bad framing, duplicate headers) and reads one
 * answer until the server closes or the answer is complete. No client library "fixes" the request.
 */
export function rawRequest(port: number, head: string, body: Buffer | string = '', { timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let written = 0;
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    const parse = (): RawAnswer | undefined => {
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = received.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
      // A HEAD answer announces a length it does not send.
      const length = head.startsWith('HEAD ') ? 0 : headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      if (length !== undefined && rest.length < length) return undefined;
      return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.subarray(0, length ?? rest.length).toString('utf8'), written };
    };
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const answer = parse();
      if (answer) resolve(answer);
      else reject(error ?? new Error(`connection closed without an answer (${received.length} bytes received)`));
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const answer = parse();
      // A stream that opened never completes: its headers are the answer.
      if (answer && (answer.headers['content-length'] !== undefined || answer.headers['content-type']?.startsWith('text/event-stream'))) finish();
    });
    socket.on('close', () => finish());
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => {
      const payload = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
      // In slices, so that `written` tells how far the server let the client get.
      const slice = 64 * 1024;
      const writeFrom = (offset: number) => {
        while (offset < payload.length && !settled) {
          const part = payload.subarray(offset, offset + slice);
          offset += part.length;
          if (!socket.write(part, () => (written += part.length))) {
            socket.once('drain', () => writeFrom(offset));
            return;
          }
        }
      };
      writeFrom(0);
    });
  });
}

export function jsonOf(answer: RawAnswer): any {
  return JSON.parse(answer.body);
}
