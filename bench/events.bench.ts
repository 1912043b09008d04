// Event subscribers off the job's path: a 200-service check (50 repositories, in-memory
// registry, scripted Docker, real SQLite) with no subscriber against the same check with a
// subscriber on every engine event that sleeps 1 s. Rounds alternate; the figure is the median
// time from starting the check to its job being settled.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Checks } from '../src/engine/check/checks.js';
import type { ComposeContainer, DockerReads } from '../src/engine/docker/index.js';
import { EngineEvents, type EngineEventName } from '../src/engine/events.js';
import { JobRunner } from '../src/engine/jobs/runner.js';
import { RegistryClient } from '../src/engine/registry/index.js';
import { FakeRegistry } from '../src/engine/registry/testing/fake-registry.js';
import { projectRoot } from '../src/spec.js';
import { openStore } from '../src/store/index.js';

const ROUNDS = Number(process.env.BENCH_EVENT_ROUNDS ?? 15);
const SERVICES = 200;
const REPOS = 50;
const EVENT_NAMES: EngineEventName[] = ['job.finished', 'check.finished', 'candidate.found', 'update.finished', 'discovery.finished', 'runtime_scan.finished'];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-events-bench-'));
  const store = await openStore({ sqlitePath: join(dir, 'dockrev.sqlite3') });
  const registry = await FakeRegistry.start();
  const logger = pino({ level: 'silent' });
  const events = new EngineEvents(logger);
  const jobs = new JobRunner(store, logger, events);
  try {
    for (let repo = 0; repo < REPOS; repo++) registry.pushImage(`bench/r${repo}`, 'latest', 'linux/amd64');
    const containers: ComposeContainer[] = [];
    for (let project = 0; project < SERVICES / 10; project++) {
      const services = Array.from({ length: 10 }, (_, index) => ({ name: `s${index}`, image: { ref: `${registry.host}/bench/r${(project * 10 + index) % REPOS}`, tag: 'latest' } }));
      await store.stacks.create({ name: `p${project}`, compose: { type: 'path', composeFiles: [`/srv/p${project}/compose.yml`] }, services });
      for (const service of services) {
        containers.push({ id: `p${project}-${service.name}`, name: `p${project}-${service.name}-1`, project: `p${project}`, service: service.name, imageId: `sha256:${service.image.ref.slice(-3)}`, configuredImage: '', labels: {}, state: 'running' });
      }
    }
    const docker: DockerReads = { listComposeContainers: async () => containers, imageRepoDigests: async (ids) => new Map(ids.map((id) => [id, []])) };
    const checks = new Checks({ store, jobs, docker, registry: new RegistryClient(), hostPlatform: 'linux/amd64', logger });
    const check = async () => {
      const started = performance.now();
      const job = await checks.startCheck({ scope: 'all' }, { via: 'schedule' });
      await jobs.settled(job.id);
      return performance.now() - started;
    };
    await check();
    const quiet: number[] = [];
    const subscribed: number[] = [];
    let delivered = 0;
    for (let round = 0; round < ROUNDS; round++) {
      quiet.push(await check());
      const offs = EVENT_NAMES.map((name) =>
        events.on(name, async () => {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          delivered++;
        }),
      );
      subscribed.push(await check());
      for (const off of offs) off();
    }
    await events.drain();
    const result = { rounds: ROUNDS, services: SERVICES, quietMs: median(quiet), subscribedMs: median(subscribed), addedMs: median(subscribed) - median(quiet), delivered, quiet, subscribed };
    console.log(`\nEngine events — 200-service check, ${ROUNDS} alternating rounds, in-process (fake registry, scripted Docker, SQLite)`);
    console.log(`no subscriber: median ${result.quietMs.toFixed(1)} ms; a 1 s sleeping subscriber on every event: median ${result.subscribedMs.toFixed(1)} ms`);
    console.log(`added by the subscriber: ${result.addedMs.toFixed(1)} ms (target < 5 ms); ${delivered} deliveries completed after the jobs`);
    const out = join(projectRoot(), '.tmp', 'bench');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'events.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await jobs.idle();
    await registry.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
