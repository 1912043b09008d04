// A Dockrev server under benchmark: spawned as `npm start` would run it, driven over HTTP, its
// jobs followed the way the UI follows them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { openSse, type SseFrame } from '../../contract-tests/sse-client.js';
import { memory } from '../proc.js';
import { ROOT, sleep } from './env.js';



export interface ApiJob {
  id: string;
  status: string;
  startedAt?: string;
  finishedAt?: string;
  createdAt: string;
  summary: Record<string, unknown>;
  logs?: Array<{ id: number; ts: string; level: string; msg: string }>;
}

export class Api {
  constructor(readonly base: string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  job(id: string): Promise<ApiJob> {
    return this.call<{ job: ApiJob }>('GET', `/api/jobs/${id}`).then((r) => r.job);
  }
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export async function startServer(dir: string, dockerHost: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; api: Api; stderr: () => string }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('DOCKREV_') || key === 'DATABASE_URL') delete env[key];
  Object.assign(env, {
    DOCKREV_HTTP_ADDR: `127.0.0.1:${port}`,
    DOCKREV_DB_PATH: join(dir, 'dockrev.sqlite3'),
    DOCKREV_LOG_LEVEL: 'silent',
    DOCKER_HOST: dockerHost,
    // No background discovery or runtime scan while the bench measures.
    DOCKREV_DISCOVERY_INTERVAL_SECONDS: '86400',
    DOCKREV_RUNTIME_SCAN_INTERVAL_SECONDS: '86400',
    ...extraEnv,
  });
  // The same V8 flags as `npm start`: a small young generation and V8's size-over-speed heuristics
  // keep a daemon's RSS down (12 warm checks: peak 94.7 MB instead of 101.6, same CPU per check).
  const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, ['--max-semi-space-size=2', '--optimize-for-size', ...extra, join(ROOT, 'dist/src/main.js')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  const api = new Api(`http://127.0.0.1:${port}`);
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dockrev exited with ${child.exitCode}:\n${stderr}`);
      const ok = await fetch(`${api.base}/api/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`dockrev did not answer /api/health in 30 s:\n${stderr}`);
      await sleep(50);
    }
  } catch (error) {
    await stopServer(child);
    throw error;
  }
  return { child, api, stderr: () => stderr };
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Follows the job's event stream (from its first row) until its last progress event (phase
 * `done`) or its failure log, then reads the job until its row is no longer running: a client
 * that watches a job the way the UI does. Returns when that was seen.
 */
export async function followJob(api: Api, id: string, onFrame?: () => void, onLast?: () => void): Promise<{ job: ApiJob; seenPerf: number; polls: number }> {
  const stream = await openSse(api.base, `/api/jobs/${id}/events?afterId=0`);
  if (stream.status !== 200) throw new Error(`GET /api/jobs/${id}/events: ${stream.status} ${stream.body.slice(0, 300)}`);
  const last = (frame: SseFrame) =>
    (frame.event === 'job_progress' && frame.data?.phase === 'done') || (frame.event === 'job_log' && frame.data?.level === 'error');
  try {
    for (let wanted = 1; ; ) {
      const frames = await stream.waitFor(wanted, 120_000);
      onFrame?.();
      if (frames.some(last)) {
        onLast?.();
        break;
      }
      if (frames.length < wanted) throw new Error(`the event stream of ${id} ended before the job did`);
      wanted = frames.length + 1;
    }
  } finally {
    stream.close();
  }
  // The row turns terminal right after the last event is written.
  return waitJob(api, id, 2);
}

/** Polls the job every `intervalMs` until it is no longer running; returns it and when that was seen. */
export async function waitJob(api: Api, id: string, intervalMs: number, onPoll?: () => void): Promise<{ job: ApiJob; seenPerf: number; polls: number }> {
  let polls = 0;
  for (;;) {
    const job = await api.job(id);
    const seenPerf = performance.now();
    polls += 1;
    onPoll?.();
    if (job.status !== 'running' && job.status !== 'queued') return { job, seenPerf, polls };
    await sleep(intervalMs);
  }
}

/** RSS of a bare `node` HTTP server on this machine: what any Node server costs before its own code. */
export async function bareNodeRssKb(): Promise<number | undefined> {
  const child = spawn(process.execPath, ['-e', "require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1')"], { stdio: 'ignore' });
  try {
    await sleep(500);
    return memory(child.pid!).rssKb;
  } catch {
    return undefined;
  } finally {
    child.kill('SIGKILL');
  }
}

/** Waits until the version-inference worker has nothing queued or running (the snapshots a check enqueued). */
export async function waitInferenceIdle(api: Api, timeoutMs = 180_000): Promise<{ peakTasks: number; ms: number }> {
  const started = performance.now();
  let peakTasks = 0;
  for (;;) {
    const { worker } = await api.call<{ worker: { inFlight: number } }>('GET', '/api/version-inference/overview?perPage=1');
    peakTasks = Math.max(peakTasks, worker.inFlight);
    if (worker.inFlight === 0) return { peakTasks, ms: Math.round((performance.now() - started) * 10) / 10 };
    if (performance.now() - started > timeoutMs) throw new Error(`version inference still busy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
