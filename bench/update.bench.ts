// Update overhead: the time Dockrev takes to update one service (POST /api/updates until the job
// finished) against the same `compose pull` + `compose up -d` run by hand on the same service.
// No backup and no health check, so both sides do the same Docker work; rounds alternate, and each
// round first re-points the tag so both always pull a new image.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobReader, startApi, waitForJob as waitForJobUntil } from '../contract-tests/harness.js';
import { projectRoot } from '../src/spec.js';
import { createComposeProject, loadInfraEnv, publishImage, removeImages, repointTag, uniqueName } from '../test/fixtures/index.js';

const ROUNDS = Number(process.env.BENCH_UPDATE_ROUNDS ?? 5);
const as = { user: 'ops' };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const infra = loadInfraEnv();
  const run = uniqueName('ubench').toLowerCase();
  const image = `${infra.registries.open.host}/${run}/app:latest`;
  await publishImage({ ref: image });
  const project = await createComposeProject({ name: run, services: { app: { image } }, composeBin: infra.composeV1Bin });
  await project.up();
  const api = await startApi({
    env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKER_HOST: infra.dockerHost, DOCKREV_COMPOSE_BIN: infra.composeV1Bin.join(' '), DOCKREV_LOG_LEVEL: 'silent' },
  });
  const waitForJob = (jobId: string) => waitForJobUntil(jobReader(api), jobId, { timeoutMs: 300_000, pollMs: 20 });
  const byHand: number[] = [];
  const byHandPull: number[] = [];
  const dockrev: number[] = [];
  /** Per round: ms from the POST to each log line of the job (where the time goes). */
  const steps: Array<Array<{ msg: string; atMs: number }>> = [];
  try {
    const scan = await waitForJob((await api.call('startDiscoveryScan', as)).body.jobId);
    const stackId = scan.summary.scan.actions.find((action: any) => action.project === run).stackId;
    for (let round = 0; round < ROUNDS; round += 1) {
      await repointTag(image);
      let started = performance.now();
      await project.run(['pull', 'app']);
      const pulledAt = performance.now();
      await project.run(['up', '-d', 'app']);
      byHand.push(performance.now() - started);
      byHandPull.push(pulledAt - started);

      await repointTag(image);
      await waitForJob((await api.call('createCheck', { ...as, body: { scope: 'stack', stackId } })).body.checkId);
      const app = (await api.call('getStack', { ...as, params: { stackId } })).body.stack.services[0];
      if (!app.candidate) throw new Error('no candidate after re-pointing the tag');
      started = performance.now();
      const postedAt = Date.now();
      const response = await api.call('createUpdate', {
        ...as,
        body: { scope: 'service', serviceId: app.id, targetTag: 'latest', targetDigest: app.candidate.digest, pullTags: [], backupMode: 'skip' },
      });
      const job = await waitForJob(response.body.jobId);
      // Until the job finished, by the server's clock (this process): the poll interval is not Dockrev's time.
      dockrev.push(Date.parse(job.finishedAt) - postedAt);
      if (job.status !== 'success') throw new Error(`update ${job.id} ended ${job.status}: ${JSON.stringify(job.summary)}`);
      steps.push([
        ...job.logs.filter((log: any) => log.level !== 'event').map((log: any) => ({ msg: String(log.msg).slice(0, 70), atMs: Date.parse(log.ts) - postedAt })),
        { msg: '(job finished)', atMs: Date.parse(job.finishedAt) - postedAt },
      ]);
    }
  } finally {
    await api.close();
    await project.dispose().catch(() => undefined);
    await removeImages([image]).catch(() => undefined);
  }

  const result = {
    rounds: ROUNDS,
    compose: infra.composeV1Bin.join(' '),
    byHandMs: byHand.map(Math.round),
    byHandPullMs: byHandPull.map(Math.round),
    dockrevMs: dockrev.map(Math.round),
    medianByHandMs: Math.round(median(byHand)),
    medianDockrevMs: Math.round(median(dockrev)),
    ratio: Number((median(dockrev) / median(byHand)).toFixed(2)),
    steps,
  };
  const dir = join(projectRoot(), '.tmp', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'update.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nDockrev update benchmark — one service, ${ROUNDS} rounds, ${result.compose}, no backup, no health check`);
  console.log(`by hand (compose pull + up -d): ${result.byHandMs.join(', ')} ms; median ${result.medianByHandMs} ms (pull ${Math.round(median(byHandPull))} ms)`);
  console.log(`Dockrev (POST /api/updates until the job finished): ${result.dockrevMs.join(', ')} ms; median ${result.medianDockrevMs} ms`);
  console.log(`ratio Dockrev / by hand: ${result.ratio}`);
  // The job's own log, median over the rounds: gaps between lines that are not a Compose command are Dockrev's.
  console.log('where the time goes (ms after the POST, median of the rounds; Δ to the line before):');
  const lines = steps[0]!.map((step, index) => ({ msg: step.msg, atMs: median(steps.map((round) => round[index]?.atMs ?? NaN)) }));
  lines.forEach((line, index) => console.log(`  ${String(line.atMs).padStart(6)}  Δ ${String(index === 0 ? line.atMs : line.atMs - lines[index - 1]!.atMs).padStart(5)}  ${line.msg}`));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
