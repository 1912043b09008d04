import { request, type IncomingHttpHeaders } from 'node:http';

export interface SseFrame {
  id?: number;
  event: string;
  data: any;
}

export interface SseConnection {
  status: number;
  headers: IncomingHttpHeaders;
  comments: string[];
  frames: SseFrame[];
  /** The raw body for non-stream answers (404, 401…). */
  body: string;
  /** Waits until at least `count` frames arrived (or the stream ended), then returns them all. */
  waitFor(count: number, timeoutMs?: number): Promise<SseFrame[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** A minimal EventSource for tests: parses frames as they arrive and can be closed at will. */
export function openSse(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      const connection: SseConnection = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        comments: [],
        frames: [],
        body: '',
        waitFor: async () => [],
        ended: new Promise((done) => res.on('close', () => done())),
        close: () => req.destroy(),
      };
      let buffer = '';
      const waiters: (() => void)[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        connection.body += chunk;
        buffer += chunk;
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const frame: Partial<SseFrame> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) connection.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) frame.id = Number(line.slice(4));
            else if (line.startsWith('event: ')) frame.event = line.slice(7);
            else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6));
          }
          if (frame.event) connection.frames.push(frame as SseFrame);
          boundary = buffer.indexOf('\n\n');
        }
        for (const wake of waiters.splice(0)) wake();
      });
      res.on('close', () => {
        for (const wake of waiters.splice(0)) wake();
      });
      let ended = false;
      void connection.ended.then(() => (ended = true));
      connection.waitFor = async (count, timeoutMs = 5000) => {
        const deadline = Date.now() + timeoutMs;
        while (connection.frames.length < count && !ended && Date.now() < deadline) {
          await new Promise<void>((wake) => {
            waiters.push(wake);
            setTimeout(wake, Math.max(0, deadline - Date.now()));
          });
        }
        return connection.frames;
      };
      resolve(connection);
    });
    req.on('error', reject);
    req.end();
  });
}
