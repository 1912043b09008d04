// Push, not poll: how long after `docker push` returns the new digest shows as the candidate in
// `GET /api/stacks/{id}`, with the real docker-registry announcing the push to Dockrev, and what
// that costs in registry requests. Two services run the same repository:tag; Dockrev reaches the
// registry through a counting proxy (a host alias maps the host the registry reports to the
// proxy's), while `docker push` goes to the registry directly, so only Dockrev is counted. No
// scheduled check runs: the alternative is polling, whose worst-case delay is the cron interval.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jobReader, startApi, waitForJob } from '../contract-tests/harness.js';
import { DEFAULT_SYSTEM_SETTINGS } from '../src/store/index.js';
import { projectRoot } from '../src/spec.js';
import { buildImage, createComposeProject, loadInfraEnv, pushImage, RegistryProxy, removeImages, startNotifyingRegistry, uniqueName } from '../test/fixtures/index.js';

const ROUNDS = Number(process.env.BENCH_PUSH_ROUNDS ?? 10);
const POLL_MS = 10;
const as = { user: 'ops' };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Seconds between two ticks of a 5-field cron of the form `*\/N * * * *` (the default), else undefined. */
function cronIntervalSeconds(cron: string): number | undefined {
  const minutes = /^\*\/(\d+) \* \* \* \*$/.exec(cron.trim());
  return minutes ? Number(minutes[1]) * 60 : undefined;
}

async function main(): Promise<void> {
  const infra = loadInfraEnv();
  const run = uniqueName('pbench').toLowerCase();
  const api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKER_HOST: infra.dockerHost, DOCKREV_LOG_LEVEL: 'silent' } });
  const base = await api.listen();
  const refs: string[] = [];
  let registry: Awaited<ReturnType<typeof startNotifyingRegistry>> | undefined;
  let proxy: RegistryProxy | undefined;
  let project: Awaited<ReturnType<typeof createComposeProject>> | undefined;
  const rounds: { pushMs: number; visibleMs: number; head: number; getManifest: number; getBlob: number; other: number }[] = [];
  try {
    await api.call('putSettings', { ...as, body: { backup: DEFAULT_SYSTEM_SETTINGS.backup, instance: { publicBaseUrl: base } } });
    const enabled = await api.call('putRegistryWebhookSettings', { ...as, body: { sources: { distribution: { enabled: true } } } });
    const { token, callbackUrl } = enabled.body.revealed.distribution;
    registry = await startNotifyingRegistry({ endpoint: callbackUrl, token });
    proxy = await RegistryProxy.start(registry.host);
    await api.call('putRegistryWebhookSettings', { ...as, body: { hostAliases: [{ from: registry.host, to: proxy.host }] } });

    const viaProxy = `${proxy.host}/${run}/app:latest`;
    const direct = `${registry.host}/${run}/app:latest`;
    refs.push((await buildImage({ ref: viaProxy })).imageId);
    await pushImage(viaProxy);
    project = await createComposeProject({ name: run, services: { web: { image: viaProxy, network_mode: 'none' }, worker: { image: viaProxy, network_mode: 'none' } } });
    await project.up();
    const scan = await waitForJob(jobReader(api), (await api.call('startDiscoveryScan', as)).body.jobId);
    const stackId = scan.summary.scan.actions.find((action: any) => action.project === run).stackId;
    const candidates = async () => ((await api.call('getStack', { ...as, params: { stackId } })).body.stack.services as any[]).map((service) => service.candidate?.digest);

    for (let round = 0; round < ROUNDS; round += 1) {
      const built = await buildImage({ ref: direct });
      // Each round's image is untagged by the next: remove them by id.
      refs.push(built.imageId);
      await api.engine.registryWebhooks.settled();
      proxy.reset();
      const pushStarted = performance.now();
      const digest = await pushImage(direct);
      const pushed = performance.now();
      for (;;) {
        const seen = await candidates();
        if (seen.length === 2 && seen.every((candidate) => candidate === digest)) break;
        if (performance.now() - pushed > 30_000) throw new Error(`round ${round}: no candidate ${digest} after 30 s (saw ${seen.join(', ')})`);
        await sleep(POLL_MS);
      }
      const visibleMs = performance.now() - pushed;
      await api.engine.registryWebhooks.settled();
      await sleep(100);
      const head = proxy.count({ method: 'HEAD', kind: 'manifest' });
      const getManifest = proxy.count({ method: 'GET', kind: 'manifest' });
      const getBlob = proxy.count({ method: 'GET', kind: 'blob' });
      rounds.push({ pushMs: Math.round(pushed - pushStarted), visibleMs: Math.round(visibleMs), head, getManifest, getBlob, other: proxy.count() - head - getManifest - getBlob });
    }
  } finally {
    await api.close();
    await project?.dispose().catch(() => undefined);
    await removeImages(refs).catch(() => undefined);
    await proxy?.stop();
    await registry?.stop();
  }

  const cron = DEFAULT_SYSTEM_SETTINGS.schedules.updateCheck.cron;
  const result = {
    rounds,
    services: 2,
    repositoryTags: 1,
    medianVisibleMs: median(rounds.map((round) => round.visibleMs)),
    maxVisibleMs: Math.max(...rounds.map((round) => round.visibleMs)),
    medianPushMs: median(rounds.map((round) => round.pushMs)),
    scheduledAlternative: { cron, worstCaseDelaySeconds: cronIntervalSeconds(cron), everyMinuteWorstCaseSeconds: 60 },
  };
  const dir = join(projectRoot(), '.tmp', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'registry-push.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nRegistry push benchmark — real docker-registry notifications, 2 services on one repository:tag, ${ROUNDS} pushes`);
  console.log('round  push ms  visible ms  HEAD manifest  GET manifest  GET blob  other');
  for (const [index, round] of rounds.entries()) {
    console.log(`${String(index + 1).padStart(5)}  ${String(round.pushMs).padStart(7)}  ${String(round.visibleMs).padStart(10)}  ${String(round.head).padStart(13)}  ${String(round.getManifest).padStart(12)}  ${String(round.getBlob).padStart(8)}  ${String(round.other).padStart(5)}`);
  }
  console.log(`candidate visible after docker push returned: median ${result.medianVisibleMs} ms, max ${result.maxVisibleMs} ms (target < 1000 ms)`);
  console.log(`scheduled-check alternative: worst case the cron interval, ${result.scheduledAlternative.worstCaseDelaySeconds} s with the default '${cron}' (60 s even every minute)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
