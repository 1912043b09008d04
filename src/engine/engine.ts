import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DomainError } from '../errors.js';
import type { ArchiveFilter, Job, JobScope, Service, StackWithServices, Store } from '../store/index.js';
import { serviceImageRef } from './check/checker.js';
import { Checks } from './check/checks.js';
import type { PushOrigin } from './check/push.js';
import { checkTarget, type CheckOrigin, type JobOrigin } from './check/targets.js';
import { DiscoveryScanner } from './discovery/index.js';
import { DockerEngine, DockerStateCache } from './docker/index.js';
import { EngineEvents, pendingEvent } from './events.js';
import { JobRunner } from './jobs/runner.js';
import { StackOverview, type OverviewEntry } from './overview.js';
import { RegistryClient, type RegistryClientOptions } from './registry/index.js';
import { Scheduler } from './schedule/scheduler.js';
import { putSystemSettings, type SystemSettingsInput } from './settings.js';
import { executorDeps, type UpdateDeps } from './update/deps.js';
import { recoverInterruptedUpdates } from './update/recovery.js';
import { Updates } from './update/updates.js';
import { validateUpdateRequest, type UpdateRequestInput } from './update/validate.js';
import { validateWebhookTrigger, type WebhookTriggerInput } from './update/webhook-trigger.js';

export interface EngineOptions {
  config: Config;
  store: Store;
  logger: Logger;
  /** Extra registry client options (e.g. a request counter for benchmarks). */
  registry?: Pick<RegistryClientOptions, 'onRequest'>;
}

/** Who asks for an update: a user through the API, or CI through the webhook trigger (always `apply`, reason `webhook`). */
export type UpdateOrigin = { via: 'api'; createdBy: string } | { via: 'webhook' };

/** A check or runtime-scan target as a request names it. */
export interface TargetInput {
  scope: JobScope;
  stackId?: string | null;
  serviceId?: string | null;
}

/**
 * Everything Dockrev does to Docker hosts and registries, as jobs. No HTTP in here: requests the
 * engine refuses throw a DomainError whose kind src/http maps to a status.
 */
export class Engine {
  /** What the engine publishes; notifications, inference and streams subscribe here. */
  readonly events: EngineEvents;
  readonly jobs: JobRunner;
  readonly docker: DockerEngine;
  /** Listings kept while Docker's event stream reports no change: checks, scans, discovery, status. */
  readonly dockerState: DockerStateCache;
  private readonly checks: Checks;
  private readonly updates: Updates;
  /** Background tasks on a cron or an interval (scheduled checks, audits, retention, GC). */
  readonly scheduler: Scheduler;
  private readonly discovery: DiscoveryScanner;
  private readonly overview: StackOverview;
  private readonly executor: UpdateDeps;
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    private readonly options: EngineOptions,
    readonly registry: RegistryClient,
  ) {
    const { config, store, logger } = options;
    this.events = new EngineEvents(logger);
    this.jobs = new JobRunner(store, logger, this.events);
    this.docker = new DockerEngine({ dockerHost: config.dockerHost });
    this.dockerState = new DockerStateCache(this.docker, { logger });
    this.checks = new Checks({ store, jobs: this.jobs, docker: this.dockerState, registry, hostPlatform: config.hostPlatform, logger });
    this.executor = executorDeps(config, store, this.docker);
    this.updates = new Updates(store, this.jobs, this.executor);
    this.discovery = new DiscoveryScanner({
      docker: this.dockerState,
      store,
      maxActions: config.discovery.maxActions,
      scope: { requireLabel: config.discovery.requireLabel, selfImageRepo: config.imageRepo },
    });
    this.overview = new StackOverview(store, this.dockerState);
    this.scheduler = new Scheduler(store, logger);
    this.scheduler.add({
      name: 'update-check',
      catchUp: true,
      schedule: async () => {
        const { updateCheck } = (await store.settings.getSystem()).schedules;
        return updateCheck.enabled ? { cron: updateCheck.cron } : undefined;
      },
      run: () => this.scheduledCheck(),
    });
    this.events.on('settings.changed', ({ section }) => (section === 'system' ? this.scheduler.reload() : undefined));
  }

  /** The scheduled update check: every stack, reason `schedule`; a check still running from before is left to finish. */
  private async scheduledCheck(): Promise<void> {
    let job: Job;
    try {
      job = await this.startCheck({ scope: 'all' }, { via: 'schedule' });
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'busy') {
        this.options.logger.info({ existingJobId: error.details.existingJobId }, 'scheduled check skipped: a check of all stacks is running');
        return;
      }
      throw error;
    }
    await this.jobs.settled(job.id);
  }

  /** Stores the system settings (`PUT /api/settings`); schedules follow at once. */
  async putSettings(body: SystemSettingsInput): Promise<void> {
    await putSystemSettings(this.options.store, body);
    this.events.publish('settings.changed', { section: 'system' });
  }

  static async create(options: EngineOptions): Promise<Engine> {
    const { client, warnings } = await RegistryClient.fromConfig(options.config, options.registry ?? {});
    for (const warning of warnings) options.logger.warn({ warning }, 'registry credentials');
    return new Engine(options, client);
  }

  /** Starts a check job of the target; the origin decides the job id prefix and whether a running check is a conflict. */
  startCheck(target: TargetInput, origin: CheckOrigin): Promise<Job> {
    return this.checks.startCheck(checkTarget(target), origin);
  }

  /** One check per service for a push notice, joining a service's running check; in the order given. */
  async checkForPush(serviceIds: readonly string[], origin: PushOrigin): Promise<{ serviceId: string; job: Job; reused: boolean }[]> {
    const started = [];
    for (const serviceId of serviceIds) started.push({ serviceId, ...(await this.checks.checkForPush(serviceId, origin)) });
    return started;
  }

  /**
   * Services (not archived) whose image is this repository, matched as checks read references
   * (Docker Hub aliases and `library/` folded, hosts lowercase): `ghcr.io/acme/web`,
   * `docker.io/library/nginx`. With `tag`, only those configured on it.
   */
  async servicesUsing(repositoryKey: string, tag?: string): Promise<Service[]> {
    const wanted = repositoryKey.toLowerCase();
    const services = await this.options.store.services.list('exclude');
    return services.filter((service) => serviceImageRef(service)?.key.toLowerCase() === wanted && (tag === undefined || service.image.tag === tag));
  }

  startRuntimeScan(target: TargetInput, origin: JobOrigin): Promise<Job> {
    return this.checks.startRuntimeScan(checkTarget(target), origin);
  }

  /** Validates an update request (behaviour.md §C.6) and starts its job. */
  async requestUpdate(body: UpdateRequestInput, origin: UpdateOrigin): Promise<Job> {
    const { store, config } = this.options;
    const overrides = origin.via === 'webhook' ? ({ mode: 'apply', reason: 'webhook' } as const) : {};
    const validation = await validateUpdateRequest(body, { store, selfImageRepo: config.imageRepo }, overrides);
    if (!validation.ok) throw DomainError.from(validation.failure);
    const createdBy = origin.via === 'webhook' ? 'webhook' : origin.createdBy;
    return this.updates.start(validation.plan, { createdBy, reason: validation.plan.reason });
  }

  /** `POST /api/webhooks/trigger`: a check, or an update with the targets CI expects. */
  async triggerWebhook(body: WebhookTriggerInput): Promise<Job> {
    const trigger = validateWebhookTrigger(body);
    if (!trigger.ok) throw DomainError.from(trigger.failure);
    if (trigger.action === 'check') return this.startCheck(trigger, { via: 'webhook_trigger' });
    return this.requestUpdate(trigger.update, { via: 'webhook' });
  }

  startDiscovery(origin: JobOrigin): Promise<Job> {
    return this.jobs.start(
      { prefix: 'dsc', type: 'discovery', scope: 'all', ...origin, startMessage: 'discovery scan started', failureMessage: 'discovery scan failed' },
      async (job) => {
        const scan = await this.discovery.scan();
        const { summary } = scan;
        await job.log(
          'info',
          `discovery scan finished: projectsSeen=${summary.projectsSeen} created=${summary.stacksCreated} updated=${summary.stacksUpdated} failed=${summary.stacksFailed} markedMissing=${summary.stacksMarkedMissing}`,
        );
        return { summary: { scan }, events: [pendingEvent('discovery.finished', { jobId: job.id, scan })] };
      },
    );
  }

  /**
   * The stacks of the overview, each with the health of its containers: the same array while
   * nothing in it changed, never waiting for Docker once its projects have been listed.
   */
  stackOverview(archived: ArchiveFilter): Promise<readonly OverviewEntry[]> {
    return this.overview.list(archived);
  }

  /** One stack with its services: the same object while nothing in it changed; undefined when unknown. */
  stackDetail(stackId: string): Promise<StackWithServices | undefined> {
    return this.overview.detail(stackId);
  }

  /**
   * After a restart: jobs that were running cannot resume, so they fail with a reason; services an
   * interrupted update was changing get a running container again; override files are removed.
   */
  async recoverAfterRestart(): Promise<void> {
    const { store, logger } = this.options;
    const { jobs: updates } = await store.jobs.list({ types: ['update'], status: 'running', limit: 200 });
    const interrupted = await store.jobs.failInterruptedJobs('server_restart');
    if (interrupted > 0) logger.warn({ jobs: interrupted }, 'marked jobs interrupted by a restart as failed');
    const report = await recoverInterruptedUpdates(this.executor, updates.map((job) => job.id));
    if (report.restarted.length > 0 || report.failures.length > 0 || report.removedOverrideFiles.length > 0) {
      logger.warn({ report }, 'recovered interrupted updates');
    }
  }

  /**
   * Start-up recovery and the periodic discovery and runtime-scan loops. A tick is skipped while
   * the previous one still runs.
   */
  async startBackground(): Promise<void> {
    const { store, config, logger } = this.options;
    const archived = await store.discoveryProjects.archiveMissing();
    if (archived > 0) logger.info({ projects: archived }, 'archived discovery projects missing at start-up');
    const loop = (name: string, seconds: number, tick: () => Promise<unknown>) => {
      let running = false;
      const run = () => {
        if (running) return;
        running = true;
        tick()
          .catch((error: unknown) => logger.warn({ err: error, loop: name }, 'background task failed'))
          .finally(() => (running = false));
      };
      this.timers.push(setInterval(run, seconds * 1000));
      setImmediate(run);
    };
    await this.scheduler.start();
    // Periodic discovery keeps stacks in step without a job row a minute; scans the user asks for are jobs.
    loop('discovery', config.discovery.intervalSeconds, async () => {
      const scan = await this.discovery.scan();
      this.events.publish('discovery.finished', { scan });
    });
    loop('runtime scan', config.runtimeScanIntervalSeconds, async () => {
      const job = await this.startRuntimeScan({ scope: 'all' }, { createdBy: 'schedule', reason: 'schedule' });
      await this.jobs.settled(job.id);
    });
  }

  /** Stops the loops and waits for running jobs, and what their events started, to settle. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.scheduler.stop();
    await this.jobs.idle();
    await this.events.drain();
    this.dockerState.close();
  }
}
