// Checks (behaviour.md §E.3) as jobs: the registry digest of each service's tag against what runs.
import type { Logger } from 'pino';
import { mapConcurrently, SerialLock } from '../../concurrency.js';
import { DomainError } from '../../errors.js';
import type { Job, Store } from '../../store/index.js';
import { nowIso } from '../../time.js';
import { DockerUnavailableError, type DockerReads } from '../docker/index.js';
import { pendingEvent } from '../events.js';
import type { JobOutcome, JobRunner, RunningJob } from '../jobs/runner.js';
import { CheckSession, type RegistryClient } from '../registry/index.js';
import { checkService, serviceImageRef } from './checker.js';
import { auditOf, mergeAudit, type PushOrigin } from './push.js';
import { runRuntimeScan } from './runtime-scan.js';
import { checkJobSpec, type CheckOrigin, type CheckTarget, type JobOrigin } from './targets.js';
import { candidateFound, rulesByService, runtimeDigests, selection, type CheckedService } from './work.js';

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

/** Checks and runtime scans as jobs, with their "already running" guards. */
export class Checks {
  private readonly guard = new SerialLock();

  constructor(private readonly deps: ChecksDeps) {}

  /** Starts a check job; for exclusive origins a running check of the same target is `busy`. */
  async startCheck(target: CheckTarget, from: CheckOrigin): Promise<Job> {
    const origin = checkJobSpec(from);
    return this.guard.run(async () => {
      const { store } = this.deps;
      if (origin.exclusive) {
        const running = await store.jobs.findRunning('check', target.scope, target.stackId, target.serviceId);
        if (running) {
          const startedAt = Date.parse(running.startedAt ?? running.createdAt);
          if (Date.now() - startedAt < STALE_CHECK_MS) throw new DomainError('busy', 'check already running', { existingJobId: running.id });
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
          startMessage: origin.startMessage,
          failureMessage: 'check failed',
        },
        (job) => this.runCheck(job, target, origin),
      );
    });
  }

  /**
   * A check of one service for a push notice: the service-scope check running for it (younger
   * than 2 h) is joined and its summary gains the notice's audit fields; otherwise a new `chk_` job
   * starts with reason `webhook`. Concurrent notices for the same service end up on one job.
   */
  async checkForPush(serviceId: string, origin: PushOrigin): Promise<{ job: Job; reused: boolean }> {
    return this.guard.run(async () => {
      const { store } = this.deps;
      const running = await store.jobs.findRunning('check', 'service', undefined, serviceId);
      if (running) {
        const startedAt = Date.parse(running.startedAt ?? running.createdAt);
        if (Date.now() - startedAt < STALE_CHECK_MS) {
          await store.jobs.mergeSummary(running.id, mergeAudit(auditOf(running.summary), origin.audit));
          return { job: running, reused: true };
        }
        await store.jobs.terminate(running.id, 'stale_check');
        await store.jobs.appendLog(running.id, 'warn', 'job terminated: reason=stale_check');
      }
      const service = await store.services.get(serviceId);
      const target: CheckTarget = { scope: 'service', serviceId };
      const spec = { createdBy: origin.createdBy, reason: 'webhook' };
      const job = await this.deps.jobs.start(
        {
          prefix: 'chk',
          type: 'check',
          ...target,
          ...(service ? { stackId: service.stackId } : {}),
          ...spec,
          summary: origin.audit,
          startMessage: origin.startMessage,
          failureMessage: 'check failed',
        },
        (running) => this.runCheck(running, target, spec),
      );
      return { job, reused: false };
    });
  }

  async startRuntimeScan(target: CheckTarget, origin: JobOrigin): Promise<Job> {
    return this.guard.run(async () => {
      const running = await this.deps.store.jobs.findRunning('runtime_scan', target.scope, target.stackId, target.serviceId);
      if (running) throw new DomainError('busy', 'runtime scan already running', { existingJobId: running.id });
      return this.deps.jobs.start(
        {
          prefix: 'job',
          type: 'runtime_scan',
          ...target,
          ...origin,
          startMessage: 'runtime scan started',
          failureMessage: 'runtime scan failed',
        },
        (job) => runRuntimeScan(this.deps, job, target, origin),
      );
    });
  }

  /**
   * The running digest of every service in the work, from one container listing and one batch of
   * image inspections; empty when Docker cannot say (the registry side is still checked).
   */
  private async runtimeDigestsOf(targets: CheckedService[], job: RunningJob): Promise<Map<string, string | undefined>> {
    const projects = new Set(targets.map(({ stack }) => stack.name));
    try {
      const listed = await this.deps.docker.listComposeContainers({ projects: [...projects] });
      return await runtimeDigests(this.deps.docker, targets, listed);
    } catch (error) {
      const cause = error instanceof DockerUnavailableError ? 'docker unavailable' : 'docker query failed';
      await job.log('warn', `${cause}: ${(error as Error).message}`);
      return new Map();
    }
  }

  private async runCheck(job: RunningJob, target: CheckTarget, origin: JobOrigin): Promise<JobOutcome> {
    const { store, hostPlatform } = this.deps;
    const session = new CheckSession(this.deps.registry, hostPlatform);
    // The target's distinct tags go to the registry first (one light query); reading the services
    // in full, Docker and the first job writes all overlap those lookups.
    session.prefetch(
      (await store.services.imageTags({ stackId: target.stackId, serviceId: target.serviceId })).flatMap((image) => {
        const ref = serviceImageRef({ image });
        return ref ? [{ target: ref, tag: image.tag }] : [];
      }),
    );
    // Sockets write on the next tick; SQLite answers synchronously inside promise jobs, so without
    // a turn of the event loop here the lookups would leave only after the reads below.
    await new Promise((resolve) => setImmediate(resolve));
    const work = await selection(this.deps.store, target);
    const services = work.flatMap(({ stack, services: own }) => own.map((service) => ({ stack, service, ref: serviceImageRef(service) })));
    const total = services.length;
    await job.progress({ phase: 'prepare', message: `preparing check targets (${total} services)`, current: 0, total, plannedCurrent: 0, plannedTotal: total });
    const [runtime, rules] = await Promise.all([this.runtimeDigestsOf(services, job), rulesByService(this.deps.store)]);
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
    const found = services.flatMap((checked, index) => {
      const event = candidateFound(job.id, origin.reason, checked, checks[index]!);
      return event ? [event] : [];
    });
    const stackIds = work.map(({ stack }) => stack.id);
    // Push notices that joined this check while it ran recorded where they came from.
    const audit = auditOf((await store.jobs.get(job.id))?.summary);
    return {
      events: [
        ...found.map((event) => pendingEvent('candidate.found', event)),
        pendingEvent('check.finished', {
          jobId: job.id,
          reason: origin.reason,
          createdBy: origin.createdBy,
          scope: target.scope,
          stackIds,
          servicesChecked: results.length,
          servicesWithCandidate: withCandidate.length,
          newCandidates: found.filter((event) => !event.ignored),
          ...(typeof audit.source === 'string' ? { source: audit.source } : {}),
        }),
      ],
      summary: {
        hostPlatform,
        scope: target.scope,
        stackIds,
        servicesChecked: results.length,
        servicesWithCandidate: withCandidate.length,
        servicesFailed: failed.length,
        services: results,
        ...(newVersions.length > 0 ? { newVersions: { services: newVersions } } : {}),
        ...audit,
      },
    };
  }
}
