import type { Logger } from 'pino';
import type { IgnoreRule, Job, JobScope, Service, Stack, Store } from '../../store/index.js';
import { DockerUnavailableError, selectRuntimeDigest, type ComposeContainer, type DockerReads } from '../docker/index.js';
import type { JobRunner, RunningJob, JobOutcome } from '../jobs/runner.js';
import { CheckSession, type ImageRef, type RegistryClient } from '../registry/index.js';
import { mapConcurrently, SerialLock } from '../../concurrency.js';
import { nowIso } from '../../time.js';
import { checkService, serviceImageRef } from './checker.js';

export interface CheckTarget {
  scope: JobScope;
  stackId?: string;
  serviceId?: string;
}

/** The message when a scope lacks the id it names (blank counts as missing); shared by checks, runtime scans and updates. */
export function scopeIdProblem(scope: JobScope, stackId: string | undefined, serviceId: string | undefined): string | undefined {
  if (scope === 'stack' && !stackId) return 'stackId is required for scope=stack';
  if (scope === 'service' && !serviceId) return 'serviceId is required for scope=service';
  return undefined;
}

/** A check or runtime-scan target from a request: the scope's own id, trimmed; other ids are dropped. */
export function checkTarget(input: { scope: JobScope; stackId?: string | null; serviceId?: string | null }): CheckTarget | { problem: string } {
  const stackId = input.stackId?.trim() || undefined;
  const serviceId = input.serviceId?.trim() || undefined;
  const problem = scopeIdProblem(input.scope, stackId, serviceId);
  if (problem) return { problem };
  if (input.scope === 'stack') return { scope: 'stack', stackId };
  if (input.scope === 'service') return { scope: 'service', serviceId };
  return { scope: 'all' };
}

export interface JobOrigin {
  createdBy: string;
  reason: string;
}

/** Another job of the same kind already works on the same target. */
export class JobConflictError extends Error {
  constructor(
    message: string,
    readonly existingJobId: string,
  ) {
    super(message);
    this.name = 'JobConflictError';
  }
}

/** A running check older than this is presumed dead and taken over. */
const STALE_CHECK_MS = 2 * 60 * 60 * 1000;
/** Services checked at once; registry load is bounded by the client's per-host limit. */
const SERVICE_CONCURRENCY = 32;
const PROGRESS_INTERVAL_MS = 250;

export interface ChecksDeps {
  store: Store;
  jobs: JobRunner;
  docker: DockerReads;
  registry: RegistryClient;
  hostPlatform: string;
  logger: Logger;
}

interface StackWork {
  stack: Stack;
  services: Service[];
}

/** A service to check, with its stack and its image reference (undefined when invalid). */
interface CheckedService {
  stack: Stack;
  service: Service;
  ref: ImageRef | undefined;
}

/** Reports progress at most every PROGRESS_INTERVAL_MS (and at the end), not once per service. */
function progressReporter(job: RunningJob, total: number) {
  let done = 0;
  let lastAt = 0;
  return async (target?: string) => {
    done += 1;
    const now = Date.now();
    if (now - lastAt < PROGRESS_INTERVAL_MS && done < total) return;
    lastAt = now;
    await job.progress({
      phase: 'scanning',
      message: `checking services (${done}/${total})`,
      current: done,
      total,
      plannedCurrent: done,
      plannedTotal: total,
      currentTarget: target,
    });
  };
}

/** Checks and runtime scans as jobs, with their 409 guards. */
export class Checks {
  private readonly guard = new SerialLock();

  constructor(private readonly deps: ChecksDeps) {}

  /** Starts a check job; with `exclusive`, a running check of the same target is a conflict. */
  async startCheck(target: CheckTarget, origin: JobOrigin & { prefix: 'chk' | 'job'; exclusive: boolean; startMessage?: string }): Promise<Job> {
    return this.guard.run(async () => {
      const { store } = this.deps;
      if (origin.exclusive) {
        const running = await store.jobs.findRunning('check', target.scope, target.stackId, target.serviceId);
        if (running) {
          const startedAt = Date.parse(running.startedAt ?? running.createdAt);
          if (Date.now() - startedAt < STALE_CHECK_MS) throw new JobConflictError('check already running', running.id);
          await store.jobs.terminate(running.id, 'stale_check');
          await store.jobs.appendLog(running.id, 'warn', 'job terminated: reason=stale_check');
        }
      }
      return this.deps.jobs.start(
        {
          prefix: origin.prefix,
          type: 'check',
          ...target,
          createdBy: origin.createdBy,
          reason: origin.reason,
          startMessage: origin.startMessage ?? 'check started',
          failureMessage: 'check failed',
        },
        (job) => this.runCheck(job, target),
      );
    });
  }

  async startRuntimeScan(target: CheckTarget, origin: JobOrigin): Promise<Job> {
    return this.guard.run(async () => {
      const running = await this.deps.store.jobs.findRunning('runtime_scan', target.scope, target.stackId, target.serviceId);
      if (running) throw new JobConflictError('runtime scan already running', running.id);
      return this.deps.jobs.start(
        {
          prefix: 'job',
          type: 'runtime_scan',
          ...target,
          ...origin,
          startMessage: 'runtime scan started',
          failureMessage: 'runtime scan failed',
        },
        (job) => this.runRuntimeScan(job, target, origin.reason),
      );
    });
  }

  /** The stacks and services a target covers; unknown ids select nothing. */
  private async selection(target: CheckTarget): Promise<StackWork[]> {
    const { store } = this.deps;
    if (target.scope === 'service') {
      const service = target.serviceId ? await store.services.get(target.serviceId) : undefined;
      const stack = service ? await store.stacks.get(service.stackId) : undefined;
      return service && stack ? [{ stack, services: [service] }] : [];
    }
    if (target.scope === 'stack') {
      const stack = target.stackId ? await store.stacks.getWithServices(target.stackId) : undefined;
      return stack ? [{ stack, services: stack.services }] : [];
    }
    const [stacks, services] = await Promise.all([store.stacks.list('include'), store.services.list('include')]);
    return stacks.map((stack) => ({ stack, services: services.filter((service) => service.stackId === stack.id) }));
  }

  /**
   * The running digest of every service in the work, from one container listing and one batch of
   * image inspections; empty when Docker cannot say (the registry side is still checked).
   */
  private async runtimeDigestsOf(targets: CheckedService[], job: RunningJob): Promise<Map<string, string | undefined>> {
    const projects = new Set(targets.map(({ stack }) => stack.name));
    try {
      const listed = await this.deps.docker.listComposeContainers(projects.size === 1 ? { project: [...projects][0] } : {});
      return await this.runtimeDigests(targets, listed);
    } catch (error) {
      const cause = error instanceof DockerUnavailableError ? 'docker unavailable' : 'docker query failed';
      await job.log('warn', `${cause}: ${(error as Error).message}`);
      return new Map();
    }
  }

  /** The repository digest each service's running containers agree on. */
  private async runtimeDigests(targets: CheckedService[], containers: ComposeContainer[]): Promise<Map<string, string | undefined>> {
    const byService = new Map<string, ComposeContainer[]>();
    for (const container of containers) {
      const key = `${container.project}\0${container.service}`;
      const own = byService.get(key);
      if (own) own.push(container);
      else byService.set(key, [container]);
    }
    const wanted = targets.flatMap(({ stack, service }) => byService.get(`${stack.name}\0${service.name}`) ?? []);
    const repoDigests = await this.deps.docker.imageRepoDigests(wanted.map((container) => container.imageId));
    const result = new Map<string, string | undefined>();
    for (const { stack, service, ref } of targets) {
      if (!ref) continue;
      const own = byService.get(`${stack.name}\0${service.name}`) ?? [];
      result.set(service.id, own.length > 0 ? selectRuntimeDigest(own.map((container) => repoDigests.get(container.imageId) ?? []), ref.key) : undefined);
    }
    return result;
  }

  private async rulesByService(): Promise<Map<string, IgnoreRule[]>> {
    const byService = new Map<string, IgnoreRule[]>();
    for (const rule of await this.deps.store.ignoreRules.list()) {
      if (!rule.enabled) continue;
      const list = byService.get(rule.scope.serviceId) ?? [];
      list.push(rule);
      byService.set(rule.scope.serviceId, list);
    }
    return byService;
  }

  private async runCheck(job: RunningJob, target: CheckTarget): Promise<JobOutcome> {
    const { store, hostPlatform } = this.deps;
    const session = new CheckSession(this.deps.registry, hostPlatform);
    // The target's distinct tags go to the registry first (one light query); reading the services
    // in full, Docker and the first job writes all overlap those lookups.
    for (const image of await store.services.imageTags({ stackId: target.stackId, serviceId: target.serviceId })) {
      const ref = serviceImageRef({ image });
      if (ref) void session.tagDigest(ref, image.tag);
    }
    // Sockets write on the next tick; SQLite answers synchronously inside promise jobs, so without
    // a turn of the event loop here the lookups would leave only after the reads below.
    await new Promise((resolve) => setImmediate(resolve));
    const work = await this.selection(target);
    const services = work.flatMap(({ stack, services: own }) => own.map((service) => ({ stack, service, ref: serviceImageRef(service) })));
    const total = services.length;
    await job.progress({ phase: 'prepare', message: `preparing check targets (${total} services)`, current: 0, total, plannedCurrent: 0, plannedTotal: total });
    const [runtime, rules] = await Promise.all([this.runtimeDigestsOf(services, job), this.rulesByService()]);
    const report = progressReporter(job, total);
    const now = nowIso();
    const checks = await mapConcurrently(services, SERVICE_CONCURRENCY, async ({ stack, service, ref }) => {
      const check = await checkService({ session, service, ref, runtimeDigest: runtime.get(service.id), rules: rules.get(service.id) ?? [], now });
      if (check.result.status !== 'ok') await job.log('warn', `${stack.name}/${service.name}: ${check.result.error}`);
      await report(`${stack.name}/${service.name}`);
      return check;
    });
    await store.services.updateStates(
      checks.filter(({ patch }) => Object.keys(patch).length > 0).map(({ result, patch }) => ({ id: result.serviceId, patch })),
    );
    await store.stacks.setLastCheckAt(work.map(({ stack }) => stack.id));

    const results = checks.map(({ result }) => result).sort((a, b) => a.stackId.localeCompare(b.stackId) || a.service.localeCompare(b.service));
    const withCandidate = results.filter((result) => result.candidateDigest);
    const failed = results.filter((result) => result.status === 'failed');
    await job.log('info', `check finished: servicesChecked=${results.length} servicesWithCandidate=${withCandidate.length}`);
    await job.progress({ phase: 'done', message: 'check finished', current: total, total, plannedCurrent: total, plannedTotal: total });
    const newVersions = withCandidate.filter((result) => result.newCandidate && !result.ignored);
    return {
      summary: {
        hostPlatform,
        scope: target.scope,
        stackIds: work.map(({ stack }) => stack.id),
        servicesChecked: results.length,
        servicesWithCandidate: withCandidate.length,
        servicesFailed: failed.length,
        services: results,
        ...(newVersions.length > 0 ? { newVersions: { services: newVersions } } : {}),
      },
    };
  }

  private async runRuntimeScan(job: RunningJob, target: CheckTarget, reason: string): Promise<JobOutcome> {
    const { hostPlatform } = this.deps;
    await job.event('runtime_scan_started', { scope: target.scope, stackId: target.stackId, serviceId: target.serviceId, reason, hostPlatform });
    try {
      const summary = await this.scanRuntime(job, target);
      await job.event('runtime_scan_finished', { summary });
      return { summary };
    } catch (error) {
      // Stream clients wait for this event to close, so it is sent on failure too.
      const summary = { error: (error as Error).message, progress: job.lastProgress };
      await job.event('runtime_scan_finished', { status: 'failed', summary });
      throw error;
    }
  }

  private async scanRuntime(job: RunningJob, target: CheckTarget): Promise<Record<string, unknown>> {
    const { store, hostPlatform } = this.deps;
    const work = await this.selection(target);
    await job.progress({ phase: 'prepare', message: `preparing runtime scan (${work.length} stacks)`, current: 0, total: work.length });
    const rules = await this.rulesByService();
    // Only drifted services reach the registry, so a scan without drift makes no registry call.
    let session: CheckSession | undefined;
    const counts = { stacksScanned: 0, stacksWithErrors: 0, servicesWithRuntimeDigest: 0, servicesDrifted: 0, servicesUpdated: 0 };

    for (const [index, { stack, services }] of work.entries()) {
      await job.progress({ phase: 'scanning', message: `scanning stack ${stack.name}`, current: index, total: work.length, currentTarget: stack.name });
      const project = await store.discoveryProjects.get(stack.name);
      if (!project || project.stackId !== stack.id) continue;
      let containers: ComposeContainer[];
      try {
        containers = await this.deps.docker.listComposeContainers({ project: stack.name });
      } catch (error) {
        // No engine at all fails the scan; a query that failed for one stack is counted.
        if (error instanceof DockerUnavailableError) throw error;
        counts.stacksWithErrors += 1;
        await job.log('warn', `runtime scan: docker query failed for stack ${stack.id} project ${stack.name}: ${(error as Error).message}`);
        continue;
      }
      counts.stacksScanned += 1;
      const targets = services.map((service) => ({ stack, service, ref: serviceImageRef(service) }));
      const runtime = await this.runtimeDigests(targets, containers);
      for (const { service, ref } of targets) {
        const runtimeDigest = runtime.get(service.id);
        if (!runtimeDigest) continue;
        counts.servicesWithRuntimeDigest += 1;
        if (runtimeDigest === service.image.digest) continue;
        counts.servicesDrifted += 1;
        session ??= new CheckSession(this.deps.registry, hostPlatform);
        const { result, patch } = await checkService({ session, service, ref, runtimeDigest, rules: rules.get(service.id) ?? [], now: nowIso() });
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
    return { hostPlatform, scope: target.scope, stackIds: work.map(({ stack }) => stack.id), ...counts, progress: job.lastProgress };
  }
}
