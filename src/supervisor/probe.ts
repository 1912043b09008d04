// Plain HTTP GETs against the target container's address (no proxy, no auth: both routes are public).
import { request } from 'node:http';

export interface ProbeAnswer {
  status: number;
  body: string;
}

/** GET `url`; rejects on a connection error or when no full answer arrives within `timeoutMs`. */
export function httpGet(url: string, timeoutMs: number): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 64 * 1024) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The listen port of the target API from its DOCKREV_HTTP_ADDR (default 50883). */
export function apiPortOf(env: readonly string[]): number {
  const addr = env.find((entry) => entry.startsWith('DOCKREV_HTTP_ADDR='))?.slice('DOCKREV_HTTP_ADDR='.length);
  const port = addr ? Number(/:(\d{1,5})$/.exec(addr.trim())?.[1]) : NaN;
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : 50883;
}
