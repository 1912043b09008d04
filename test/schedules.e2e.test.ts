// What runs on its own: scheduled update checks through the real server process (a cron in the
// settings, switched off again without a restart), and backup retention after real updates with
// real backups on the test Docker engine.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jobReader, startApi, waitForJob, type Api } from '../contract-tests/harness.js';
import { freePort, runServer, waitForHealth } from '../contract-tests/process.js';
import { createComposeProject, infraOrSkip, publishImage, removeImages, repointTag, uniqueName, waitFor, type ComposeProject } from './fixtures/index.js';

const { infra, skip } = infraOrSkip();
const as = { user: 'ops' };
const backup = (baseDir: string, enabled = true) => ({ enabled, requireSuccess: true, baseDir, skipTargetsOverBytes: 1 << 30 });

describe('scheduled update checks in the running server', { timeout: 120_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dockrev-cron-'));
  let server: ChildProcess;
  let exited: Promise<{ code: number | null; stderr: string }>;
  let base = '';

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'X-Forwarded-User': 'ops', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const scheduledChecks = async () => (await call('GET', '/api/jobs?type=check&limit=200')).body.jobs.filter((job: any) => job.reason === 'schedule');

  before(async () => {
    const port = await freePort();
    ({ child: server, exited } = runServer({
      DOCKREV_HTTP_ADDR: `127.0.0.1:${port}`,
      DOCKREV_DB_PATH: join(work, 'dockrev.sqlite3'),
      DOCKREV_AUTH_ALLOWED_USER: 'ops',
      // No Docker: this server sees no other test run's projects; a check of no stacks is still a check.
      DOCKER_HOST: `unix://${join(work, 'no-docker.sock')}`,
    }));
    base = `http://127.0.0.1:${port}`;
    await waitForHealth(port);
  });

  after(async () => {
    server?.kill('SIGTERM');
    await exited;
    rmSync(work, { recursive: true, force: true });
  });

  it('runs a check every two seconds from a 6-field cron, and stops when the schedule is switched off', async () => {
    const enabled = await call('PUT', '/api/settings', { backup: backup(join(work, 'backups')), schedules: { updateCheck: { enabled: true, cron: '*/2 * * * * *' } } });
    assert.equal(enabled.status, 200);
    const settings = (await call('GET', '/api/settings')).body;
    const next = Date.parse(settings.schedules.updateCheck.nextRunAt);
    assert.ok(next > Date.now() - 1000 && next <= Date.now() + 2500, `next run ${settings.schedules.updateCheck.nextRunAt}`);

    const checks = await waitFor('two scheduled checks', async () => ((await scheduledChecks()).length >= 2 ? scheduledChecks() : undefined), { timeoutMs: 30_000 });
    for (const job of checks) {
      assert.match(job.id, /^chk_/);
      assert.deepEqual([job.type, job.scope, job.createdBy, job.reason], ['check', 'all', 'schedule', 'schedule']);
    }

    // The GET body goes back as is; only the schedule changes.
    const current = (await call('GET', '/api/settings')).body;
    const off = await call('PUT', '/api/settings', { ...current, schedules: { ...current.schedules, updateCheck: { ...current.schedules.updateCheck, enabled: false } } });
    assert.equal(off.status, 200);
    assert.equal((await call('GET', '/api/settings')).body.schedules.updateCheck.nextRunAt, null);
    await waitFor('the last scheduled check to finish', async () => (await scheduledChecks()).every((job: any) => job.status !== 'running'));
    const settled = (await scheduledChecks()).length;
    await new Promise((resolve) => setTimeout(resolve, 5000));
    assert.equal((await scheduledChecks()).length, settled, 'no scheduled check after the switch-off');
  });

  it('stops cleanly on SIGTERM', async () => {
    server.kill('SIGTERM');
    const { code } = await exited;
    assert.equal(code, 0);
  });
});

describe('backup retention after stable updates', { skip, timeout: 600_000 }, () => {
  const run = uniqueName('ret').toLowerCase();
  const image = `${infra?.registries.open.host ?? ''}/${run}/data:latest`;
  const work = mkdtempSync(join(tmpdir(), 'dockrev-retention-'));
  let api: Api;
  let project: ComposeProject;
  let stackId = '';

  const services = async () => Object.fromEntries((await api.call('getStack', { ...as, params: { stackId } })).body.stack.services.map((service: any) => [service.name, service]));
  /** A new release of the image, a check that finds it, and an update that backs the volume up first. */
  const releaseAndUpdate = async () => {
    await repointTag(image);
    await waitForJob(jobReader(api), (await api.call('createCheck', { ...as, body: { scope: 'stack', stackId } })).body.checkId);
    const data = (await services()).data;
    assert.ok(data.candidate, 'the new release is offered');
    const started = await api.call('createUpdate', {
      ...as,
      body: { scope: 'service', serviceId: data.id, targetTag: 'latest', targetDigest: data.candidate.digest, pullTags: [], backupMode: 'force' },
    });
    const job = await waitForJob(jobReader(api), started.body.jobId, { timeoutMs: 180_000, pollMs: 200 });
    assert.equal(job.status, 'success', JSON.stringify(job.summary));
    const { backup: made } = job.summary.stacks[0];
    assert.equal(made.status, 'success', JSON.stringify(made));
    // The update's end reaches retention as an engine event.
    await api.engine.events.drain();
    return made as { id: string; artifactPath: string };
  };

  before(async () => {
    await publishImage({ ref: image });
    project = await createComposeProject({ name: run, services: { data: { image, volumes: ['appdata:/var/lib/app'] } }, topLevel: { volumes: { appdata: {} } } });
    await project.up();
    api = await startApi({
      env: {
        DOCKREV_AUTH_ALLOWED_USER: 'ops',
        DOCKER_HOST: infra!.dockerHost,
        DOCKREV_COMPOSE_BIN: infra!.composeV1Bin.join(' '),
        DOCKREV_HELPER_IMAGE: infra!.baseImage,
        DOCKREV_OVERRIDE_DIR: join(work, 'overrides'),
      },
    });
    await api.call('putSettings', { ...as, body: { backup: backup(join(work, 'backups')) } });
    const scan = await waitForJob(jobReader(api), (await api.call('startDiscoveryScan', as)).body.jobId);
    stackId = scan.summary.scan.actions.find((action: any) => action.project === run).stackId;
    const stack = await api.store.stacks.get(stackId);
    // Removable as soon as the update is over, except the newest one.
    await api.store.stacks.setBackup(stackId, { ...stack!.backup, retention: { keepLast: 1, deleteAfterStableSeconds: 0 } });
  });

  after(async () => {
    await api?.close();
    await project?.dispose().catch(() => undefined);
    await removeImages([image]).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('removes an old backup, archive and record, and keeps the recent one', async () => {
    const first = await releaseAndUpdate();
    await api.engine.scheduler.runNow('backup-retention');
    assert.ok(existsSync(first.artifactPath), 'the newest backup is kept');
    assert.ok(await api.store.backups.get(first.id));

    const second = await releaseAndUpdate();
    assert.ok((await api.store.backups.get(second.id))?.cleanupAfter, 'a stable update schedules its backup for cleanup');
    assert.equal(await api.engine.scheduler.runNow('backup-retention'), true);
    assert.equal(existsSync(first.artifactPath), false, 'the old archive is gone');
    assert.equal(await api.store.backups.get(first.id), undefined, 'and its record');
    assert.ok(existsSync(second.artifactPath), 'the recent archive stays');
    assert.ok(await api.store.backups.get(second.id));
  });
});
