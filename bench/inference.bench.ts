// `make bench`: the cost of one version-inference snapshot (digest → version tags).
//
// A repository of BENCH_INFERENCE_TAGS (500) version tags, `latest` pointing at the highest, and a
// service on `latest`: one forced snapshot of its digest, registry requests and wall time, against
// the floor.
//   * distribution: the open infra registry (127.0.0.1:5101) behind the counting proxy; every tag
//     its own multi-platform index. Floor: tags/list in pages of 100 (Link pagination) plus one
//     HEAD per considered tag (the 40 the snapshot considers), by a plain keep-alive client at the
//     inference client's per-host limit (4), through the same proxy.
//   * bulk fast path: a local server speaking Quay's tag API (listRepoTags, 100 tags a page) and
//     the registry API (src/engine/registry/testing/fake-registry.ts). Floor: the tag API's pages.
// The snapshot runs in this process: the engine's VersionInference on a SQLite store, with the
// engine's inference registry client settings; a fresh client per run (no cached manifests).
// Env: BENCH_INFERENCE_TAGS (500), BENCH_INFERENCE_RUNS (5), BENCH_INFERENCE_OUT (.tmp/bench/inference.json).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { mapConcurrently } from '../src/concurrency.js';
import { EngineEvents } from '../src/engine/events.js';
import { INFERENCE_REGISTRY, SNAPSHOT_DEPTH, VersionInference } from '../src/engine/inference/inference.js';
import { tagsToConsider } from '../src/engine/inference/scan.js';
import { RegistryClient } from '../src/engine/registry/index.js';
import { MANIFEST_ACCEPT } from '../src/engine/registry/manifest.js';
import { FakeRegistry } from '../src/engine/registry/testing/fake-registry.js';
import { openStore, type Store } from '../src/store/index.js';
import { docker, getManifest, loadInfraEnv, MEDIA, pushImage, putManifest, RegistryProxy } from '../test/fixtures/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const intEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name]?.trim() || fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const TAGS = intEnv('BENCH_INFERENCE_TAGS', 500);
const RUNS = intEnv('BENCH_INFERENCE_RUNS', 5);
const OUT = resolve(ROOT, process.env.BENCH_INFERENCE_OUT ?? '.tmp/bench/inference.json');
const PAGE = 100;
const PLATFORM = 'linux/amd64';
const RUN_ID = `binf${Date.now().toString(36)}${process.pid.toString(36)}`;
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};
const versions = Array.from({ length: TAGS }, (_, index) => `1.${index}.0`);
const highest = `1.${TAGS - 1}.0`;

/** One request by a plain keep-alive client; resolves with the status and the Link header. */
function plain(agent: Agent, host: string, method: 'GET' | 'HEAD', path: string): Promise<{ status: number; link?: string }> {
  const [hostname, port] = host.split(':');
  return new Promise((done, fail) => {
    const req = httpRequest({ agent, host: hostname, port: Number(port), method, path, headers: { accept: method === 'HEAD' ? MANIFEST_ACCEPT : 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode ?? 0, link: [res.headers.link].flat()[0] }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

interface Measured {
  wallMs: number;
  requests: number;
  byKind: Record<string, number>;
}

/** A store with one service on `<repository>:latest` running `digest`, and the inference over it. */
async function snapshotRun(dir: string, store: Store, client: RegistryClient, imageRef: string, digest: string, count: () => Measured['byKind']): Promise<Measured> {
  const inference = new VersionInference({ store, registry: client.sibling(INFERENCE_REGISTRY), hostPlatform: PLATFORM, events: new EngineEvents(), logger: pino({ level: 'silent' }) });
  const stack = await store.stacks.create({ name: `s${Date.now()}`, compose: { type: 'path', composeFiles: [join(dir, 'compose.yml')] }, services: [{ name: 'app', image: { ref: imageRef, tag: 'latest' } }] });
  const serviceId = stack.services[0]!.id;
  await store.services.updateState(serviceId, { digest });
  const before = count();
  const started = performance.now();
  await inference.start();
  await inference.refresh(serviceId, digest);
  await inference.whenSettled([digest], 120_000);
  const wallMs = performance.now() - started;
  await inference.stop();
  const after = count();
  const service = await store.services.get(serviceId);
  if (service?.image.resolvedTag !== highest) throw new Error(`the snapshot resolved ${service?.image.resolvedTag}, expected ${highest}`);
  const byKind = Object.fromEntries(Object.entries(after).map(([kind, n]) => [kind, n - (before[kind] ?? 0)]).filter(([, n]) => (n as number) > 0));
  return { wallMs: round(wallMs), requests: Object.values(byKind).reduce((a: number, b) => a + (b as number), 0), byKind };
}

/** `nominalRequests`: the brief's floor, one listing page per 100 tags plus one HEAD per considered tag (a registry that ignores `n` answers in fewer pages). */
const countByKind = (requests: readonly { method: string; kind: string }[]) => {
  const byKind: Record<string, number> = {};
  for (const r of requests) byKind[`${r.method} ${r.kind}`] = (byKind[`${r.method} ${r.kind}`] ?? 0) + 1;
  return byKind;
};

/** RUNS times: the floor by a plain client, then one snapshot; both counted on the same registry. */
async function measure(options: {
  sqlitePath: string;
  dir: string;
  requests: () => readonly { method: string; kind: string }[];
  reset: () => void;
  floor: () => Promise<void>;
  client: () => RegistryClient;
  imageRef: string;
  digest: string;
}): Promise<{ runs: Measured[]; floors: Measured[] }> {
  const runs: Measured[] = [];
  const floors: Measured[] = [];
  const count = () => countByKind(options.requests());
  const store = await openStore({ sqlitePath: options.sqlitePath });
  try {
    for (let run = 0; run < RUNS; run++) {
      options.reset();
      const started = performance.now();
      await options.floor();
      floors.push({ wallMs: round(performance.now() - started), requests: options.requests().length, byKind: count() });
      options.reset();
      runs.push(await snapshotRun(options.dir, store, options.client(), options.imageRef, options.digest, count));
    }
  } finally {
    await store.close();
  }
  return { runs, floors };
}

function summarize(label: string, runs: Measured[], floors: Measured[], nominalRequests: number) {
  const wall = median(runs.map((r) => r.wallMs));
  const floorWall = median(floors.map((f) => f.wallMs));
  const row = {
    label,
    wallMs: wall,
    floorMs: floorWall,
    ratio: round(wall / floorWall, 2),
    requests: runs[runs.length - 1]!.requests,
    byKind: runs[runs.length - 1]!.byKind,
    floorRequests: floors[0]!.requests,
    nominalFloorRequests: nominalRequests,
    requestRatio: round(runs[runs.length - 1]!.requests / nominalRequests, 2),
    runsMs: runs.map((r) => r.wallMs),
    floorRunsMs: floors.map((f) => f.wallMs),
  };
  log(`${label}: snapshot median ${wall} ms (${row.runsMs.join(', ')}), ${row.requests} requests ${JSON.stringify(row.byKind)}; floor ${floorWall} ms, ${row.floorRequests} requests (nominal ${nominalRequests}); ratio ${row.ratio}× wall, ${row.requestRatio}× requests`);
  return row;
}

async function distribution(dir: string) {
  const infra = loadInfraEnv();
  const open = infra.registries.open;
  const proxy = await RegistryProxy.start(open.host);
  const repository = `${RUN_ID}/app`;
  try {
    const child = `${open.host}/${repository}:base`;
    await docker(['tag', infra.baseImage, child]);
    await pushImage(child);
    await docker(['image', 'rm', child]).catch(() => undefined);
    const base = await getManifest(open, repository, 'base');
    const pushStarted = performance.now();
    const digests = await mapConcurrently(versions, 8, async (tag) => {
      const index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [{ mediaType: base.mediaType, size: base.size, digest: base.digest, platform: { os: 'linux', architecture: 'amd64' } }], annotations: { version: tag } };
      return putManifest(open, repository, tag, MEDIA.ociIndex, Buffer.from(JSON.stringify(index)));
    });
    const latest = digests[digests.length - 1]!;
    const index = await getManifest(open, repository, highest);
    await putManifest(open, repository, 'latest', index.mediaType, index.body);
    log(`distribution: ${TAGS + 2} tags pushed in ${round((performance.now() - pushStarted) / 1000, 2)} s`);

    const considered = tagsToConsider([...versions, 'base', 'latest'], ['latest'], SNAPSHOT_DEPTH);
    const agent = new Agent({ keepAlive: true, maxSockets: INFERENCE_REGISTRY.perHostConcurrency });
    let measured: Awaited<ReturnType<typeof measure>>;
    try {
      measured = await measure({
        sqlitePath: join(dir, 'distribution.sqlite3'),
        dir,
        requests: () => proxy.requests,
        reset: () => proxy.reset(),
        floor: async () => {
          for (let path: string | undefined = `/v2/${repository}/tags/list?n=${PAGE}`; path; ) {
            const page = await plain(agent, proxy.host, 'GET', path);
            if (page.status !== 200) throw new Error(`floor: tags/list answered ${page.status}`);
            path = /<([^>]+)>/.exec(page.link ?? '')?.[1];
          }
          await mapConcurrently(considered, INFERENCE_REGISTRY.perHostConcurrency, (tag) => plain(agent, proxy.host, 'HEAD', `/v2/${repository}/manifests/${tag}`));
        },
        client: () => new RegistryClient(),
        imageRef: `${proxy.host}/${repository}`,
        digest: latest,
      });
    } finally {
      agent.destroy();
    }
    const { runs, floors } = measured;
    return summarize(`distribution, ${TAGS} tags`, runs, floors, Math.ceil((TAGS + 2) / PAGE) + considered.length);
  } finally {
    await proxy.stop();
  }
}

async function bulk(dir: string) {
  const registry = await FakeRegistry.start();
  try {
    registry.quayApi = true;
    let latest = '';
    for (const tag of versions) latest = registry.pushImage('acme/app', tag, PLATFORM);
    registry.tag('acme/app', 'latest', latest);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let measured: Awaited<ReturnType<typeof measure>>;
    try {
      measured = await measure({
        sqlitePath: join(dir, 'bulk.sqlite3'),
        dir,
        requests: () => registry.requests,
        reset: () => registry.resetCounters(),
        floor: async () => {
          for (let page = 1; page <= Math.ceil((TAGS + 1) / PAGE); page++) {
            await plain(agent, registry.host, 'GET', `/api/v1/repository/acme/app/tag/?onlyActiveTags=true&limit=${PAGE}&page=${page}`);
          }
        },
        client: () => new RegistryClient({ quayHosts: [registry.host] }),
        imageRef: `${registry.host}/acme/app`,
        digest: latest,
      });
    } finally {
      agent.destroy();
    }
    const { runs, floors } = measured;
    return summarize(`bulk (Quay tag API), ${TAGS} tags`, runs, floors, Math.ceil((TAGS + 1) / PAGE));
  } finally {
    await registry.close();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dockrev-bench-inference-'));
  try {
    const rows = [await distribution(dir), await bulk(dir)];
    const report = { runId: RUN_ID, date: new Date().toISOString(), loadavg: loadavg().map((x) => round(x, 2)), params: { tags: TAGS, runs: RUNS, depth: SNAPSHOT_DEPTH, pageSize: PAGE, concurrency: INFERENCE_REGISTRY.perHostConcurrency }, rows };
    await mkdir(dirname(OUT), { recursive: true });
    await writeFile(OUT, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nversion inference: one snapshot of a ${TAGS}-tag repository (latest = ${highest}), median of ${RUNS}`);
    console.log('| path | wall | floor (plain client) | × floor | registry requests | floor requests: nominal / plain client |');
    console.log('|---|---|---|---|---|---|');
    for (const row of rows) {
      const kinds = Object.entries(row.byKind).map(([kind, n]) => `${n} ${kind}`).join(', ');
      console.log(`| ${row.label} | ${row.wallMs} ms | ${row.floorMs} ms | ${row.ratio}× | ${row.requests} (${kinds}) | ${row.nominalFloorRequests} / ${row.floorRequests} (${row.requestRatio}× nominal) |`);
    }
    log(`JSON: ${OUT}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
