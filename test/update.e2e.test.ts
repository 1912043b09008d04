// Update execution on the real Docker engine, the open registry and Compose (scripts/infra/up.sh):
// digest updates of a re-pointed tag, health-gated rollback, dry-run, a pull that cannot succeed,
// and start-up recovery after an update process was killed with SIGKILL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { DockerEngine } from '../src/engine/docker/engine.js';
import { JobRunner } from '../src/engine/jobs/runner.js';
import { executeUpdate, type UpdateDeps, type UpdatePlan } from '../src/engine/update/execute.js';
import { recoverInterruptedUpdates } from '../src/engine/update/recovery.js';
import { openStore, type Job, type JobLog, type Service, type Stack, type Store } from '../src/store/index.js';
import {
  createComposeProject,
  docker,
  fixtureTextIn,
  imageId,
  publishImage,
  removeImages,
  repoDigests,
  repointTag,
  uniqueName,
  waitFor,
  type ComposeProject,
  type HealthcheckSpec,
  type PublishedImage,
  infraOrSkip,
} from './fixtures/index.js';

const { infra, skip } = infraOrSkip();

/** A Compose project running `web` from a pushed image, registered as a stack. */
interface Deployment {
  project: ComposeProject;
  stack: Stack;
  web: Service;
  repo: string;
  ref: string;
  current: PublishedImage;
  composeBin: readonly string[];
}

describe('update execution on the real engine, registry and Compose', { skip, timeout: 900_000 }, () => {
  const run = uniqueName('upd').toLowerCase();
  let work: string;
  let overrideDir: string;
  let store: Store;
  let runner: JobRunner;
  let engine: DockerEngine;
  const projects: ComposeProject[] = [];
  const images: string[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'dockrev-update-e2e-'));
    overrideDir = join(work, 'overrides');
    store = await openStore({ sqlitePath: join(work, 'dockrev.sqlite3') });
    runner = new JobRunner(store, pino({ level: 'silent' }));
    engine = new DockerEngine({ dockerHost: infra!.dockerHost });
  });

  after(async () => {
    await runner?.idle();
    for (const project of projects) await project.dispose().catch(() => undefined);
    await removeImages(images);
    await store?.close();
    await rm(work, { recursive: true, force: true });
  });

  const deps = (composeBin: readonly string[], extra: Partial<UpdateDeps> = {}): UpdateDeps => ({
    store,
    docker: engine,
    composeBin,
    dockerHost: infra!.dockerHost,
    dockerConfigPath: infra!.dockerConfig,
    retry: { maxAttempts: 3, baseMs: 50, maxMs: 200 },
    overrideDir,
    healthTimeoutMs: 30_000,
    healthPollMs: 250,
    ...extra,
  });

  async function deploy(name: string, options: { composeBin?: readonly string[]; withEnvFile?: boolean } = {}): Promise<Deployment> {
    const composeBin = options.composeBin ?? infra!.composeV1Bin;
    const repo = `${infra!.registries.open.host}/${run}/${name}`;
    const ref = `${repo}:latest`;
    const current = await publishImage({ ref });
    images.push(ref, current.imageId);
    // With an env file the Compose file names the image through a variable (--env-file, interpolation).
    const webImage = options.withEnvFile ? '${WEB_REPO}:latest' : ref;
    const project = await createComposeProject({
      composeBin,
      services: { web: { image: webImage }, sidecar: { image: infra!.baseImage } },
    });
    projects.push(project);
    const envFile = join(project.dir, '.env');
    if (options.withEnvFile) await writeFile(envFile, `WEB_REPO=${repo}\n`);
    await project.up();
    await project.waitReady('web');
    const created = await store.stacks.create({
      name: project.name,
      compose: { type: 'path', composeFiles: [project.file], ...(options.withEnvFile ? { envFile } : {}) },
      services: [
        { name: 'web', image: { ref: repo, tag: 'latest' } },
        { name: 'sidecar', image: { ref: infra!.baseImage.split(':')[0]!, tag: 'base' } },
        // Registered but never started: an update must skip it.
        { name: 'ghost', image: { ref: repo, tag: 'latest' } },
      ],
    });
    const web = created.services.find((service) => service.name === 'web')!;
    await store.services.updateState(web.id, { digest: current.digest });
    const { services: _services, ...stack } = created;
    return { project, stack, web: (await store.services.get(web.id))!, repo, ref, current, composeBin };
  }

  /**
   * Pushes new content under the deployed tag, as a CI would, and records it as the service's
   * candidate. The engine keeps only what the host had: the tag on the old image, no new image.
   */
  async function release(deployment: Deployment, healthcheck?: HealthcheckSpec): Promise<PublishedImage> {
    const next = await repointTag(deployment.ref, { previousDigest: deployment.current.digest, ...(healthcheck ? { healthcheck } : {}) });
    images.push(next.imageId);
    await docker(['tag', deployment.current.imageId, deployment.ref]);
    await docker(['image', 'rm', next.imageId]);
    await store.services.updateState(deployment.web.id, {
      candidate: { tag: 'latest', digest: next.digest, archMatch: 'match', arch: ['linux/amd64'] },
    });
    deployment.web = (await store.services.get(deployment.web.id))!;
    return next;
  }

  function planFor(deployment: Deployment, targetDigest: string, mode: UpdatePlan['mode'] = 'apply'): UpdatePlan {
    return {
      mode,
      reason: 'ui',
      backupMode: 'inherit',
      allowArchMismatch: false,
      stacks: [
        {
          stack: deployment.stack,
          services: [{ service: deployment.web, targetTag: 'latest', targetDigest, pullTags: [], skipTagFollowups: false }],
        },
      ],
    };
  }

  async function runUpdate(plan: UpdatePlan, updateDeps: UpdateDeps): Promise<{ job: Job; logs: JobLog[]; ms: number }> {
    const started = Date.now();
    const job = await runner.start(
      {
        prefix: 'job', type: 'update', scope: 'stack', stackId: plan.stacks[0]!.stack.id, createdBy: 'test', reason: plan.reason,
        summary: { mode: plan.mode }, startMessage: 'update started', failureMessage: 'update failed',
      },
      (running) => executeUpdate(running, plan, updateDeps),
    );
    await runner.settled(job.id);
    const ms = Date.now() - started;
    return { job: (await store.jobs.get(job.id))!, logs: await store.jobs.listLogs(job.id, 0, 1000), ms };
  }

  const commands = (logs: readonly JobLog[]) => logs.filter((log) => log.msg.startsWith('$ ')).map((log) => log.msg);
  const update = (job: Job) => (job.summary.stacks as any[])[0].update;
  const assertOverrideDirEmpty = async () => assert.deepEqual(await readdir(overrideDir).catch(() => []), []);

  it('moves a service to the new digest of its tag and re-points the tag (Compose v1)', async (t) => {
    const deployment = await deploy('web');
    const before = await deployment.project.containers();
    const next = await release(deployment, { test: ['true'], interval: '1s', retries: 1 });
    const backupSawContainers: string[] = [];

    const { job, logs, ms } = await runUpdate(
      planFor(deployment, next.digest),
      deps(deployment.composeBin, {
        backup: async (stack) => {
          backupSawContainers.push(...(await engine.listComposeContainers({ project: stack.name })).map((container) => container.imageId));
          return { status: 'success', artifactPath: '/backups/x.tar.gz' };
        },
      }),
    );
    t.diagnostic(`update took ${ms} ms`);

    assert.equal(job.status, 'success', JSON.stringify(job.summary));
    assert.deepEqual(backupSawContainers.sort(), before.map((container) => container.imageId).sort(), 'backup ran before any change');
    assert.deepEqual((job.summary.stacks as any[])[0].backup, { status: 'success', artifactPath: '/backups/x.tar.gz' });
    const result = update(job);
    assert.equal(result.changedServices, 1);
    assert.deepEqual(result.oldDigests, { [deployment.web.id]: deployment.current.imageId });
    assert.deepEqual(result.newDigests, { [deployment.web.id]: next.imageId });
    assert.deepEqual(result.finalDigests, { [deployment.web.id]: next.imageId });
    assert.deepEqual(result.targetTagsPulled, [deployment.ref]);
    assert.equal(result.failureStep, undefined);

    const web = await deployment.project.container('web');
    assert.notEqual(web.id, before.find((container) => container.service === 'web')!.id);
    assert.equal(web.imageId, next.imageId);
    assert.equal(web.health, 'healthy');
    assert.equal(await fixtureTextIn(web.id), next.text);
    assert.ok((await repoDigests(next.imageId)).includes(`${deployment.repo}@${next.digest}`));
    assert.equal(await imageId(deployment.ref), next.imageId, 'the configured tag resolves to the new image');
    const sidecar = await deployment.project.container('sidecar');
    assert.equal(sidecar.id, before.find((container) => container.service === 'sidecar')!.id, 'other services are not recreated');

    const stored = (await store.services.get(deployment.web.id))!;
    assert.equal(stored.image.digest, next.digest);
    assert.equal(stored.candidate, undefined);
    assert.ok(stored.checkedAt);

    const overrideFile = join(overrideDir, `${job.id}-${deployment.stack.id}.yml`);
    const composePrefix = `$ docker-compose -p ${deployment.project.name} -f ${deployment.project.file} -f ${overrideFile}`;
    assert.deepEqual(commands(logs), [
      `${composePrefix} pull web`,
      `${composePrefix} up -d --no-deps web`,
      `$ docker pull ${deployment.ref}`,
      `$ docker tag ${next.imageId} ${deployment.ref}`,
    ]);
    assert.ok(logs.some((log) => log.level === 'info' && log.msg.startsWith('status=0 stdout=')));
    const messages = logs.filter((log) => log.level === 'event').map((log) => JSON.parse(log.msg).message);
    assert.ok(messages.includes('web · healthcheck passed for web'), messages.join('\n'));
    assert.ok(messages.includes('web · compose tag synced for web'));
    assert.equal(job.progress?.phase, 'done');
    assert.equal(job.progress?.percent, 100);
    assert.equal(job.summary.applying, undefined, 'the final summary replaces the in-flight records');
    await assertOverrideDirEmpty();
  });

  it('rolls back to the old image when the new one fails its healthcheck', async () => {
    const deployment = await deploy('sick');
    const next = await release(deployment, { test: 'exit 1', interval: '1s', retries: 1 });

    const { job, logs } = await runUpdate(planFor(deployment, next.digest), deps(deployment.composeBin));

    assert.equal(job.status, 'rolled_back', JSON.stringify(job.summary));
    const result = update(job);
    assert.equal(result.failureStep, 'healthcheck');
    assert.deepEqual(result.rollback, { trigger: 'healthcheck', toDigests: { [deployment.web.id]: deployment.current.imageId } });
    assert.deepEqual(result.newDigests, { [deployment.web.id]: next.imageId });
    assert.deepEqual(result.finalDigests, { [deployment.web.id]: deployment.current.imageId });
    const web = await deployment.project.waitReady('web');
    assert.equal(web.imageId, deployment.current.imageId, 'the old image runs again');
    assert.equal(web.image, deployment.ref, 'recreated from the plain compose file');
    assert.equal(await imageId(deployment.ref), deployment.current.imageId);
    const stored = (await store.services.get(deployment.web.id))!;
    assert.equal(stored.image.digest, deployment.current.digest);
    assert.equal(stored.candidate?.digest, next.digest);
    assert.ok(commands(logs).at(-1)!.endsWith(`-p ${deployment.project.name} -f ${deployment.project.file} up -d --no-deps web`));
    const messages = logs.filter((log) => log.level === 'event').map((log) => JSON.parse(log.msg).message);
    assert.ok(messages.includes('web · healthcheck failed for web; rolling back'));
    await assertOverrideDirEmpty();
  });

  describe('without changing anything', () => {
    let deployment: Deployment;
    let next: PublishedImage;
    let web: Awaited<ReturnType<ComposeProject['container']>>;
    before(async () => {
      deployment = await deploy('calm');
      next = await release(deployment);
      web = await deployment.project.container('web');
    });

    it('dry-run runs no Docker command', async () => {
      const { job, logs } = await runUpdate(planFor(deployment, next.digest, 'dry-run'), deps(deployment.composeBin));
      assert.equal(job.status, 'success');
      assert.deepEqual((job.summary.stacks as any[])[0].backup, { status: 'skipped', reason: 'dry_run' });
      assert.equal(update(job).changedServices, 1);
      assert.deepEqual(commands(logs), []);
      const after = await deployment.project.container('web');
      assert.equal(after.id, web.id);
      assert.equal(after.imageId, deployment.current.imageId);
      assert.equal(await imageId(deployment.ref), deployment.current.imageId);
      await assertOverrideDirEmpty();
    });

    it('skips a selected service that has no running container', async () => {
      const ghost = (await store.services.listByStack(deployment.stack.id)).find((service) => service.name === 'ghost')!;
      const plan = planFor(deployment, next.digest);
      plan.stacks[0]!.services = [{ service: ghost, targetTag: 'latest', targetDigest: next.digest, pullTags: [], skipTagFollowups: false }];
      const { job, logs } = await runUpdate(plan, deps(deployment.composeBin));
      assert.equal(job.status, 'success');
      assert.equal(update(job).changedServices, 0);
      assert.ok(logs.some((log) => log.msg === 'skipped service ghost (container not running)'));
      assert.deepEqual(commands(logs), []);
      assert.equal((await deployment.project.container('web')).id, web.id);
      await assertOverrideDirEmpty();
    });

    it('a digest the registry does not have fails the pull and leaves the container alone', async () => {
      const missing = `sha256:${'0'.repeat(64)}`;
      const { job, logs } = await runUpdate(planFor(deployment, missing), deps(deployment.composeBin));
      assert.equal(job.status, 'failed');
      const result = update(job);
      assert.equal(result.failureStep, 'pull');
      assert.deepEqual(result.retry, { attempts: 3, maxAttempts: 3, baseMs: 50, maxMs: 200 });
      assert.match(result.lastError, /manifest unknown|not found/);
      assert.equal(result.rollback, undefined);
      assert.equal(commands(logs).filter((command) => command.endsWith(' pull web')).length, 3);
      assert.equal(commands(logs).some((command) => command.includes(' up ')), false);
      const after = await deployment.project.container('web');
      assert.equal(after.id, web.id);
      assert.equal(after.running, true);
      assert.equal((await store.services.get(deployment.web.id))!.image.digest, deployment.current.digest);
      await assertOverrideDirEmpty();
    });
  });

  it('updates with Compose v2, an env file and a variable image', { skip: infra?.composeV2Bin ? false : 'Compose v2 not installed' }, async () => {
    const deployment = await deploy('vtwo', { composeBin: infra!.composeV2Bin!, withEnvFile: true });
    const next = await release(deployment);
    // The tag moved on after the check: the update still installs the checked digest, and the
    // configured tag is re-pointed at it although pulling the tag fetched the newer image.
    const newer = await repointTag(deployment.ref, { previousDigest: next.digest });
    images.push(newer.imageId);
    await docker(['tag', deployment.current.imageId, deployment.ref]);
    await docker(['image', 'rm', newer.imageId]);
    const versionTag = await publishImage({ ref: `${deployment.repo}:1.0` });
    images.push(versionTag.imageId);
    await docker(['image', 'rm', versionTag.ref]);
    const plan = planFor(deployment, next.digest);
    plan.stacks[0]!.services[0]!.pullTags = ['1.0', 'no-such-tag'];

    const { job, logs } = await runUpdate(plan, deps(deployment.composeBin));

    assert.equal(job.status, 'success', JSON.stringify(job.summary));
    const result = update(job);
    assert.deepEqual(result.pullTagsPulled, [versionTag.ref]);
    assert.equal(result.pullTagWarnings.length, 1, 'a missing extra tag only warns');
    assert.deepEqual(
      { ...result.pullTagWarnings[0], lastError: undefined },
      { serviceId: deployment.web.id, tagRef: `${deployment.repo}:no-such-tag`, step: 'pull_tag', retry: { attempts: 3, maxAttempts: 3, baseMs: 50, maxMs: 200 }, lastError: undefined },
    );
    assert.equal(await imageId(versionTag.ref), versionTag.imageId);
    assert.deepEqual(result.targetTagsPulled, [deployment.ref]);
    assert.ok((await repoDigests(newer.imageId)).length > 0, 'pulling the target tag fetched the newer image');
    assert.match(commands(logs)[0]!, new RegExp(`^\\$ docker compose -p ${deployment.project.name} -f \\S+ -f \\S+ --env-file \\S+/\\.env pull web$`));
    assert.equal((await deployment.project.container('web')).imageId, next.imageId);
    assert.equal(await imageId(deployment.ref), next.imageId);
    await assertOverrideDirEmpty();
  });

  it('recovers after the update process was killed: override file removed, service running again', async () => {
    const deployment = await deploy('crash');
    // A healthcheck that stays "starting" for a minute holds the update in its health gate.
    const next = await release(deployment, { test: ['true'], interval: '60s' });
    const sqlitePath = join(work, 'dockrev.sqlite3');
    const module = (path: string) => new URL(path, import.meta.url).href;
    const child = spawn(process.execPath, ['--input-type=module', '-e', CRASHING_UPDATE], {
      env: {
        ...process.env,
        UPDATE_MODULES: JSON.stringify({
          store: module('../src/store/index.js'),
          runner: module('../src/engine/jobs/runner.js'),
          execute: module('../src/engine/update/execute.js'),
          engine: module('../src/engine/docker/engine.js'),
        }),
        UPDATE_ARGS: JSON.stringify({
          sqlitePath, stackId: deployment.stack.id, serviceId: deployment.web.id, targetDigest: next.digest,
          deps: { ...deps(deployment.composeBin, { healthTimeoutMs: 120_000 }), store: undefined, docker: undefined },
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let childOutput = '';
    child.stdout.on('data', (chunk) => (childOutput += chunk));
    child.stderr.on('data', (chunk) => (childOutput += chunk));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const jobId = await waitFor('the update job id', () => /job_[0-9A-Z]{26}/.exec(childOutput)?.[0], { timeoutMs: 30_000 });
      await waitFor(
        'the update to wait for the healthcheck',
        async () => (await store.jobs.listLogs(jobId, 0, 1000)).some((log) => log.msg === 'web · waiting for healthcheck on web'),
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      child.kill('SIGKILL');
      await exited;

      const overrideFile = join(overrideDir, `${jobId}-${deployment.stack.id}.yml`);
      const stagedConfig = join(overrideDir, `${jobId}.docker-config`);
      assert.deepEqual((await readdir(overrideDir)).map((name) => join(overrideDir, name)).sort(), [overrideFile, stagedConfig].sort(), 'the killed update left its scratch');
      const recreated = await deployment.project.container('web');
      assert.equal(recreated.imageId, next.imageId);
      await docker(['rm', '-f', recreated.id]);
      assert.equal(await store.jobs.terminate(jobId, 'server_restart'), true);

      const recoveryDeps = { ...deps(deployment.composeBin) };
      const report = await recoverInterruptedUpdates(recoveryDeps, [jobId]);
      assert.deepEqual(report, {
        removedOverrideFiles: [overrideFile],
        removedDockerConfigs: [stagedConfig],
        restarted: [{ jobId, stackId: deployment.stack.id, services: ['web'] }],
        failures: [],
      });
      await assertOverrideDirEmpty();
      const web = await deployment.project.waitReady('web');
      assert.equal(web.imageId, deployment.current.imageId, 'started from the plain file: the configured tag');
      assert.equal(web.labels['com.docker.compose.project.config_files']?.includes(overrideFile), false);
      const logs = (await store.jobs.listLogs(jobId, 0, 1000)).map((log) => log.msg);
      assert.ok(logs.includes(`recovery: removed leftover ${overrideFile}`));
      assert.ok(logs.includes(`recovery: removed leftover ${stagedConfig}`));
      assert.ok(logs.includes(`recovery: started web of stack ${deployment.project.name}`));

      const again = await recoverInterruptedUpdates(recoveryDeps, [jobId]);
      assert.deepEqual(again, { removedOverrideFiles: [], removedDockerConfigs: [], restarted: [], failures: [] });
      assert.equal((await deployment.project.container('web')).id, web.id);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** An API process in miniature: starts one update job, prints its id, and runs it until killed. */
const CRASHING_UPDATE = `
const modules = JSON.parse(process.env.UPDATE_MODULES);
const args = JSON.parse(process.env.UPDATE_ARGS);
const { openStore } = await import(modules.store);
const { JobRunner } = await import(modules.runner);
const { executeUpdate } = await import(modules.execute);
const { DockerEngine } = await import(modules.engine);
const store = await openStore({ sqlitePath: args.sqlitePath });
const stack = await store.stacks.get(args.stackId);
const service = await store.services.get(args.serviceId);
const silent = { error() {}, warn() {}, info() {}, debug() {} };
const runner = new JobRunner(store, silent);
const plan = {
  mode: 'apply', reason: 'ui', backupMode: 'inherit', allowArchMismatch: false,
  stacks: [{ stack, services: [{ service, targetTag: 'latest', targetDigest: args.targetDigest, pullTags: [], skipTagFollowups: false }] }],
};
const deps = { ...args.deps, store, docker: new DockerEngine({ dockerHost: args.deps.dockerHost }) };
const job = await runner.start(
  { prefix: 'job', type: 'update', scope: 'stack', stackId: stack.id, createdBy: 'test', reason: 'ui', summary: { mode: 'apply' },
    startMessage: 'update started', failureMessage: 'update failed' },
  (running) => executeUpdate(running, plan, deps),
);
process.stdout.write(job.id + '\\n');
await runner.settled(job.id);
`;
