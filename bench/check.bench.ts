// `make bench`: the cost of a full check of N running services over M repositories.
//
// N containers in Compose projects on the infra Docker engine, each service's image one of M
// repositories on the open loopback registry, all image references through a counting proxy so
// that Docker, Compose and Dockrev are counted exactly. A Dockrev server (node dist/src/main.js,
// SQLite in a temp file) is spawned and driven over HTTP: discovery, then a cold check and warm
// checks. Beside each check: the floor — the M manifest HEADs issued directly by a plain keep-alive
// client at the engine's per-host concurrency (7), through the same proxy, best of 5.
//
// Env: BENCH_SERVICES (200), BENCH_REPOS (50), BENCH_PROJECT_SIZE (10 services per project),
// BENCH_WARM_CHECKS (5), BENCH_FLOOR_RUNS (5), BENCH_POLLED_CHECKS (1; more warm checks followed by
// polling GET /api/jobs/{id} instead of the job's event stream), BENCH_POLL_MS (20, their interval), BENCH_UP_CONCURRENCY (4), BENCH_SETTLE_MS (3000),
// BENCH_OUT (.tmp/bench/check.json). Needs scripts/infra/up.sh to have run (bench/run.sh does it).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  createComposeProject,
  docker,
  loadInfraEnv,
  RegistryProxy,
  type ComposeProject,
} from '../test/fixtures/index.js';
import { DockerProxy } from './docker-proxy.js';
import { teardownOnExit } from './lib/teardown.js';
import { intEnv, log, median, ROOT, round, sleep } from './lib/env.js';
import { ENGINE_CONCURRENCY, measureFloor, registryStats, timeRegistryProxy, type FloorMeasurement, type RegistryStats } from './lib/registry-trace.js';
import { bareNodeRssKb, followJob, startServer, stopServer, waitInferenceIdle, waitJob, type Api, type ApiJob } from './lib/server.js';
import { cpuMs, io, memory, resetPeak, systemCpu, type IoReading } from './proc.js';
import { mapConcurrently } from '../src/concurrency.js';

const N = intEnv('BENCH_SERVICES', 200);
const M = intEnv('BENCH_REPOS', 50);
const PROJECT_SIZE = intEnv('BENCH_PROJECT_SIZE', 10);
const WARM_CHECKS = intEnv('BENCH_WARM_CHECKS', 5);
const FLOOR_RUNS = intEnv('BENCH_FLOOR_RUNS', 5);
const POLL_MS = intEnv('BENCH_POLL_MS', 20);
/** Warm checks followed by polling instead of the event stream: what polling costs the server. */
const POLLED_CHECKS = intEnv('BENCH_POLLED_CHECKS', 1, 0);
const UP_CONCURRENCY = intEnv('BENCH_UP_CONCURRENCY', 4);
/** Pause after `compose up` so that starting 200 containers has settled before anything is timed. */
const SETTLE_MS = intEnv('BENCH_SETTLE_MS', 3000, 0);
const OUT = resolve(ROOT, process.env.BENCH_OUT ?? '.tmp/bench/check.json');
const TARGET_RATIO = 2;
const TARGET_RSS_MB = 100;

if (M > N) throw new Error(`BENCH_REPOS (${M}) must not exceed BENCH_SERVICES (${N}): every repository needs a service`);

const RUN_ID = `b${Date.now().toString(36)}${process.pid.toString(36)}`;

// ------------------------------------------------------------------ one check

interface Phases {
  /** ms after the POST was sent. */
  jobStarted?: number;
  prepared?: number;
  firstServiceDone?: number;
  lastServiceDone?: number;
  checkFinishedLog?: number;
  jobFinished?: number;
  finishSeenByPoll: number;
}

interface CheckResult {
  label: string;
  /** Version inference's snapshots after the check (the first check of `latest` digests). */
  inferenceAfter?: { peakTasks: number; ms: number; registryRequests: number };
  pollMs: number;
  jobId: string;
  status: string;
  wallMs: number;
  jobMs?: number;
  postMs: number;
  /** Best floor run measured right before this check. */
  floorMs: number;
  ratio: number;
  jobRatio?: number;
  summary: { servicesChecked?: unknown; servicesWithCandidate?: unknown; servicesFailed?: unknown };
  registry: RegistryStats;
  minimum: { digestRequests: number; tokens: number; total: number };
  extraRequests: number;
  docker: {
    calls: number;
    sumMs: number;
    windowStartMs?: number;
    windowEndMs?: number;
    byOp: ReturnType<DockerProxy['summary']>;
    trace: Array<{ op: string; startMs: number; endMs: number }>;
  };
  phases: Phases;
  logRows: number;
  progressEvents: number;
  loadavg1?: number;
  machineBusyPct?: number;
  occupancy?: ReturnType<typeof occupancy>;
  polls: number;
  server: { peakRssMb: number | null; anonMb: number; fileMb: number; rssAfterMb: number; maxSampledRssMb: number; cpuMs: number; io: IoReading | null };
}

const iso = (s: string | undefined) => (s ? Date.parse(s) : undefined);

/**
 * Within [from, to]: ms with at least one registry request in flight, with at least one Docker
 * call in flight, and with neither (the server's own work: database, JSON, scheduling).
 */
function occupancy(registry: Array<{ startMs: number; endMs: number }>, dockerCalls: Array<{ startMs: number; endMs: number }>, from: number, to: number) {
  const step = 0.5;
  let reg = 0;
  let dock = 0;
  let neither = 0;
  const inside = (list: Array<{ startMs: number; endMs: number }>, t: number) => list.some((x) => x.startMs <= t && t < x.endMs);
  for (let t = from; t < to; t += step) {
    const r = inside(registry, t);
    const d = inside(dockerCalls, t);
    if (r) reg += step;
    if (d) dock += step;
    if (!r && !d) neither += step;
  }
  return { spanMs: round(to - from), registryBusyMs: round(reg), dockerBusyMs: round(dock), neitherMs: round(neither) };
}

function phasesOf(job: ApiJob, postEpoch: number, seenMs: number): Phases {
  const rel = (epoch: number | undefined) => (epoch === undefined ? undefined : epoch - postEpoch);
  const progress = (job.logs ?? [])
    .filter((l) => l.level === 'event')
    .map((l) => ({ ts: Date.parse(l.ts), event: JSON.parse(l.msg) as { type?: string; phase?: string; current?: number; total?: number } }))
    .filter((e) => e.event.type === 'job_progress');
  const scanning = progress.filter((e) => e.event.phase === 'scanning');
  const finishedLog = (job.logs ?? []).find((l) => l.msg.startsWith('check finished'));
  return {
    jobStarted: rel(iso(job.startedAt)),
    prepared: rel(progress.find((e) => e.event.phase === 'prepare')?.ts),
    firstServiceDone: rel(scanning[0]?.ts),
    lastServiceDone: rel(scanning.find((e) => e.event.current === e.event.total)?.ts ?? scanning[scanning.length - 1]?.ts),
    checkFinishedLog: rel(finishedLog ? Date.parse(finishedLog.ts) : undefined),
    jobFinished: rel(iso(job.finishedAt)),
    finishSeenByPoll: round(seenMs),
  };
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const infra = loadInfraEnv();
  const composeBin = infra.composeV2Bin ?? infra.composeBin;
  const projectsCount = Math.ceil(N / PROJECT_SIZE);
  await mkdir(dirname(OUT), { recursive: true });
  const work = await mkdtemp(join(tmpdir(), `dockrev-bench-${RUN_ID}-`));

  const cleanups = teardownOnExit();
  cleanups.push({ what: 'remove work folder', run: () => rm(work, { recursive: true, force: true }) });

  try {
    const t = { setup0: performance.now() };
    const registry = timeRegistryProxy(await RegistryProxy.start(infra.registries.open.host));
    cleanups.push({ what: 'stop registry proxy', run: () => registry.proxy.stop() });
    // The server sees only this run's containers: the infra engine is shared with other test runs.
    const dockerProxy = await DockerProxy.start(join(work, 'docker.sock'), infra.dockerHost, `dockrev.bench.run=${RUN_ID}`);
    cleanups.push({ what: 'stop docker proxy', run: () => dockerProxy.stop() });
    log(`run ${RUN_ID}: ${N} services in ${projectsCount} projects over ${M} repositories; registry ${infra.registries.open.host} via proxy ${registry.proxy.host}; compose: ${composeBin.join(' ')}`);

    // The server starts on an empty host (from its point of view): its start-up discovery and
    // runtime scan find nothing, so no registry request is made before the measured checks.
    const server = await startServer(work, dockerProxy.dockerHost);
    cleanups.push({ what: 'stop dockrev', run: () => stopServer(server.child) });
    const pid = server.child.pid!;
    await sleep(300);
    const idleRssMb = round(memory(pid).rssKb / 1024);
    log(`dockrev pid ${pid} listening on ${server.api.base}; idle RSS ${idleRssMb} MB`);

    // Images: one per repository with its own config (a LABEL on the infra base image), so every
    // repository has its own manifest digest; layers are shared. Built once and cached locally as
    // dockrev-bench/r<i>:cache, tagged to the proxy reference and pushed through the proxy.
    const tImages = performance.now();
    const refs = Array.from({ length: M }, (_, i) => `${registry.proxy.host}/bench/r${i}:latest`);
    cleanups.push({ what: 'untag bench images', run: () => docker(['image', 'rm', ...refs]).catch(() => undefined) });
    const baseId = (await docker(['image', 'inspect', '--format', '{{.Id}}', infra.baseImage])).stdout.trim();
    const buildDir = join(work, 'build');
    await mkdir(buildDir, { recursive: true });
    let built = 0;
    await mapConcurrently(refs, 4, async (ref, i) => {
      const cache = `dockrev-bench/r${i}:cache`;
      const parent = await docker(['image', 'inspect', '--format', '{{.Parent}} {{index .Config.Labels "dockrev.bench.base"}}', cache]).catch(() => undefined);
      if (!parent || !parent.stdout.includes(baseId)) {
        const dockerfile = join(buildDir, `r${i}.Dockerfile`);
        await writeFile(dockerfile, `FROM ${infra.baseImage}\nLABEL dockrev.bench.repo="r${i}" dockrev.bench.base="${baseId}"\n`);
        await docker(['build', '-q', '-t', cache, '-f', dockerfile, buildDir], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
        built += 1;
      }
      await docker(['tag', cache, ref]);
    });
    await mapConcurrently(refs, 8, (ref) => docker(['push', ref], { timeoutMs: 120_000 }));
    const imagesMs = performance.now() - tImages;
    log(`images: ${M} repositories pushed (${built} built) in ${round(imagesMs / 1000, 2)} s; ${registry.proxy.count()} registry requests`);

    // Compose projects: PROJECT_SIZE services each, service i runs repository i mod M.
    const tUp = performance.now();
    const projects: ComposeProject[] = [];
    for (let p = 0; p < projectsCount; p++) {
      const services: Record<string, { image: string; network_mode: string; labels: Record<string, string> }> = {};
      for (let i = p * PROJECT_SIZE; i < Math.min(N, (p + 1) * PROJECT_SIZE); i++) {
        services[`s${i}`] = { image: refs[i % M]!, network_mode: 'none', labels: { 'dockrev.bench.run': RUN_ID } };
      }
      projects.push(await createComposeProject({ name: `bench-${RUN_ID}-p${p}`, services, composeBin, stopTimeoutS: 0 }));
    }
    cleanups.push({
      what: 'remove bench containers',
      run: async () => {
        // Whatever `down` left behind (a failed up, a killed compose).
        const { stdout } = await docker(['ps', '-aq', '--filter', `label=dockrev.bench.run=${RUN_ID}`]);
        const ids = stdout.split('\n').filter(Boolean);
        if (ids.length > 0) await docker(['rm', '-f', ...ids], { timeoutMs: 120_000 });
      },
    });
    cleanups.push({ what: 'compose down', run: () => mapConcurrently(projects, UP_CONCURRENCY, (project) => project.dispose().catch((e: Error) => log(`down ${project.name}: ${e.message.split('\n')[0]}`))) });
    await mapConcurrently(projects, UP_CONCURRENCY, (project) => project.run(['up', '-d', '--no-color', '--quiet-pull'], 300_000));
    const running = (await docker(['ps', '-q', '--filter', `label=dockrev.bench.run=${RUN_ID}`])).stdout.split('\n').filter(Boolean).length;
    const upMs = performance.now() - tUp;
    log(`compose: ${running}/${N} containers running in ${projectsCount} projects after ${round(upMs / 1000, 2)} s`);
    if (running !== N) throw new Error(`expected ${N} running containers, found ${running}`);
    await sleep(SETTLE_MS);
    const setupRegistryRequests = registry.proxy.count();

    // Discovery through the API.
    const tDisc = performance.now();
    const { jobId: discoveryId } = await server.api.call<{ jobId: string }>('POST', '/api/discovery/scan');
    const discovery = await waitJob(server.api, discoveryId, POLL_MS);
    const discoveryMs = discovery.seenPerf - tDisc;
    if (discovery.job.status !== 'success') throw new Error(`discovery ${discovery.job.status}: ${JSON.stringify(discovery.job.summary)}`);
    const { stacks } = await server.api.call<{ stacks: Array<{ name: string; services: number }> }>('GET', '/api/stacks');
    const benchStacks = stacks.filter((s) => s.name.startsWith(`bench-${RUN_ID}-`));
    const foreign = stacks.filter((s) => !s.name.startsWith(`bench-${RUN_ID}-`));
    const benchServices = benchStacks.reduce((n, s) => n + s.services, 0);
    const afterDiscoveryRssMb = round(memory(pid).rssKb / 1024);
    const otherContainers = (await docker(['ps', '-q'])).stdout.split('\n').filter(Boolean).length - N;
    log(`discovery: ${benchStacks.length} stacks / ${benchServices} services in ${round(discoveryMs)} ms; RSS ${afterDiscoveryRssMb} MB; ${otherContainers} other containers on the engine, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    if (benchServices !== N) throw new Error(`discovery found ${benchServices} bench services, expected ${N}`);
    if (foreign.length > 0) throw new Error(`the server sees stacks that are not the benchmark's: ${foreign.map((s) => s.name).join(', ')}`);
    if (registry.proxy.count() !== setupRegistryRequests) log(`WARNING: ${registry.proxy.count() - setupRegistryRequests} registry requests before the first check`);

    // The floor: M HEADs by a plain keep-alive client at the engine's concurrency, best of
    // FLOOR_RUNS, measured again right before each check (the machine's load moves), so each
    // check is compared with the floor of its own moment.
    const agent = new Agent({ keepAlive: true, maxSockets: ENGINE_CONCURRENCY });
    const floors: FloorMeasurement[] = [];

    // The checks.
    const checks: CheckResult[] = [];
    const plan = [
      { label: 'cold', pollMs: 0 },
      ...Array.from({ length: WARM_CHECKS }, (_, i) => ({ label: `warm${WARM_CHECKS > 1 ? ` #${i + 1}` : ''}`, pollMs: 0 })),
      ...Array.from({ length: POLLED_CHECKS }, (_, i) => ({ label: `warm/poll${POLLED_CHECKS > 1 ? ` #${i + 1}` : ''}`, pollMs: POLL_MS })),
    ];
    for (const { label, pollMs } of plan) {
      const floor = await measureFloor(agent, registry, M, FLOOR_RUNS);
      floors.push({ bestMs: floor.bestMs, runsMs: floor.runsMs });
      const floorMs = floor.bestMs;
      log(`floor before ${label}: ${M} HEADs at concurrency ${ENGINE_CONCURRENCY}: best ${floorMs} ms of ${floor.runsMs.join(', ')}`);
      registry.reset();
      dockerProxy.reset();
      const peakReset = resetPeak(pid);
      const cpu0 = cpuMs(pid);
      const io0 = io(pid);
      const sys0 = systemCpu();
      let maxRssKb = memory(pid).rssKb;
      const sample = () => (maxRssKb = Math.max(maxRssKb, memory(pid).rssKb));

      const postEpoch = Date.now();
      const t0 = performance.now();
      const { checkId } = await server.api.call<{ checkId: string }>('POST', '/api/checks', { scope: 'all' });
      const postMs = performance.now() - t0;
      // Version inference starts once a check is over (its snapshots of the `latest` digests): the
      // requests answered by the time the job's last event arrived are the check's.
      let checkOwn: { count: number; perf: number } | undefined;
      const markEnd = () => (checkOwn = { count: registry.proxy.requests.length, perf: performance.now() });
      const { job, seenPerf, polls } = pollMs > 0 ? await waitJob(server.api, checkId, pollMs, sample) : await followJob(server.api, checkId, sample, markEnd);
      const wallMs = seenPerf - t0;
      const mem = memory(pid);
      const cpu = cpuMs(pid) - cpu0;
      const io1 = io(pid);
      const sys1 = systemCpu();
      const reg = registryStats(registry, t0, checkOwn);
      const dockerCalls = dockerProxy.calls;
      const jobMs = job.startedAt && job.finishedAt ? Date.parse(job.finishedAt) - Date.parse(job.startedAt) : undefined;
      const s = job.summary;
      const logs = job.logs ?? [];
      const result: CheckResult = {
        label,
        pollMs,
        jobId: checkId,
        status: job.status,
        wallMs: round(wallMs),
        jobMs,
        postMs: round(postMs),
        floorMs,
        ratio: round(wallMs / floorMs, 2),
        jobRatio: jobMs === undefined ? undefined : round(jobMs / floorMs, 2),
        summary: { servicesChecked: s.servicesChecked, servicesWithCandidate: s.servicesWithCandidate, servicesFailed: s.servicesFailed },
        registry: reg,
        minimum: { digestRequests: M, tokens: reg.tokens, total: M + reg.tokens },
        extraRequests: reg.total - (M + reg.tokens),
        docker: {
          calls: dockerCalls.length,
          sumMs: round(dockerCalls.reduce((a, d) => a + d.endMs - d.startMs, 0)),
          windowStartMs: dockerCalls.length ? round(Math.min(...dockerCalls.map((d) => d.startMs)) - t0) : undefined,
          windowEndMs: dockerCalls.length ? round(Math.max(...dockerCalls.map((d) => d.endMs)) - t0) : undefined,
          byOp: dockerProxy.summary(),
          trace: dockerCalls.map((d) => ({ op: `${d.method} ${d.op}`, startMs: round(d.startMs - t0), endMs: round(d.endMs - t0) })),
        },
        phases: phasesOf(job, postEpoch, wallMs),
        occupancy: undefined,
        logRows: logs.length,
        progressEvents: logs.filter((l) => l.level === 'event' && l.msg.includes('"job_progress"')).length,
        polls,
        server: {
          peakRssMb: peakReset ? round(mem.peakKb / 1024) : null,
          anonMb: round(mem.anonKb / 1024),
          fileMb: round(mem.fileKb / 1024),
          rssAfterMb: round(mem.rssKb / 1024),
          maxSampledRssMb: round(maxRssKb / 1024),
          cpuMs: round(cpu),
          io: io0 && io1 ? { syscr: io1.syscr - io0.syscr, syscw: io1.syscw - io0.syscw, writeBytes: io1.writeBytes - io0.writeBytes } : null,
        },
      };
      result.loadavg1 = round(loadavg()[0]!, 2);
      // Share of the machine's CPU time that was busy during the check (all processes, all CPUs).
      result.machineBusyPct = Math.round(((sys1.busy - sys0.busy) * 100) / Math.max(1, sys1.total - sys0.total));
      result.occupancy = occupancy(reg.trace, result.docker.trace, result.phases.jobStarted ?? 0, result.phases.jobFinished ?? wallMs);
      checks.push(result);
      if (job.status !== 'success') throw new Error(`check ${checkId} ${job.status}: ${JSON.stringify(s).slice(0, 1000)}`);
      log(`${label}: ${result.wallMs} ms, ${reg.total} registry requests, ${result.docker.calls} docker calls`);
      const inference = await waitInferenceIdle(server.api);
      if (inference.peakTasks > 0) {
        result.inferenceAfter = { ...inference, registryRequests: registry.proxy.requests.length - reg.total };
        log(`${label}: version inference afterwards: up to ${inference.peakTasks} snapshots in flight, ${result.inferenceAfter.registryRequests} registry requests, idle after ${inference.ms} ms`);
      }
      await sleep(200);
    }

    agent.destroy();
    const floorMs = Math.min(...floors.map((f) => f.bestMs));

    // What one poll of GET /api/jobs/{id} costs the server (the polled checks ask every POLL_MS, and
    // every poll returns all of the job's log rows), beside GET /api/health.
    const pollCost = async (path: string, times = 30) => {
      const cpu0 = cpuMs(pid);
      const t0 = performance.now();
      for (let i = 0; i < times; i++) await fetch(`${server.api.base}${path}`).then((r) => r.arrayBuffer());
      return { meanMs: round((performance.now() - t0) / times, 2), cpuMsPerCall: round((cpuMs(pid) - cpu0) / times, 2) };
    };
    const polling = {
      jobDetail: await pollCost(`/api/jobs/${checks[checks.length - 1]!.jobId}`),
      health: await pollCost('/api/health'),
    };
    const lifetime = memory(pid);
    const bareNodeKb = await bareNodeRssKb();
    // The polled checks are a diagnostic (what polling costs); the targets are judged on the others.
    const warm = checks.filter((c) => c.label.startsWith('warm') && c.pollMs === 0);
    const warmMedianMs = median(warm.map((c) => c.wallMs));
    const report = {
      runId: RUN_ID,
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: cpus().length, kernel: release(), loadavgAtEnd: loadavg().map((x) => round(x, 2)), otherContainersOnEngine: otherContainers },
      params: { services: N, repositories: M, projects: projectsCount, projectSize: PROJECT_SIZE, pollMs: POLL_MS, engineConcurrency: ENGINE_CONCURRENCY, warmChecks: WARM_CHECKS, floorRuns: FLOOR_RUNS },
      registry: { upstream: infra.registries.open.host, proxy: registry.proxy.host },
      setup: { imagesMs: round(imagesMs), imagesBuilt: built, composeUpMs: round(upMs), discoveryMs: round(discoveryMs), setupRegistryRequests, foreignStacks: foreign.map((s) => s.name), totalMs: round(performance.now() - t.setup0) },
      floor: { bestMs: floorMs, perCheck: floors },
      polling,
      checks,
      server: {
        idleRssMb,
        afterDiscoveryRssMb,
        lifetimePeakRssMb: round(lifetime.peakKb / 1024),
        rssMb: round(lifetime.rssKb / 1024),
        anonMb: round(lifetime.anonKb / 1024),
        fileMb: round(lifetime.fileKb / 1024),
        bareNodeHttpServerRssMb: bareNodeKb === undefined ? null : round(bareNodeKb / 1024),
        note: 'peakRssMb per check is VmHWM after resetting it (clear_refs 5) just before the check' },
      targets: {
        warmRequestsEqualMinimum: warm.every((c) => c.extraRequests === 0 && c.registry.manifestGets === 0),
        coldRequestsEqualMinimum: checks[0]!.extraRequests === 0,
        warmMedianMs: round(warmMedianMs),
        warmMedianRatio: round(median(warm.map((c) => c.ratio)), 2),
        warmBestRatio: Math.min(...warm.map((c) => c.ratio)),
        coldRatio: checks[0]!.ratio,
        withinRatio: median(warm.map((c) => c.ratio)) <= TARGET_RATIO,
        rssUnder100Mb: round(lifetime.peakKb / 1024) < TARGET_RSS_MB,
      },
    };
    await writeFile(OUT, `${JSON.stringify(report, null, 2)}\n`);
    printReport(report);
    log(`JSON: ${OUT}`);
  } finally {
    await cleanups.run();
  }
}

// ------------------------------------------------------------------ printing

function printReport(r: {
  params: { services: number; repositories: number; projects: number; projectSize: number; pollMs: number };
  registry: { upstream: string; proxy: string };
  setup: { imagesMs: number; composeUpMs: number; discoveryMs: number; foreignStacks: string[] };
  floor: { bestMs: number; perCheck: FloorMeasurement[] };
  polling: { jobDetail: { meanMs: number; cpuMsPerCall: number }; health: { meanMs: number; cpuMsPerCall: number } };
  checks: CheckResult[];
  server: { lifetimePeakRssMb: number; idleRssMb: number; afterDiscoveryRssMb: number; rssMb: number; anonMb: number; fileMb: number; bareNodeHttpServerRssMb: number | null };
  machine: { loadavgAtEnd: number[]; otherContainersOnEngine: number; cpus: number };
  targets: { warmMedianMs: number; warmMedianRatio: number; warmBestRatio: number; coldRatio: number; withinRatio: boolean; rssUnder100Mb: boolean; warmRequestsEqualMinimum: boolean; coldRequestsEqualMinimum: boolean };
}): void {
  const out: string[] = [];
  const p = r.params;
  out.push('');
  out.push(`Dockrev check benchmark — ${p.services} services (${p.projects} Compose projects × ${p.projectSize}) over ${p.repositories} repositories, registry ${r.registry.upstream} via counting proxy ${r.registry.proxy}`);
  out.push(`setup: images ${round(r.setup.imagesMs / 1000, 1)} s, compose up ${round(r.setup.composeUpMs / 1000, 1)} s, discovery ${round(r.setup.discoveryMs)} ms${r.setup.foreignStacks.length ? `; WARNING ${r.setup.foreignStacks.length} foreign stacks` : ''}`);
  out.push(`floor: ${p.repositories} manifest HEADs, keep-alive http.Agent, concurrency ${ENGINE_CONCURRENCY}, best of ${FLOOR_RUNS} right before each check: ${r.floor.perCheck.map((f) => f.bestMs).join(' / ')} ms (overall best ${r.floor.bestMs} ms)`);
  out.push('');
  const header = ['check', 'wall ms', 'job ms', 'floor ms', '×floor', 'HEAD man', 'GET man', 'GET blob', 'token', 'other', 'total', 'minimum', 'peak RSS', 'CPU ms', 'docker', 'checked/cand/failed'];
  const rows = r.checks.map((c) => {
    const other = c.registry.total - c.registry.digestHeads - c.registry.manifestGets - c.registry.blobGets - c.registry.tokens;
    return [
      c.label,
      String(c.wallMs),
      String(c.jobMs ?? '-'),
      String(c.floorMs),
      `${c.ratio}×`,
      String(c.registry.digestHeads),
      String(c.registry.manifestGets),
      String(c.registry.blobGets),
      String(c.registry.tokens),
      String(other),
      String(c.registry.total),
      `${c.minimum.total} (${c.minimum.digestRequests}+${c.minimum.tokens})`,
      c.server.peakRssMb === null ? `≤${c.server.maxSampledRssMb} MB` : `${c.server.peakRssMb} MB`,
      String(c.server.cpuMs),
      String(c.docker.calls),
      `${c.summary.servicesChecked}/${c.summary.servicesWithCandidate}/${c.summary.servicesFailed}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  out.push(line(header));
  for (const row of rows) out.push(line(row));
  out.push('');
  out.push('where the time goes (ms after POST /api/checks was sent):');
  for (const c of r.checks) {
    const ph = c.phases;
    const f = (v: number | undefined) => (v === undefined ? '-' : String(round(v)));
    out.push(
      `  ${c.label.padEnd(8)} started ${f(ph.jobStarted)}, prepared ${f(ph.prepared)}, 1st service ${f(ph.firstServiceDone)}, last service ${f(ph.lastServiceDone)}, finished ${f(ph.jobFinished)}, seen ${f(ph.finishSeenByPoll)} (${c.polls} polls)` +
        ` | registry ${f(c.registry.windowStartMs)}–${f(c.registry.windowEndMs)}, mean ${c.registry.meanLatencyMs ?? '-'} ms/req, ≤${c.registry.maxInFlight} in flight` +
        ` | docker ${f(c.docker.windowStartMs)}–${f(c.docker.windowEndMs)}, ${c.docker.calls} calls (${Object.entries(c.docker.byOp).map(([op, v]) => `${v.count} ${op}`).join(', ')}), Σ ${c.docker.sumMs} ms` +
        (c.occupancy ? ` | of ${c.occupancy.spanMs} ms in the job: registry busy ${c.occupancy.registryBusyMs}, docker busy ${c.occupancy.dockerBusyMs}, neither ${c.occupancy.neitherMs}` : '') +
        ` | ${c.logRows} job log rows (${c.progressEvents} progress), ${c.server.io?.syscw ?? '?'} write syscalls, ${c.server.cpuMs} ms server CPU | machine CPU ${c.machineBusyPct}% busy, load ${c.loadavg1}`,
    );
  }
  const t = r.targets;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const polled = r.checks.find((c) => c.pollMs > 0);
  if (polled) out.push(`  (${polled.label}: the same warm check followed by polling GET /api/jobs/{id} every ${polled.pollMs} ms instead of its event stream; compare job ms and CPU ms)`);
  out.push('');
  out.push('targets:');
  out.push(`  registry requests = minimum (warm: only ${p.repositories} HEADs, 0 GETs): ${mark(t.warmRequestsEqualMinimum)}; cold: ${mark(t.coldRequestsEqualMinimum)} (extra ${r.checks[0]!.extraRequests}; all: ${Object.entries(r.checks[0]!.registry.byMethodKind).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  out.push(`  check within ${TARGET_RATIO}× floor: ${mark(t.withinRatio)} (warm: median ${t.warmMedianMs} ms, median ratio ${t.warmMedianRatio}×, best ${t.warmBestRatio}×; cold ${t.coldRatio}×)`);
  out.push(`  server RSS < ${TARGET_RSS_MB} MB: ${mark(t.rssUnder100Mb)} (lifetime peak ${r.server.lifetimePeakRssMb} MB; idle after start ${r.server.idleRssMb} MB, after discovery ${r.server.afterDiscoveryRssMb} MB; at the end ${r.server.rssMb} MB = ${r.server.anonMb} anon + ${r.server.fileMb} file; a bare node http server: ${r.server.bareNodeHttpServerRssMb ?? '?'} MB)`);
  out.push(`polling: GET /api/jobs/{id} ${r.polling.jobDetail.meanMs} ms and ${r.polling.jobDetail.cpuMsPerCall} ms server CPU per call (GET /api/health: ${r.polling.health.meanMs} ms, ${r.polling.health.cpuMsPerCall} ms CPU)`);
  out.push(`machine: ${r.machine.cpus} CPUs, load ${r.machine.loadavgAtEnd.join(' ')}, ${r.machine.otherContainersOnEngine} other containers on the shared engine`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] FAILED: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
