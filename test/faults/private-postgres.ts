// A PostgreSQL cluster of the test's own (scripts/postgres.sh on a free port and a folder of its
// own), so that stopping it under load disturbs no other suite.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../contract-tests/process.js';
import { projectRoot } from '../../src/spec.js';

const run = promisify(execFile);

export interface PrivatePostgres {
  url: string;
  stop(): Promise<void>;
  resume(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-faults-pg-'));
  // The server runs as `postgres` when we are root: it must be able to enter the folder.
  chmodSync(dir, 0o755);
  const env = { ...process.env, DOCKREV_PG_PORT: String(await freePort()), DOCKREV_PG_DIR: join(dir, 'cluster') };
  const script = join(projectRoot(), 'scripts', 'postgres.sh');
  const pg = (command: string) => run(script, [command], { env, cwd: projectRoot(), timeout: 120_000 });
  await pg('start');
  const url = (await pg('url')).stdout.trim();
  return {
    url,
    stop: async () => void (await pg('stop')),
    resume: async () => void (await pg('resume')),
    destroy: async () => {
      await pg('stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
