// The registry side of a benchmark: a counting proxy whose requests are timed, and the floor (the
// same manifest HEADs the engine makes, from a plain keep-alive client).
import { request as httpRequest, type Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { MANIFEST_ACCEPT } from '../../src/engine/registry/manifest.js';
import { mapConcurrently } from '../../src/concurrency.js';
import type { RegistryProxy } from '../../test/fixtures/index.js';
import { round } from './env.js';

/** The engine's per-registry-host limit (RegistryClient perHostConcurrency default). */
export const ENGINE_CONCURRENCY = 7;

// ------------------------------------------------------------------ registry proxy timing

/**
 * The fixture proxy records each request when its answer arrives; this adds when it arrived, so a
 * check's registry window, request latency and concurrency can be told apart from the rest.
 */
export interface TracedRequest {
  method: string;
  path: string;
  /** performance.now() when the request arrived and when the answer was sent. */
  start: number;
  end: number;
}

export interface TimedRegistryProxy {
  proxy: RegistryProxy;
  trace: TracedRequest[];
  reset(): void;
}

export function timeRegistryProxy(proxy: RegistryProxy): TimedRegistryProxy {
  const trace: TracedRequest[] = [];
  // The fixture keeps its http.Server private; a listener placed before its own sees each request
  // arrive, and the response's 'finish' is when the answer has been handed to the client.
  const server = (proxy as unknown as { server?: Server }).server;
  if (!server) throw new Error('registry proxy has no server');
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    res.once('finish', () => trace.push({ method: req.method ?? '', path: req.url ?? '', start, end: performance.now() }));
  });
  return {
    proxy,
    trace,
    reset() {
      proxy.reset();
      trace.length = 0;
    },
  };
}

export interface RegistryStats {
  byMethodKind: Record<string, number>;
  total: number;
  digestHeads: number;
  manifestGets: number;
  blobGets: number;
  tokens: number;
  non2xx: number;
  /** Distinct repository:tag seen in manifest HEADs. */
  distinctTagsHeaded: number;
  /** Repositories HEADed more than once. */
  repeatedHeads: number;
  /** ms after the reference instant: first request in, last answer out. */
  windowStartMs?: number;
  windowEndMs?: number;
  meanLatencyMs?: number;
  maxInFlight: number;
  /** Every request, ms after the reference instant (JSON only). */
  trace: Array<{ method: string; path: string; startMs: number; endMs: number }>;
}

/** `upTo`: only the first requests answered (the check's own, when version inference follows it). */
export function registryStats(timed: TimedRegistryProxy, referencePerf: number, upTo?: { count: number; perf: number }): RegistryStats {
  const requests = upTo ? timed.proxy.requests.slice(0, upTo.count) : timed.proxy.requests;
  const trace = upTo ? timed.trace.filter((r) => r.start <= upTo.perf) : timed.trace;
  const byMethodKind: Record<string, number> = {};
  for (const r of requests) byMethodKind[`${r.method} ${r.kind}`] = (byMethodKind[`${r.method} ${r.kind}`] ?? 0) + 1;
  const heads = requests.filter((r) => r.method === 'HEAD' && r.kind === 'manifest');
  const headCounts = new Map<string, number>();
  for (const r of heads) headCounts.set(r.path, (headCounts.get(r.path) ?? 0) + 1);
  // In-flight maximum by a sweep over arrivals and answers.
  const starts = trace.map((r) => r.start);
  const ends = trace.map((r) => r.end);
  const events = [...starts.map((t) => [t, 1] as const), ...ends.map((t) => [t, -1] as const)].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inFlight = 0;
  let maxInFlight = 0;
  for (const [, delta] of events) {
    inFlight += delta;
    maxInFlight = Math.max(maxInFlight, inFlight);
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    byMethodKind,
    total: requests.length,
    digestHeads: heads.length,
    manifestGets: requests.filter((r) => r.method === 'GET' && r.kind === 'manifest').length,
    blobGets: requests.filter((r) => r.kind === 'blob').length,
    tokens: requests.filter((r) => r.kind === 'token').length,
    non2xx: requests.filter((r) => r.status < 200 || r.status >= 300).length,
    distinctTagsHeaded: headCounts.size,
    repeatedHeads: [...headCounts.values()].filter((n) => n > 1).length,
    windowStartMs: starts.length ? round(Math.min(...starts) - referencePerf) : undefined,
    windowEndMs: ends.length ? round(Math.max(...ends) - referencePerf) : undefined,
    meanLatencyMs: ends.length ? round((sum(ends) - sum(starts)) / ends.length, 2) : undefined,
    maxInFlight,
    trace: trace.map((r) => ({ method: r.method, path: r.path, startMs: round(r.start - referencePerf), endMs: round(r.end - referencePerf) })),
  };
}

// ------------------------------------------------------------------ floor

/** M manifest HEADs by a plain keep-alive http.Agent, `concurrency` at a time; wall ms. */
export async function floorRun(agent: Agent, host: string, concurrency: number, repositories: number): Promise<{ ms: number; statuses: number[] }> {
  const [hostname, port] = host.split(':');
  const paths = Array.from({ length: repositories }, (_, i) => `/v2/bench/r${i}/manifests/latest`);
  const started = performance.now();
  const statuses = await mapConcurrently(
    paths,
    concurrency,
    (path) =>
      new Promise<number>((resolvePromise, reject) => {
        const req = httpRequest({ agent, host: hostname, port: Number(port), method: 'HEAD', path, headers: { accept: MANIFEST_ACCEPT } }, (res) => {
          res.resume();
          res.on('end', () => resolvePromise(res.statusCode ?? 0));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
  );
  return { ms: performance.now() - started, statuses };
}

export interface FloorMeasurement {
  bestMs: number;
  runsMs: number[];
}

/** `runs` floor runs through the proxy; every run must be exactly `repositories` HEADs answered 200. */
export async function measureFloor(agent: Agent, registry: TimedRegistryProxy, repositories: number, runs: number): Promise<FloorMeasurement & { lastRun: RegistryStats }> {
  const runsMs: number[] = [];
  let lastRun: RegistryStats | undefined;
  for (let run = 0; run < runs; run++) {
    registry.reset();
    const { ms, statuses } = await floorRun(agent, registry.proxy.host, ENGINE_CONCURRENCY, repositories);
    if (statuses.some((s) => s !== 200)) throw new Error(`floor: HEAD statuses ${[...new Set(statuses)].join(',')}`);
    if (registry.proxy.count() !== repositories) throw new Error(`floor: ${registry.proxy.count()} registry requests, expected ${repositories}`);
    runsMs.push(round(ms, 2));
    lastRun = registryStats(registry, 0);
  }
  return { bestMs: Math.min(...runsMs), runsMs, lastRun: { ...lastRun!, trace: [] } };
}
