// What a `job_finished` notification says about an update job, and when it is not sent: failures
// always notify; a success whose every touched service or stack is archived does not
// (behaviour.md §E.5), and the job says so (`notify skipped (<reason>)`).
import type { Job, Service, Stack, Store } from '../../store/index.js';
import type { JobFinishedEvent } from '../events.js';
import type { JobNotificationInput, ServiceRef } from './payload.js';

export type JobNotificationPlan = { skip: string } | { input: JobNotificationInput };

interface StackSummary {
  stackId?: string;
  update?: { changedServices?: number; error?: string; failureStep?: string };
}

/** The service ids an update job was asked to change (its targets). */
function targetIds(job: Job): string[] {
  const targets = (job.summary.targets ?? []) as { serviceId?: unknown }[];
  return targets.flatMap((target) => (typeof target.serviceId === 'string' ? [target.serviceId] : []));
}

export async function planJobNotification(store: Store, event: Readonly<JobFinishedEvent>): Promise<JobNotificationPlan> {
  const job = await store.jobs.get(event.jobId);
  if (!job) return { skip: 'job not found' };
  const services = (await Promise.all(targetIds(job).map((id) => store.services.get(id)))).filter((service): service is Service => Boolean(service));
  const stackSummaries = (job.summary.stacks ?? []) as StackSummary[];
  const stackIds = new Set([...services.map((service) => service.stackId), ...stackSummaries.flatMap((entry) => (entry.stackId ? [entry.stackId] : [])), ...(job.stackId ? [job.stackId] : [])]);
  const stacks = new Map<string, Stack>();
  for (const id of stackIds) {
    const stack = await store.stacks.get(id);
    if (stack) stacks.set(id, stack);
  }

  if (event.status === 'success') {
    const skip = archivedSkip(job, services, stacks);
    if (skip) return { skip };
  }

  const refs: ServiceRef[] = services.map((service) => ({
    stackId: service.stackId,
    stackName: stacks.get(service.stackId)?.name ?? service.stackId,
    serviceId: service.id,
    serviceName: service.name,
  }));
  const failed = stackSummaries.find((entry) => entry.update?.error || entry.update?.failureStep);
  const error = typeof job.summary.error === 'string' ? job.summary.error : failed?.update?.error;
  return {
    input: {
      job: {
        id: job.id,
        type: job.type,
        scope: job.scope,
        status: event.status,
        reason: job.reason,
        createdBy: job.createdBy,
        createdAt: job.createdAt,
        ...(job.startedAt ? { startedAt: job.startedAt } : {}),
        finishedAt: event.finishedAt,
        ...(job.stackId ? { stackId: job.stackId } : {}),
        ...(job.serviceId ? { serviceId: job.serviceId } : {}),
      },
      mode: typeof job.summary.mode === 'string' ? job.summary.mode : 'apply',
      services: refs,
      changedServices: stackSummaries.reduce((sum, entry) => sum + (entry.update?.changedServices ?? 0), 0),
      ...(error ? { error } : {}),
      ...(failed?.update?.failureStep ? { failureStep: failed.update.failureStep } : {}),
    },
  };
}

/** Why a successful update notifies nobody, or undefined when it notifies. */
export function archivedSkip(job: Pick<Job, 'scope' | 'serviceId' | 'stackId'>, services: readonly Service[], stacks: ReadonlyMap<string, Stack>): string | undefined {
  const stackArchived = (id: string) => stacks.get(id)?.archived === true;
  if (job.scope === 'service') {
    const service = services.find((candidate) => candidate.id === job.serviceId) ?? services[0];
    if (service?.archived) return 'archived service';
    if (service && stackArchived(service.stackId)) return 'archived stack';
    return undefined;
  }
  if (job.scope === 'stack') {
    if (job.stackId && stackArchived(job.stackId)) return 'archived stack';
    if (services.length > 0 && services.every((service) => service.archived)) return 'archived service';
    return undefined;
  }
  const touched = [...stacks.keys()];
  if (touched.length === 0) return undefined;
  const allStacksArchived = touched.every(stackArchived);
  const onlyArchivedServices = services.length > 0 && services.every((service) => service.archived || stackArchived(service.stackId));
  return allStacksArchived || onlyArchivedServices ? 'all stacks archived or only archived services touched' : undefined;
}
