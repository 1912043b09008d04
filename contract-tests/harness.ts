import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import supertest from 'supertest';
import { loadConfig } from '../src/config.js';
import { Engine, type EngineOptions } from '../src/engine/engine.js';
import { createApp } from '../src/app.js';
import { Metrics } from '../src/metrics.js';
import { createListener, type ListenerTimeouts, DEFAULT_TIMEOUTS } from '../src/http/listener.js';
import { projectRoot } from '../src/spec.js';
import { openStore, type Store } from '../src/store/index.js';
import { loadContract, type Contract } from './contract.js';
import { openSse } from './sse-client.js';

export const contract: Contract = loadContract('dockrev');

/** Every (operationId, status) pair a contract test saw, appended per process for the report. */
const coverageDir = join(projectRoot(), '.tmp', 'contract-coverage');
mkdirSync(coverageDir, { recursive: true });
const coverageFile = join(coverageDir, `dockrev-${process.pid}.jsonl`);

export function recordCoverage(spec: 'dockrev' | 'supervisor', operationId: string, status: number): void {
  appendFileSync(coverageFile, `${JSON.stringify({ spec, operationId, status })}\n`);
}

export interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string | number | boolean>;
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body`. */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Forward-auth user to send (X-Forwarded-User). */
  user?: string;
  groups?: string;
  /** The test provokes a 500 on purpose (e.g. the database is gone). */
  allowInternalError?: boolean;
}

export interface CallResult {
  status: number;
  body: any;
  text: string;
  headers: Record<string, string>;
}

export interface Api {
  call(operationId: string, options?: CallOptions): Promise<CallResult>;
  raw(): supertest.Agent;
  /** Starts a real listener (for streams) and returns its base URL. */
  listen(): Promise<string>;
  store: Store;
  engine: Engine;
  close(): Promise<void>;
}

/** Polls a job until it is no longer queued or running, and returns it. */
export async function waitForJob(
  readJob: (jobId: string) => Promise<any>,
  jobId: string,
  { timeoutMs = 60_000, pollMs = 100 }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await readJob(jobId);
    if (job.status !== 'running' && job.status !== 'queued') return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Reads a job through GET /api/jobs/{jobId} as the given forward-auth user. */
export function jobReader(api: Api, user = 'ops'): (jobId: string) => Promise<any> {
  return async (jobId) => (await api.call('getJob', { user, params: { jobId } })).body.job;
}

export function urlFor(operationId: string, params: Record<string, string> = {}): string {
  const op = contract.operations.get(operationId);
  assert.ok(op, `unknown operation ${operationId}`);
  return op.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    assert.ok(params[name] !== undefined, `${operationId}: missing path parameter ${name}`);
    return encodeURIComponent(params[name]!);
  });
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse an existing database file (restart tests). */
  sqlitePath?: string;
  databaseUrl?: string;
  /** Where the server logs (default: nowhere); a test that reads the logs passes its own. */
  logger?: Logger;
  /** Engine options besides configuration, store and logger (e.g. retry tuning). */
  engine?: Pick<EngineOptions, 'githubRetry' | 'jobOwnership'>;
  /** The listener's timeouts (`listen()`), production values by default. */
  timeouts?: Partial<ListenerTimeouts>;
}

/** Starts the real app on a fresh SQLite file (or the given database) with test-quiet logging. */
export async function startApi(options: StartOptions = {}): Promise<Api> {
  const dir = options.sqlitePath ? undefined : mkdtempSync(join(tmpdir(), 'dockrev-contract-'));
  const sqlitePath = options.sqlitePath ?? join(dir!, 'dockrev.sqlite3');
  // GitHub is a local double in every test that talks to it; by default nothing answers there.
  const config = loadConfig({ DOCKREV_DB_PATH: sqlitePath, DOCKREV_LOG_LEVEL: 'silent', DOCKREV_GITHUB_API_BASE_URL: 'http://127.0.0.1:9', ...options.env });
  const store = await openStore({ databaseUrl: options.databaseUrl, sqlitePath });
  const logger = options.logger ?? pino({ level: 'silent' });
  const metrics = new Metrics({ processMetrics: false });
  const engine = await Engine.create({ config, store, logger, registry: { onRequest: metrics.registryRequest }, ...options.engine });
  const app = await createApp({ config, store, engine, logger, metrics });
  const agent = supertest(app);
  let server: Server | undefined;
  const listen = async () => {
    server ??= await new Promise<Server>((resolve) => {
      const listening = createListener(app, { ...DEFAULT_TIMEOUTS, ...options.timeouts }).listen(0, '127.0.0.1', () => resolve(listening));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const checked = (operationId: string, call: CallOptions, result: CallResult): CallResult => {
    const op = contract.operations.get(operationId)!;
    recordCoverage('dockrev', operationId, result.status);
    const problems = contract.checkResponse(operationId, result.status, result.headers['content-type'], result.body);
    const label = `${op.method.toUpperCase()} ${op.path} → ${result.status}`;
    assert.deepEqual(problems, [], `${label} breaks the contract:\n${problems.join('\n')}\nbody: ${result.text}`);
    if (!call.allowInternalError) assert.notEqual(result.status, 500, `${label}: ${result.text}`);
    return result;
  };

  // A stream that opened is closed at once: these sweeps only look at status and headers.
  const streamCall = async (operationId: string, url: string, call: CallOptions): Promise<CallResult> => {
    const query = new URLSearchParams(Object.entries(call.query ?? {}).map(([name, value]) => [name, String(value)]));
    const headers: Record<string, string> = { ...call.headers };
    if (call.user !== undefined) headers['X-Forwarded-User'] = call.user;
    if (call.groups !== undefined) headers['Remote-Groups'] = call.groups;
    const connection = await openSse(await listen(), query.size > 0 ? `${url}?${query}` : url, headers);
    if (connection.status === 200) connection.close();
    await connection.ended;
    const isJson = connection.headers['content-type']?.startsWith('application/json');
    const body = isJson ? JSON.parse(connection.body) : connection.status === 200 ? '' : connection.body;
    return checked(operationId, call, { status: connection.status, body, text: connection.body, headers: connection.headers as Record<string, string> });
  };

  return {
    store,
    engine,
    raw: () => supertest.agent(app),
    listen,
    async call(operationId, call = {}) {
      const op = contract.operations.get(operationId);
      assert.ok(op, `unknown operation ${operationId}`);
      const url = urlFor(operationId, call.params);
      const streams = Object.values(op.responses).some((response) => response.content?.['text/event-stream']);
      if (streams) return streamCall(operationId, url, call);
      let request = agent[op.method as 'get'](url);
      if (call.query) request = request.query(call.query);
      if (call.user !== undefined) request = request.set('X-Forwarded-User', call.user);
      if (call.groups !== undefined) request = request.set('Remote-Groups', call.groups);
      for (const [name, value] of Object.entries(call.headers ?? {})) request = request.set(name, value);
      if (call.rawBody !== undefined) {
        request = request.set('Content-Type', call.contentType ?? 'application/json').send(call.rawBody);
      } else if (call.body !== undefined) {
        request = request.set('Content-Type', call.contentType ?? 'application/json').send(JSON.stringify(call.body));
      }
      const response = await request;
      const contentType = response.headers['content-type'] as string | undefined;
      const body = contentType?.startsWith('application/json') ? response.body : response.text;
      return checked(operationId, call, { status: response.status, body, text: response.text, headers: response.headers as Record<string, string> });
    },
    async close() {
      await engine.stop();
      if (server) {
        server.closeAllConnections();
        await new Promise((resolve) => server!.close(resolve));
      }
      await store.close().catch(() => undefined);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
