// The API process the browser suites drive: on the test engine, registry and Compose, with a
// store of its own in `work`, forward auth allowing one user, and the background discovery and
// runtime scans pushed out of the way (only the scans a test asks for find its project).
import { join } from 'node:path';
import { freePort, runServer, waitForHealth } from '../../contract-tests/process.js';
import type { InfraEnv } from '../fixtures/index.js';

export interface UiServer {
  process: ReturnType<typeof runServer>;
  port: number;
  base: string;
  /** The API as `user` sees it through the proxy, bypassing the browser: the JSON answer. */
  api(path: string, init?: RequestInit): Promise<any>;
  waitForHealth(): Promise<void>;
  stop(): Promise<void>;
}

export async function startUiServer(infra: InfraEnv, work: string, user: string, env: Record<string, string> = {}): Promise<UiServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = runServer({
    DOCKREV_HTTP_ADDR: `127.0.0.1:${port}`,
    DOCKREV_DB_PATH: join(work, 'dockrev.sqlite3'),
    DOCKREV_AUTH_ALLOWED_USER: user,
    DOCKER_HOST: infra.dockerHost,
    DOCKREV_COMPOSE_BIN: infra.composeV1Bin.join(' '),
    DOCKREV_HELPER_IMAGE: infra.baseImage,
    DOCKREV_OVERRIDE_DIR: join(work, 'overrides'),
    DOCKREV_DISCOVERY_INTERVAL_SECONDS: '3600',
    DOCKREV_RUNTIME_SCAN_INTERVAL_SECONDS: '3600',
    ...env,
  });
  return {
    process: child,
    port,
    base,
    async api(path, init = {}) {
      const response = await fetch(`${base}${path}`, { ...init, headers: { 'X-Forwarded-User': user, 'Content-Type': 'application/json', ...init.headers } });
      return response.json();
    },
    waitForHealth: () => waitForHealth(port),
    async stop() {
      child.child.kill('SIGTERM');
      await child.exited;
    },
  };
}
