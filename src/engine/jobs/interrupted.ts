// What happens to jobs that stopped without ending: at start-up those of a previous run of this
// process (or of any owner gone silent), later those the reconciler finds. They are failed with a
// reason; GitHub webhook work is idempotent and is queued again; services an update was changing
// get a running container again.
import type { Logger } from 'pino';
import type { Job, Store } from '../../store/index.js';
import type { GithubPackages } from '../github/index.js';
import { GITHUB_JOB_TYPES } from '../github/webhook-jobs.js';
import { recoverInterruptedUpdates, type RecoveryDeps } from '../update/recovery.js';

export interface InterruptedJobsDeps {
  store: Store;
  logger: Logger;
  github: GithubPackages;
  updates: RecoveryDeps;
}

const isGithubJob = (job: Job) => (GITHUB_JOB_TYPES as readonly string[]).includes(job.type);

/** Follow-up work for jobs already ended as failed. */
export async function afterInterruptedJobs(deps: InterruptedJobsDeps, ended: readonly Job[]): Promise<void> {
  const requeued = await deps.github.requeue(ended.filter(isGithubJob));
  if (requeued.length > 0) deps.logger.warn({ jobs: requeued.map((job) => job.id) }, 'queued interrupted github webhook jobs again');
  const report = await recoverInterruptedUpdates(deps.updates, ended.filter((job) => job.type === 'update').map((job) => job.id));
  if (report.restarted.length > 0 || report.failures.length > 0 || report.removedOverrideFiles.length > 0) {
    deps.logger.warn({ report }, 'recovered interrupted updates');
  }
}

/**
 * Start-up: running jobs are failed as `server_restart`, except, when instances share the database
 * (`spare`), those of another instance whose owner beat since `seenSince` (it runs them). A
 * previous run of this instance (same instance name) is gone whatever its last beat.
 */
export async function recoverAfterRestart(deps: InterruptedJobsDeps, spare?: { instance: string; seenSince: string }): Promise<void> {
  const { store, logger } = deps;
  const running = await store.jobs.runningWithOwners();
  const alive = ({ owner, ownerSeenAt }: { owner?: string; ownerSeenAt?: string }) =>
    spare !== undefined && owner !== undefined && !owner.startsWith(`${spare.instance}:`) && ownerSeenAt !== undefined && ownerSeenAt >= spare.seenSince;
  const orphaned = running.filter((entry) => !alive(entry));
  const ended: Job[] = [];
  for (const { job } of orphaned) if (await store.jobs.terminate(job.id, 'server_restart')) ended.push(job);
  if (ended.length > 0) logger.warn({ jobs: ended.length }, 'marked jobs interrupted by a restart as failed');
  await afterInterruptedJobs(deps, ended);
}
