// Start-up recovery after a crash or SIGKILL during an update: the override files and staged Docker
// configs (credentials) of dead jobs are deleted, and every service an interrupted job was
// recreating gets a running container again, started from the plain Compose files. Safe to run
// any number of times.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorText } from '../../errors.js';
import type { Store } from '../../store/index.js';
import type { DockerEngine } from '../docker/engine.js';
import { openCommandSession, type CommandDeps, type CommandSession } from './commands.js';
import type { ApplyingRecord } from './plan.js';
import { jobOwningOverrideEntry } from './scratch.js';
import type { StepLog } from './steps.js';

export interface RecoveryDeps extends CommandDeps {
  store: Store;
  docker: DockerEngine;
}

export interface RecoveryReport {
  /** Override files of jobs that are no longer running. */
  removedOverrideFiles: string[];
  /** Staged copies of the Docker credentials those jobs left. */
  removedDockerConfigs: string[];
  /** Services that had no running container and were started again. */
  restarted: { jobId: string; stackId: string; services: string[] }[];
  failures: { jobId: string; stackId?: string; error: string }[];
}

/**
 * Call after marking the interrupted jobs failed. Override files are removed unless their job is
 * still queued or running (another instance sharing the folder); containers are only started,
 * never recreated, so services the crashed job had already updated keep running as they are.
 */
export async function recoverInterruptedUpdates(deps: RecoveryDeps, interruptedJobIds: readonly string[]): Promise<RecoveryReport> {
  const report: RecoveryReport = { removedOverrideFiles: [], removedDockerConfigs: [], restarted: [], failures: [] };
  const interrupted = new Set(interruptedJobIds);
  let commands: CommandSession | undefined;
  try {
    await removeLeftoverOverrides(deps, interrupted, report);
    for (const jobId of interrupted) {
      const job = await deps.store.jobs.get(jobId);
      const applying = job?.type === 'update' ? (job.summary.applying as ApplyingRecord | null | undefined) : undefined;
      if (!applying) continue;
      const log = jobLog(deps.store, jobId);
      try {
        // Credentials are staged once, and only when a service has to be started.
        commands ??= await openCommandSession(deps, 'recovery', log);
        const services = await restartMissingServices(deps, applying, log, commands);
        if (services.length > 0) report.restarted.push({ jobId, stackId: applying.stackId, services });
      } catch (error) {
        report.failures.push({ jobId, stackId: applying.stackId, error: errorText(error) });
        await log.log('error', `recovery: cannot restore the services of stack ${applying.stackId}: ${errorText(error)}`);
      }
    }
    return report;
  } finally {
    await commands?.dispose();
  }
}

function jobLog(store: Store, jobId: string): StepLog {
  return {
    async log(level, message) {
      await store.jobs.appendLog(jobId, level, message);
    },
  };
}

async function removeLeftoverOverrides(deps: RecoveryDeps, interrupted: ReadonlySet<string>, report: RecoveryReport): Promise<void> {
  let names: string[];
  try {
    names = await readdir(deps.overrideDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    const jobId = jobOwningOverrideEntry(name);
    if (!jobId) continue;
    if (!interrupted.has(jobId)) {
      const job = await deps.store.jobs.get(jobId);
      if (job && (job.status === 'running' || job.status === 'queued')) continue;
    }
    const path = join(deps.overrideDir, name);
    await rm(path, { recursive: true, force: true });
    (name.endsWith('.yml') ? report.removedOverrideFiles : report.removedDockerConfigs).push(path);
    if (interrupted.has(jobId)) await jobLog(deps.store, jobId).log('info', `recovery: removed leftover ${path}`);
  }
}

/** `up -d --no-deps` from the plain files for the services that have no running container. */
async function restartMissingServices(deps: RecoveryDeps, applying: ApplyingRecord, log: StepLog, commands: CommandSession): Promise<string[]> {
  const stack = await deps.store.stacks.get(applying.stackId);
  if (!stack) throw new Error(`stack ${applying.stackId} no longer exists`);
  const running = await deps.docker.listComposeContainers({ project: stack.name });
  const missing = applying.services.filter((service) => !running.some((container) => container.service === service));
  if (missing.length === 0) return [];

  await log.log('warn', `recovery: ${missing.join(', ')} of stack ${stack.name} had no running container after the interrupted update; starting from the compose files`);
  await commands.composeFor(stack, log).up(missing, { step: 'recovery' });
  await log.log('info', `recovery: started ${missing.join(', ')} of stack ${stack.name}`);
  return missing;
}
