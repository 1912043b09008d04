// Notification latency: from the moment an update job is final (its `finishedAt`) to the moment a
// webhook receiver has the `job_finished` notification. The server is a separate process
// (`node dist/src/main.js`, as `npm start` runs it) so the receiver does not share its event loop;
// both read the same system clock. Each round is a real update: re-point the tag, check, update.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runServer, waitForHealth } from '../contract-tests/process.js';
import { mergeNotificationSettings } from '../src/engine/notify/settings.js';
import { projectRoot } from '../src/spec.js';
import { openStore } from '../src/store/index.js';
import { startWebhookReceiver } from '../test/doubles/index.js';
import { createComposeProject, loadInfraEnv, publishImage, removeImages, repointTag, uniqueName } from '../test/fixtures/index.js';

const ROUNDS = Number(process.env.BENCH_NOTIFY_ROUNDS ?? 20);
const TARGET_MS = 50;

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))]!;
}

async function main(): Promise<void> {
  const infra = loadInfraEnv();
  const run = uniqueName('nbench').toLowerCase();
  const image = `${infra.registries.open.host}/${run}/app:latest`;
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-notify-bench-'));
  const receiver = await startWebhookReceiver();
  await publishImage({ ref: image });
  const project = await createComposeProject({ name: run, services: { app: { image } }, composeBin: infra.composeV1Bin });
  await project.up();

  // The stack and the webhook channel, written before the server starts, as a running install has them.
  const sqlitePath = join(dir, 'dockrev.sqlite3');
  const store = await openStore({ sqlitePath });
  const stack = await store.stacks.create({ name: run, compose: { type: 'path', composeFiles: [project.file] }, services: [{ name: 'app', image: { ref: image.replace(/:latest$/, ''), tag: 'latest' } }] });
  const serviceId = stack.services[0]!.id;
  const base = { email: { enabled: false }, telegram: { enabled: false }, webPush: { enabled: false } };
  await store.notifications.putSettings(mergeNotificationSettings(await store.notifications.getSettings(), { ...base, webhook: { enabled: true, url: `${receiver.url}/hook` } }));
  await store.close();

  const port = await freePort();
  const server = runServer({
    DOCKREV_HTTP_ADDR: `127.0.0.1:${port}`,
    DOCKREV_DB_PATH: sqlitePath,
    DOCKREV_AUTH_ALLOWED_USER: 'ops',
    DOCKER_HOST: infra.dockerHost,
    DOCKREV_COMPOSE_BIN: infra.composeV1Bin.join(' '),
    DOCKREV_OVERRIDE_DIR: join(dir, 'overrides'),
    DOCKREV_DISCOVERY_INTERVAL_SECONDS: '86400',
    DOCKREV_RUNTIME_SCAN_INTERVAL_SECONDS: '86400',
    DOCKREV_LOG_LEVEL: 'warn',
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { 'X-Forwarded-User': 'ops', ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await response.json()) as any;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const settled = async (jobId: string) => {
    for (;;) {
      const { job } = await api('GET', `/api/jobs/${jobId}`);
      if (job.status !== 'running' && job.status !== 'queued') return job;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const latencies: number[] = [];
  try {
    await waitForHealth(port, 30_000);
    for (let round = 0; round < ROUNDS; round += 1) {
      await repointTag(image);
      await settled((await api('POST', '/api/checks', { scope: 'service', serviceId })).checkId);
      const { stack: current } = await api('GET', `/api/stacks/${stack.id}`);
      const candidate = current.services[0].candidate;
      if (!candidate) throw new Error('no candidate after re-pointing the tag');
      const received = receiver.accepted.length;
      const { jobId } = await api('POST', '/api/updates', { scope: 'service', serviceId, targetTag: 'latest', targetDigest: candidate.digest, pullTags: [], backupMode: 'skip' });
      const job = await settled(jobId);
      if (job.status !== 'success') throw new Error(`update ${jobId} ended ${job.status}: ${JSON.stringify(job.summary)}`);
      await receiver.waitForAccepted(received + 1, 30_000);
      const delivery = receiver.accepted[received]!;
      if (delivery.payload.job?.id !== jobId) throw new Error(`round ${round}: the webhook got ${delivery.payload.kind} for ${delivery.payload.job?.id}`);
      const request = receiver.requests.find((entry) => entry.text.includes(jobId) && entry.path === '/hook')!;
      latencies.push(request.receivedAt - Date.parse(job.finishedAt));
    }
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    await receiver.close();
    await project.dispose().catch(() => undefined);
    await removeImages([image]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }

  const result = {
    rounds: ROUNDS,
    targetMs: TARGET_MS,
    latenciesMs: latencies,
    medianMs: percentile(latencies, 0.5),
    p90Ms: percentile(latencies, 0.9),
    minMs: Math.min(...latencies),
    maxMs: Math.max(...latencies),
  };
  const out = join(projectRoot(), '.tmp', 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'notify.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nDockrev notification latency — update job finishedAt → webhook receiver has job_finished, ${ROUNDS} real updates`);
  console.log(`each: ${latencies.join(', ')} ms`);
  console.log(`median ${result.medianMs} ms (target < ${TARGET_MS} ms), p90 ${result.p90Ms} ms, min ${result.minMs} ms, max ${result.maxMs} ms`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
