// Runtime scans (behaviour.md §E.4): what the containers run now, against what was stored; only
// services whose running digest drifted reach the registry.
import { nowIso } from '../../time.js';
import { DockerUnavailableError, type ComposeContainer } from '../docker/index.js';
import { pendingEvent, type CandidateFoundEvent, type RuntimeScanFinishedEvent } from '../events.js';
import type { JobOutcome, RunningJob } from '../jobs/runner.js';
import { CheckSession } from '../registry/index.js';
import { checkService, serviceImageRef } from './checker.js';
import type { ChecksDeps } from './checks.js';
import type { CheckTarget, JobOrigin } from './targets.js';
import { candidateFound, rulesByService, runtimeDigests, selection } from './work.js';

export async function runRuntimeScan(deps: ChecksDeps, job: RunningJob, target: CheckTarget, origin: JobOrigin): Promise<JobOutcome> {
  const { hostPlatform } = deps;
  const { reason } = origin;
  await job.event('runtime_scan_started', { scope: target.scope, stackId: target.stackId, serviceId: target.serviceId, reason, hostPlatform });
  try {
    const { summary, drifted, found } = await scanRuntime(deps, job, target, origin);
    await job.event('runtime_scan_finished', { summary });
    return {
      summary,
      events: [...found.map((event) => pendingEvent('candidate.found', event)), pendingEvent('runtime_scan.finished', { jobId: job.id, reason, drifted })],
    };
  } catch (error) {
    // Stream clients wait for this event to close, so it is sent on failure too.
    const summary = { error: (error as Error).message, progress: job.lastProgress };
    await job.event('runtime_scan_finished', { status: 'failed', summary });
    throw error;
  }
}


async function scanRuntime(
  deps: ChecksDeps,
  job: RunningJob,
  target: CheckTarget,
  origin: JobOrigin,
): Promise<{ summary: Record<string, unknown>; drifted: RuntimeScanFinishedEvent['drifted']; found: CandidateFoundEvent[] }> {
  const { store, hostPlatform } = deps;
  const work = await selection(store, target);
  await job.progress({ phase: 'prepare', message: `preparing runtime scan (${work.length} stacks)`, current: 0, total: work.length });
  const rules = await rulesByService(store);
  // Only drifted services reach the registry, so a scan without drift makes no registry call.
  let session: CheckSession | undefined;
  const counts = { stacksScanned: 0, stacksWithErrors: 0, servicesWithRuntimeDigest: 0, servicesDrifted: 0, servicesUpdated: 0 };
  const drifted: RuntimeScanFinishedEvent['drifted'] = [];
  const found: CandidateFoundEvent[] = [];

  for (const [index, { stack, services }] of work.entries()) {
    await job.progress({ phase: 'scanning', message: `scanning stack ${stack.name}`, current: index, total: work.length, currentTarget: stack.name });
    const project = await store.discoveryProjects.get(stack.name);
    if (!project || project.stackId !== stack.id) continue;
    let containers: ComposeContainer[];
    try {
      containers = await deps.docker.listComposeContainers({ project: stack.name });
    } catch (error) {
      // No engine at all fails the scan; a query that failed for one stack is counted.
      if (error instanceof DockerUnavailableError) throw error;
      counts.stacksWithErrors += 1;
      await job.log('warn', `runtime scan: docker query failed for stack ${stack.id} project ${stack.name}: ${(error as Error).message}`);
      continue;
    }
    counts.stacksScanned += 1;
    const targets = services.map((service) => ({ stack, service, ref: serviceImageRef(service) }));
    const runtime = await runtimeDigests(deps.docker, targets, containers);
    for (const { service, ref } of targets) {
      const runtimeDigest = runtime.get(service.id);
      if (!runtimeDigest) continue;
      counts.servicesWithRuntimeDigest += 1;
      if (runtimeDigest === service.image.digest) continue;
      counts.servicesDrifted += 1;
      session ??= new CheckSession(deps.registry, hostPlatform);
      drifted.push({ stackId: stack.id, serviceId: service.id, ...(service.image.digest ? { previousDigest: service.image.digest } : {}), runtimeDigest });
      const check = await checkService({ session, service, ref, runtimeDigest, rules: rules.get(service.id) ?? [], now: nowIso() });
      const { result, patch } = check;
      const candidate = candidateFound(job.id, origin.reason, { stack, service }, check);
      if (candidate) found.push(candidate);
      // If the registry could not confirm the old candidate against the new runtime, drop it.
      await store.services.updateState(service.id, result.status === 'failed' ? { ...patch, candidate: null, ignore: null } : patch);
      const updated = await store.services.get(service.id);
      if (result.status !== 'skipped') counts.servicesUpdated += 1;
      await job.event('runtime_scan_service', {
        stackId: stack.id,
        serviceId: service.id,
        serviceName: service.name,
        imageRef: service.image.ref,
        rawTag: service.image.tag,
        runtimeDigest,
        dbDigestBefore: service.image.digest ?? null,
        updated: { currentDigest: updated?.image.digest ?? null, resolvedTag: updated?.image.resolvedTag ?? null, resolvedTags: updated?.image.resolvedTags ?? [] },
        changed: true,
        inferenceOk: result.status === 'ok',
        ...(result.error ? { error: result.error } : {}),
      });
    }
    await store.stacks.setLastCheckAt(stack.id);
  }

  await job.progress({ phase: 'done', message: 'runtime scan finished', current: work.length, total: work.length });
  return {
    summary: { hostPlatform, scope: target.scope, stackIds: work.map(({ stack }) => stack.id), ...counts, progress: job.lastProgress },
    drifted,
    found,
  };
}
