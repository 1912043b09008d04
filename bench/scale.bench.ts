// `make bench`, the scale series: what a check and an API read cost as the host grows from 50 to
// 2 000 running services (M = ⌈N/4⌉ repositories, Compose projects of 10), and whether another
// project restarting a container every 100 ms on the same engine changes any of it.
//
// One fleet grows through the series (containers made through the Engine API with Compose's
// labels, no network each; images built offline from the infra base image and pushed through a
// counting registry proxy). At each N a fresh server (SQLite) discovers the fleet, then: the
// floor (M manifest HEADs from a plain client) and a cold and warm checks; GET /api/stacks
// against a bare express route with the same body; the same again while a churn project
// restarts its container every 100 ms; at BENCH_SSE_AT services, BENCH_SSE_SUBSCRIBERS streams
// on /api/jobs/events while a check runs. Everything made is removed at the end, also on failure.
//
// Env: BENCH_SCALE_SERIES (50,200,1000,2000), BENCH_SCALE_WARM_CHECKS (3), BENCH_FLOOR_RUNS (5),
// BENCH_READ_SECONDS (5), BENCH_READ_ROUNDS (2), BENCH_SSE_AT (1000; 0 = never),
// BENCH_SSE_SUBSCRIBERS (1000), BENCH_CHURN_MS (100), BENCH_SCALE_OUT (.tmp/bench/scale.json).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadInfraEnv, RegistryProxy } from '../test/fixtures/index.js';
import { COMPOSE_LABELS } from '../src/engine/docker/containers.js';
import { DockerProxy } from './docker-proxy.js';
import { teardownOnExit } from './lib/teardown.js';
import { intEnv, log, median, ROOT, round, sleep } from './lib/env.js';
import { measureFanout, type FanoutResult } from './lib/fanout.js';
import { Fleet } from './lib/fleet.js';
import { compareReads, startBareRoute, type ReadComparison } from './lib/reads.js';
import { measureFloor, registryStats, timeRegistryProxy, type TimedRegistryProxy } from './lib/registry-trace.js';
import { followJob, startServer, stopServer, waitInferenceIdle, waitJob, type Api } from './lib/server.js';
import { cpuMs, memory, resetPeak } from './proc.js';

const SERIES = (process.env.BENCH_SCALE_SERIES ?? '50,200,1000,2000').split(',').map((entry) => Number(entry.trim()));
const PROJECT_SIZE = 10;
const SERVICES_PER_REPO = 4;
const WARM_CHECKS = intEnv('BENCH_SCALE_WARM_CHECKS', 3);
const FLOOR_RUNS = intEnv('BENCH_FLOOR_RUNS', 5);
const READ_SECONDS = intEnv('BENCH_READ_SECONDS', 5);
const READ_ROUNDS = intEnv('BENCH_READ_ROUNDS', 2);
const READ_CONNECTIONS = 10;
const SSE_AT = intEnv('BENCH_SSE_AT', 1000, 0);
const SSE_SUBSCRIBERS = intEnv('BENCH_SSE_SUBSCRIBERS', 1000);
const CHURN_MS = intEnv('BENCH_CHURN_MS', 100);
/** Containers of the churn project: a restart takes several hundred ms on a loaded engine. */
const CHURN_CONTAINERS = 20;
const OUT = resolve(ROOT, process.env.BENCH_SCALE_OUT ?? '.tmp/bench/scale.json');
const RUN_ID = `s${Date.now().toString(36)}${process.pid.toString(36)}`;

for (const n of SERIES) {
  if (!Number.isInteger(n) || n <= 0 || n % PROJECT_SIZE !== 0) throw new Error(`BENCH_SCALE_SERIES: ${n} is not a positive multiple of ${PROJECT_SIZE}`);
}
/** M: service i runs repository floor(i / 4), so N services use ⌈N/4⌉ repositories. */
const repositoriesFor = (n: number) => Math.ceil(n / SERVICES_PER_REPO);

interface CheckFigures {
  label: string;
  wallMs: number;
  floorMs: number;
  ratio: number;
  registryRequests: number;
  dockerCalls: number;
  dockerOps: Record<string, number>;
  cpuMs: number;
  peakRssMb: number;
  loadavg1: number;
}

interface Point {
  services: number;
  repositories: number;
  discoveryMs: number;
  checks: CheckFigures[];
  warm: { medianMs: number; medianRatio: number; registryRequests: number; dockerCalls: number; cpuMs: number; peakRssMb: number };
  reads: ReadComparison;
  churn: { restarts: number; perSecond: number; reads: ReadComparison; check: CheckFigures; readsChangePct: number };
  fanout?: FanoutResult;
  lifetimePeakRssMb: number;
  loadavg: number[];
}

/** One check through the API, followed by its event stream; counted at both proxies. */
async function measuredCheck(label: string, api: Api, pid: number, registry: TimedRegistryProxy, dockerProxy: DockerProxy, agent: Agent, repositories: number): Promise<CheckFigures> {
  const floor = await measureFloor(agent, registry, repositories, FLOOR_RUNS);
  registry.reset();
  dockerProxy.reset();
  resetPeak(pid);
  const cpu0 = cpuMs(pid);
  const started = performance.now();
  const { checkId } = await api.call<{ checkId: string }>('POST', '/api/checks', { scope: 'all' });
  // Version inference follows a check of `latest` digests: only the requests up to the job's end are the check's.
  let checkOwn: { count: number; perf: number } | undefined;
  const { job, seenPerf } = await followJob(api, checkId, undefined, () => (checkOwn = { count: registry.proxy.requests.length, perf: performance.now() }));
  if (job.status !== 'success') throw new Error(`check ${checkId} ${job.status}: ${JSON.stringify(job.summary).slice(0, 500)}`);
  const wallMs = round(seenPerf - started);
  const ops: Record<string, number> = {};
  for (const call of dockerProxy.calls) ops[`${call.method} ${call.op}`] = (ops[`${call.method} ${call.op}`] ?? 0) + 1;
  const figures: CheckFigures = {
    label,
    wallMs,
    floorMs: floor.bestMs,
    ratio: round(wallMs / floor.bestMs, 2),
    registryRequests: registryStats(registry, started, checkOwn).total,
    dockerCalls: dockerProxy.calls.length,
    dockerOps: ops,
    cpuMs: round(cpuMs(pid) - cpu0),
    peakRssMb: round(memory(pid).peakKb / 1024),
    loadavg1: round(loadavg()[0]!, 2),
  };
  // The snapshots the check enqueued must not share the registry with the next floor or check.
  await waitInferenceIdle(api);
  log(`  ${label}: ${wallMs} ms (${figures.ratio}× floor ${floor.bestMs} ms), ${figures.registryRequests} registry requests, ${figures.dockerCalls} docker calls, ${figures.cpuMs} ms CPU, peak ${figures.peakRssMb} MB, load ${figures.loadavg1}`);
  return figures;
}

/**
 * Restarts a container of another Compose project every `everyMs` until stopped: round robin
 * over the project's containers, as a restart itself takes longer than that on a loaded engine.
 */
function churn(fleet: Fleet, containerIds: readonly string[], everyMs: number): { stop(): Promise<{ restarts: number; seconds: number }> } {
  let running = true;
  let restarts = 0;
  const busy = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  const started = performance.now();
  const loop = (async () => {
    for (let next = 0; running; next++) {
      const id = containerIds[next % containerIds.length]!;
      if (!busy.has(id)) {
        busy.add(id);
        const restart = fleet.docker
          .getContainer(id)
          .restart({ t: 0 })
          .then(() => (restarts += 1), () => undefined)
          .finally(() => {
            busy.delete(id);
            inFlight.delete(restart);
          });
        inFlight.add(restart);
      }
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await Promise.all(inFlight);
      return { restarts, seconds: (performance.now() - started) / 1000 };
    },
  };
}

async function measurePoint(n: number, ctx: { fleet: Fleet; work: string; dockerProxy: DockerProxy; registry: TimedRegistryProxy; churnIds: string[] }): Promise<Point> {
  const repositories = repositoriesFor(n);
  const dir = join(ctx.work, `n${n}`);
  await mkdir(dir, { recursive: true });
  const server = await startServer(dir, ctx.dockerProxy.dockerHost);
  const pid = server.child.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: 7 });
  try {
    const t0 = performance.now();
    const { jobId } = await server.api.call<{ jobId: string }>('POST', '/api/discovery/scan');
    const discovery = await waitJob(server.api, jobId, 50);
    if (discovery.job.status !== 'success') throw new Error(`discovery ${discovery.job.status}: ${JSON.stringify(discovery.job.summary).slice(0, 500)}`);
    const discoveryMs = round(discovery.seenPerf - t0);
    const { stacks } = await server.api.call<{ stacks: Array<{ services: number }> }>('GET', '/api/stacks');
    const seen = stacks.reduce((sum, stack) => sum + stack.services, 0);
    if (seen !== n) throw new Error(`discovery found ${seen} services, expected ${n}`);
    log(`N=${n}: ${stacks.length} stacks discovered in ${discoveryMs} ms; RSS ${round(memory(pid).rssKb / 1024)} MB`);

    const check = (label: string) => measuredCheck(label, server.api, pid, ctx.registry, ctx.dockerProxy, agent, repositories);
    const checks = [await check('cold')];
    for (let i = 0; i < WARM_CHECKS; i++) checks.push(await check(`warm #${i + 1}`));
    const warm = checks.slice(1);

    const body = JSON.stringify(await server.api.call('GET', '/api/stacks'));
    const bare = await startBareRoute(dir, body);
    let reads: ReadComparison;
    let churned: Point['churn'];
    try {
      const target = { url: `${server.api.base}/api/stacks`, pid };
      const options = { seconds: READ_SECONDS, connections: READ_CONNECTIONS, rounds: READ_ROUNDS };
      reads = await compareReads(target, bare, options);
      log(`  GET /api/stacks: ${reads.dockrev.map((r) => r.requestsPerSecond).join('/')} req/s, bare ${reads.bare.map((r) => r.requestsPerSecond).join('/')} → ${reads.ratio}× (CPU per request ${reads.cpuRatio}×: ${reads.dockrev[0]!.cpuMsPer1000} vs ${reads.bare[0]!.cpuMsPer1000} ms per 1000); p99 ${reads.dockrevP99Ms} ms (bare ${reads.bareP99Ms} ms)`);
      const churning = churn(ctx.fleet, ctx.churnIds, CHURN_MS);
      let churnReads: ReadComparison;
      let churnCheck: CheckFigures;
      let churnStats: { restarts: number; seconds: number };
      try {
        await sleep(500);
        churnReads = await compareReads(target, bare, options);
        churnCheck = await check('warm, churn');
      } finally {
        churnStats = await churning.stop();
      }
      const mean = (comparison: ReadComparison) => comparison.dockrev.reduce((sum, run) => sum + run.requestsPerSecond, 0) / comparison.dockrev.length;
      churned = {
        restarts: churnStats.restarts,
        perSecond: round(churnStats.restarts / churnStats.seconds, 1),
        reads: churnReads,
        check: churnCheck,
        readsChangePct: round(((mean(churnReads) - mean(reads)) * 100) / mean(reads)),
      };
      log(`  under churn (${churned.perSecond} restarts/s): ${churnReads.dockrev.map((r) => r.requestsPerSecond).join('/')} req/s (${churned.readsChangePct} %), ${churnReads.ratio}× bare; p99 ${churnReads.dockrevP99Ms} ms`);
    } finally {
      await bare.stop();
    }

    let fanout: FanoutResult | undefined;
    if (n === SSE_AT) {
      fanout = await measureFanout(
        server.api.base,
        SSE_SUBSCRIBERS,
        async () => {
          const { checkId } = await server.api.call<{ checkId: string }>('POST', '/api/checks', { scope: 'all' });
          await waitJob(server.api, checkId, 100);
        },
        (data) => data.type === 'job_progress' && data.phase === 'done',
        '"phase":"done"',
      );
      log(`  SSE fan-out to ${fanout.connected}/${fanout.subscribers}: ${fanout.eventsToAll}/${fanout.events} events reached all; write → last subscriber p50 ${fanout.p50Ms} ms, p99 ${fanout.p99Ms} ms, max ${fanout.maxMs} ms`);
    }

    return {
      services: n,
      repositories,
      discoveryMs,
      checks,
      warm: {
        medianMs: round(median(warm.map((c) => c.wallMs))),
        medianRatio: round(median(warm.map((c) => c.ratio)), 2),
        registryRequests: Math.max(...warm.map((c) => c.registryRequests)),
        dockerCalls: Math.max(...warm.map((c) => c.dockerCalls)),
        cpuMs: round(median(warm.map((c) => c.cpuMs))),
        peakRssMb: Math.max(...warm.map((c) => c.peakRssMb)),
      },
      reads,
      churn: churned,
      ...(fanout ? { fanout } : {}),
      lifetimePeakRssMb: round(memory(pid).peakKb / 1024),
      loadavg: loadavg().map((x) => round(x, 2)),
    };
  } finally {
    agent.destroy();
    await stopServer(server.child);
  }
}

function printTable(points: Point[]): void {
  const header = ['N', 'M', 'warm ms', '×floor', 'registry', 'docker', 'CPU ms', 'peak RSS', 'stacks req/s (bare)', '×bare', 'p99 ms (bare)', 'churn req/s (Δ)', 'churn p99', 'churn docker', 'load'];
  const rows = points.map((p) => [
    String(p.services),
    String(p.repositories),
    String(p.warm.medianMs),
    `${p.warm.medianRatio}×`,
    String(p.warm.registryRequests),
    String(p.warm.dockerCalls),
    String(p.warm.cpuMs),
    `${p.lifetimePeakRssMb} MB`,
    `${Math.round(median(p.reads.dockrev.map((r) => r.requestsPerSecond)))} (${Math.round(median(p.reads.bare.map((r) => r.requestsPerSecond)))})`,
    `${p.reads.ratio}×`,
    `${p.reads.dockrevP99Ms} (${p.reads.bareP99Ms})`,
    `${Math.round(median(p.churn.reads.dockrev.map((r) => r.requestsPerSecond)))} (${p.churn.readsChangePct > 0 ? '+' : ''}${p.churn.readsChangePct} %)`,
    String(p.churn.reads.dockrevP99Ms),
    String(p.churn.check.dockerCalls),
    String(p.loadavg[0]),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = ['', `Dockrev scale series — ${new Date().toISOString()}, ${cpus().length} CPUs, warm check median of ${WARM_CHECKS}, GET /api/stacks ${READ_CONNECTIONS} connections × ${READ_SECONDS} s × ${READ_ROUNDS}`, line(header), ...rows.map(line)];
  for (const p of points) if (p.fanout) out.push(`SSE fan-out at N=${p.services}: ${p.fanout.connected} subscribers, ${p.fanout.eventsToAll}/${p.fanout.events} events to all; write → last subscriber p50 ${p.fanout.p50Ms} ms, p99 ${p.fanout.p99Ms} ms, max ${p.fanout.maxMs} ms`);
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<void> {
  const infra = loadInfraEnv();
  const socketPath = infra.dockerHost.replace(/^unix:\/\//, '');
  const work = await mkdtemp(join(tmpdir(), `dockrev-scale-${RUN_ID}-`));
  const cleanups = teardownOnExit();
  cleanups.push({ what: 'remove work folder', run: () => rm(work, { recursive: true, force: true }) });
  try {
    const registry = timeRegistryProxy(await RegistryProxy.start(infra.registries.open.host));
    cleanups.push({ what: 'stop registry proxy', run: () => registry.proxy.stop() });
    const runLabel: [string, string] = ['dockrev.bench.run', RUN_ID];
    const dockerProxy = await DockerProxy.start(join(work, 'docker.sock'), infra.dockerHost, runLabel.join('='));
    cleanups.push({ what: 'stop docker proxy', run: () => dockerProxy.stop() });
    const fleet = new Fleet({ socketPath, baseImage: infra.baseImage, registryHost: registry.proxy.host, runId: RUN_ID, dir: join(work, 'projects'), projectSize: PROJECT_SIZE, servicesPerRepo: SERVICES_PER_REPO, runLabel });
    cleanups.push({ what: 'remove fleet', run: () => fleet.remove() });

    // The churn project: Compose labels of its own project, not the run label, so the server
    // never lists it but its events reach the server's event stream.
    const churnName = `churn-${RUN_ID}`;
    const churnIds: string[] = [];
    cleanups.push({ what: 'remove churn containers', run: () => Promise.all(churnIds.map((id) => fleet.docker.getContainer(id).remove({ force: true }))) });
    for (let i = 1; i <= CHURN_CONTAINERS; i++) {
      const container = await fleet.docker.createContainer({
        name: `${churnName}-app-${i}`,
        Image: infra.baseImage,
        Labels: { [COMPOSE_LABELS.project]: churnName, [COMPOSE_LABELS.service]: 'app', [COMPOSE_LABELS.oneoff]: 'False', 'com.docker.compose.container-number': String(i) },
        HostConfig: { NetworkMode: 'none' },
      });
      churnIds.push(container.id);
      await container.start();
    }

    const points: Point[] = [];
    const tImages = performance.now();
    await fleet.publishImages(repositoriesFor(Math.max(...SERIES)));
    log(`images: ${repositoriesFor(Math.max(...SERIES))} repositories built and pushed in ${round((performance.now() - tImages) / 1000, 1)} s`);
    for (const n of [...SERIES].sort((a, b) => a - b)) {
      const tUp = performance.now();
      await fleet.grow(n);
      log(`fleet: ${n} services running (${round((performance.now() - tUp) / 1000, 1)} s to grow); load ${loadavg()[0]!.toFixed(2)}`);
      await sleep(2000);
      points.push(await measurePoint(n, { fleet, work, dockerProxy, registry, churnIds }));
    }
    await mkdir(dirname(OUT), { recursive: true });
    await writeFile(OUT, `${JSON.stringify({ runId: RUN_ID, date: new Date().toISOString(), machine: { node: process.version, cpus: cpus().length, kernel: release() }, points }, null, 2)}\n`);
    printTable(points);
    log(`JSON: ${OUT}`);
  } finally {
    await cleanups.run();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] FAILED: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
