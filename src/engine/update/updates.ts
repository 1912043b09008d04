import type { Job, Store } from '../../store/index.js';
import { DomainError } from '../../errors.js';
import type { JobOrigin } from '../check/targets.js';
import { SerialLock } from '../../concurrency.js';
import { pendingEvent } from '../events.js';
import type { JobRunner } from '../jobs/runner.js';
import type { UpdateDeps } from './deps.js';
import { executeUpdate } from './execute.js';
import { executionPlan } from './plan.js';
import { serviceIdsOf, type ValidatedUpdatePlan } from './validate.js';

/** Starts update jobs; one job at a time may change a given service. */
export class Updates {
  private readonly guard = new SerialLock();

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly executor: UpdateDeps,
  ) {}

  /** The running update job that holds one of these services, if any. */
  private async holder(serviceIds: readonly string[]): Promise<Job | undefined> {
    if (serviceIds.length === 0) return undefined;
    const wanted = new Set(serviceIds);
    const { jobs } = await this.store.jobs.list({ types: ['update'], status: 'running', limit: 200 });
    return jobs.find((job) => {
      const targets = (job.summary.targets ?? []) as { serviceId?: string }[];
      return targets.some((target) => target.serviceId !== undefined && wanted.has(target.serviceId));
    });
  }

  async start(validated: ValidatedUpdatePlan, origin: JobOrigin): Promise<Job> {
    return this.guard.run(async () => {
      const serviceIds = serviceIdsOf(validated);
      if (validated.mode === 'apply') {
        const holder = await this.holder(serviceIds);
        if (holder) throw new DomainError('busy', 'service operation is already running', { existingJobId: holder.id });
      }
      const targets = validated.targets.map((target) => ({ ...target }));
      return this.jobs.start(
        {
          prefix: 'job',
          type: 'update',
          scope: validated.scope,
          stackId: validated.stackId,
          serviceId: validated.serviceId,
          ...origin,
          allowArchMismatch: validated.allowArchMismatch,
          backupMode: validated.backupMode,
          // Recorded before the job runs, so a concurrent request sees which services it holds.
          summary: { mode: validated.mode, targets },
          startMessage: 'update started',
          failureMessage: 'update failed',
        },
        async (job) => {
          await job.progress({ phase: 'prepare', message: 'preparing update job', current: 0, total: 0 });
          const { plan, missingStackIds } = await executionPlan(this.store, validated);
          for (const stackId of missingStackIds) await job.log('warn', `skipped missing stack ${stackId}`);
          const outcome = await executeUpdate(job, plan, this.executor);
          const finished = { jobId: job.id, reason: validated.reason, createdBy: origin.createdBy, mode: validated.mode, status: outcome.status, stacks: outcome.outcomes };
          return { status: outcome.status, summary: { ...outcome.summary, targets }, events: [pendingEvent('update.finished', finished)] };
        },
      );
    });
  }
}
