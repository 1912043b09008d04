// API reads under load: GET /api/stacks on the server against a bare express route answering the
// same body, both loaded by autocannon from this process, alternating so both see the same load.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuMs } from '../proc.js';
import { ROOT, round } from './env.js';
import { freePort } from './server.js';

/** The node flags of `npm start`: the reference runs under the same ones. */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=2', '--optimize-for-size'];

export interface ReadRun {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** CPU the serving process spent per 1000 requests. */
  cpuMsPer1000?: number;
}

export async function loadRun(url: string, seconds: number, connections: number, pid?: number): Promise<ReadRun> {
  const cpu0 = pid === undefined ? 0 : cpuMs(pid);
  const result = await autocannon({ url, connections, duration: seconds });
  const total = result.requests.total;
  return {
    requestsPerSecond: round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    ...(pid === undefined || total === 0 ? {} : { cpuMsPer1000: round(((cpuMs(pid) - cpu0) * 1000) / total, 2) }),
  };
}

/** A bare express route with this body, in its own process. */
export async function startBareRoute(dir: string, body: string): Promise<{ url: string; pid: number; child: ChildProcess; stop(): Promise<void> }> {
  const file = join(dir, `bare-body-${Date.now()}.json`);
  await writeFile(file, body);
  const port = await freePort();
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, join(ROOT, 'dist/bench/bare-route.js'), String(port), file], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare route exited with ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  child.removeAllListeners('exit');
  return {
    url: `http://127.0.0.1:${port}/api/stacks`,
    pid: child.pid!,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface ReadComparison {
  dockrev: ReadRun[];
  bare: ReadRun[];
  /** Mean requests/s of Dockrev over that of the bare route, same run. */
  ratio: number;
  /** CPU per request of the bare route over Dockrev's: the same comparison, less moved by load. */
  cpuRatio: number;
  dockrevP99Ms: number;
  bareP99Ms: number;
}

/** `rounds` × (bare, Dockrev), `seconds` each, after a short warm-up of both. */
export async function compareReads(target: { url: string; pid: number }, bareTarget: { url: string; pid: number }, options: { seconds: number; connections: number; rounds: number }): Promise<ReadComparison> {
  const bareUrl = bareTarget.url;
  await loadRun(bareUrl, 1, options.connections);
  await loadRun(target.url, 1, options.connections);
  const dockrev: ReadRun[] = [];
  const bare: ReadRun[] = [];
  for (let i = 0; i < options.rounds; i++) {
    bare.push(await loadRun(bareUrl, options.seconds, options.connections, bareTarget.pid));
    dockrev.push(await loadRun(target.url, options.seconds, options.connections, target.pid));
  }
  const mean = (runs: ReadRun[], pick: (run: ReadRun) => number) => runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  return {
    dockrev,
    bare,
    ratio: round(mean(dockrev, (r) => r.requestsPerSecond) / mean(bare, (r) => r.requestsPerSecond), 2),
    cpuRatio: round(mean(bare, (r) => r.cpuMsPer1000 ?? NaN) / mean(dockrev, (r) => r.cpuMsPer1000 ?? NaN), 2),
    dockrevP99Ms: Math.max(...dockrev.map((r) => r.p99Ms)),
    bareP99Ms: Math.max(...bare.map((r) => r.p99Ms)),
  };
}
