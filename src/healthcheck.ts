// The image's HEALTHCHECK. One image runs either the API or the supervisor, so the probe asks
// both in this container and passes when one answers: the API's public `GET /api/health` on
// DOCKREV_HTTP_ADDR, or the supervisor's public favicon on DOCKREV_SUPERVISOR_HTTP_ADDR (its
// health route is protected). Exit 0 healthy, 1 not.
import { request } from 'node:http';
import { parseHostPort } from './config.js';

const TIMEOUT_MS = 4000;

/** A wildcard listen address is probed on loopback. */
function probeHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function answers(address: string, fallback: string, path: string): Promise<boolean> {
  const { host, port } = parseHostPort(address) ?? parseHostPort(fallback)!;
  return new Promise((resolve) => {
    const req = request({ host: probeHost(host), port, path, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

const env = process.env;
const basePath = (env.DOCKREV_SUPERVISOR_BASE_PATH?.trim() || '/supervisor').replace(/\/+$/, '');
const results = await Promise.all([
  answers(env.DOCKREV_HTTP_ADDR?.trim() || '0.0.0.0:50883', '0.0.0.0:50883', '/api/health'),
  answers(env.DOCKREV_SUPERVISOR_HTTP_ADDR?.trim() || '0.0.0.0:50884', '0.0.0.0:50884', `${basePath}/favicon.png`),
]);
process.exit(results.some(Boolean) ? 0 : 1);
