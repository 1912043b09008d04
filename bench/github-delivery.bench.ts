// Push to candidate: the time from a signed GitHub `package` delivery arriving at the server to
// the matched Compose service showing the pushed digest as its candidate. The server is the
// compiled one in its own process; the local open registry stands in for GHCR; the GitHub REST
// double registered Dockrev's hook and delivers to it, signed with the hook's secret. Each round
// pushes a new image under the same tag first (not timed), then times delivery → candidate by
// polling GET /api/stacks/{id} every 5 ms. Median of BENCH_GITHUB_ROUNDS (10).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runServer, waitForHealth } from '../contract-tests/process.js';
import { projectRoot } from '../src/spec.js';
import { createComposeProject, GithubDouble, loadInfraEnv, packageEventPayload, removeImages, repointTag, uniqueName } from '../test/fixtures/index.js';

const ROUNDS = Number(process.env.BENCH_GITHUB_ROUNDS ?? 10);
const POLL_MS = 5;
const PAT = 'ghp_benchToken';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const infra = loadInfraEnv();
  const owner = uniqueName('ghb').toLowerCase();
  const image = `${infra.registries.open.host}/${owner}/web:latest`;
  await repointTag(image);
  const project = await createComposeProject({ name: `${owner}-app`, services: { web: { image, network_mode: 'none' } } });
  await project.up();
  const github = await GithubDouble.start();
  github.addToken(PAT, 'octo');
  github.addRepo({ owner, name: 'web' });
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-github-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = runServer({
    DOCKREV_HTTP_ADDR: `127.0.0.1:${port}`,
    DOCKREV_DB_PATH: join(dir, 'dockrev.sqlite3'),
    DOCKER_HOST: infra.dockerHost,
    DOCKREV_GHCR_HOST: infra.registries.open.host,
    DOCKREV_GITHUB_API_BASE_URL: github.baseUrl,
    DOCKREV_DISCOVERY_INTERVAL_SECONDS: '86400',
    DOCKREV_RUNTIME_SCAN_INTERVAL_SECONDS: '86400',
    DOCKREV_LOG_LEVEL: 'silent',
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return (await response.json()) as any;
  };
  const settled = async (jobId: string) => {
    for (;;) {
      const { job } = await api('GET', `/api/jobs/${jobId}`);
      if (job.status !== 'queued' && job.status !== 'running') return job;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const timings: { totalMs: number; answerMs: number; jobMs: number }[] = [];
  try {
    await waitForHealth(port);
    const scan = await settled((await api('POST', '/api/discovery/scan')).jobId);
    const stackId = scan.summary.scan.actions.find((action: any) => action.project === `${owner}-app`).stackId;
    const web = async () => (await api('GET', `/api/stacks/${stackId}`)).stack.services[0];
    await settled((await api('POST', '/api/checks', { scope: 'stack', stackId })).checkId);
    await api('PUT', '/api/github-packages/settings', { enabled: true, callbackUrl: `${base}/api/webhooks/github-packages`, pat: PAT });
    await settled((await api('POST', '/api/github-packages/repos/selected', { fullName: `${owner}/web`, selected: true })).jobId);
    if (github.hooks(`${owner}/web`).length !== 1) throw new Error('the hook was not registered');

    for (let round = 0; round < ROUNDS; round++) {
      const pushed = await repointTag(image);
      const payload = packageEventPayload({ owner, repo: 'web', digest: pushed.digest, registryHost: infra.registries.open.host });
      const started = performance.now();
      const [answer] = await github.deliverPackageEvent(`${owner}/web`, payload);
      const answerMs = performance.now() - started;
      if (answer?.status !== 202) throw new Error(`delivery answered ${answer?.status}: ${answer?.text}`);
      while ((await web()).candidate?.digest !== pushed.digest) {
        if (performance.now() - started > 30_000) throw new Error(`no candidate ${pushed.digest} after 30 s`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      const totalMs = performance.now() - started;
      const check = (await api('GET', `/api/jobs/${answer.body.jobId}`)).job;
      timings.push({ totalMs, answerMs, jobMs: Date.parse(check.finishedAt ?? check.updatedAt) - Date.parse(check.createdAt) });
    }
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    await github.close();
    await project.dispose().catch(() => undefined);
    await removeImages([image]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }

  const result = {
    rounds: ROUNDS,
    medianMs: Math.round(median(timings.map((t) => t.totalMs))),
    medianAnswerMs: Math.round(median(timings.map((t) => t.answerMs))),
    medianCheckJobMs: Math.round(median(timings.map((t) => t.jobMs))),
    totalMs: timings.map((t) => Math.round(t.totalMs)),
  };
  const out = join(projectRoot(), '.tmp', 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'github-delivery.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nGitHub package delivery → candidate — ${ROUNDS} rounds, server process, local registry as GHCR, GitHub double`);
  console.log(`delivery to candidate shown: ${result.totalMs.join(', ')} ms; median ${result.medianMs} ms (target < 1000 ms)`);
  console.log(`of which: the 202 answer ${result.medianAnswerMs} ms, the check job ${result.medianCheckJobMs} ms (medians)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
