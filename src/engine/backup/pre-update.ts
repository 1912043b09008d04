import { nowIso } from '../../time.js';
import type { Store } from '../../store/index.js';
import type { BackupCallback } from '../update/plan.js';
import type { BackupDocker } from './helper.js';
import { discoverMountedTargets, planBackup } from './plan.js';
import { runBackup } from './run.js';

/**
 * The backup an update job takes of a stack before it touches containers (reference E.5, E.6):
 * planned from the system settings, the request's backupMode and the services' overrides, recorded
 * as a `bkp_` row, and reported with `requireSuccess` so the executor knows whether to stop.
 */
export function preUpdateBackup(deps: { store: Store; docker: BackupDocker; helperImage: string }): BackupCallback {
  return async (stack, { job, services, backupMode }) => {
    const settings = (await deps.store.settings.getSystem()).backup;
    const mounted = await discoverMountedTargets(deps.docker, stack.name, services.map((service) => service.name)).catch(async (error: unknown) => {
      await job.log('warn', `backup: cannot list the stack's mounts: ${(error as Error).message}`);
      return [];
    });
    const plan = planBackup(stack, services, settings, backupMode, mounted);
    if (!plan.run) return { status: 'skipped', reason: plan.reason };

    const record = await deps.store.backups.create({ jobId: job.id, stackId: stack.id, status: 'running' });
    await job.log('info', `backup started: ${record.id}`);
    const result = await runBackup({
      docker: deps.docker,
      helperImage: deps.helperImage,
      baseDir: settings.baseDir,
      stackId: stack.id,
      targets: plan.targets,
      skipTargetsOverBytes: settings.skipTargetsOverBytes,
    });
    await deps.store.backups.update(record.id, {
      status: result.status,
      artifactPath: result.artifactPath ?? null,
      sizeBytes: result.sizeBytes ?? null,
      details: { targets: result.targets, ...(result.error ? { error: result.error } : {}), ...(result.reason ? { reason: result.reason } : {}) },
      finishedAt: nowIso(),
    });
    if (result.status === 'success') await job.log('info', `backup finished: ${result.artifactPath} (${result.sizeBytes} bytes)`);
    return { ...result, id: record.id, requireSuccess: settings.requireSuccess };
  };
}
