import type { Job, Store } from '../../store/index.js';
import { JobConflictError, type JobOrigin } from '../check/checks.js';
import { SerialLock } from '../../concurrency.js';
import type { JobRunner } from '../jobs/runner.js';
import { executeUpdate, type StackUpdatePlan, type UpdateDeps, type UpdatePlan } from './execute.js';
import { serviceIdsOf, type ValidatedUpdatePlan } from './validate.js';

/** Turns a validated request into the per-stack plan the executor works through. */
export async function executionPlan(store: Store, validated: ValidatedUpdatePlan): Promise<{ plan: UpdatePlan; missingStackIds: string[] }> {
  const stacks: StackUpdatePlan[] = [];
  const missingStackIds: string[] = [];
  for (const stackId of validated.stackIds) {
    const stack = await store.stacks.getWithServices(stackId);
    if (!stack) {
      missingStackIds.push(stackId);
      continue;
    }
    const byId = new Map(stack.services.map((service) => [service.id, service]));
    const services = validated.targets
      .filter((target) => target.stackId === stackId && byId.has(target.serviceId))
      .map((target) => ({
        service: byId.get(target.serviceId)!,
        targetTag: target.targetTag,
        targetDigest: target.targetDigest,
        pullTags: target.pullTags,
        skipTagFollowups: target.skipTagFollowups,
      }));
    const skippedVersionAnomaly = validated.skippedVersionAnomaly.filter((anomaly) => byId.has(anomaly.serviceId));
    stacks.push({ stack, services, skippedVersionAnomaly });
  }
  const { mode, reason, backupMode, allowArchMismatch } = validated;
  return { plan: { mode, reason, backupMode, allowArchMismatch, stacks }, missingStackIds };
}

/** Starts update jobs; one job at a time may change a given service. */
export class Updates {
  private readonly guard = new SerialLock();

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly executor: Omit<UpdateDeps, 'store'>,
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
        if (holder) throw new JobConflictError('service operation is already running', holder.id);
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
          const outcome = await executeUpdate(job, plan, { ...this.executor, store: this.store });
          return { status: outcome.status, summary: { ...outcome.summary, targets } };
        },
      );
    });
  }
}
