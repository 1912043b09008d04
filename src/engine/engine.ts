import type { Logger } from 'pino';
import { SerialLock } from '../concurrency.js';
import type { Config } from '../config.js';
import { DomainError } from '../errors.js';
import type { ArchiveFilter, Job, JobScope, Service, StackWithServices, Store, SystemSettings } from '../store/index.js';
import { serviceImageRef } from './check/checker.js';
import { Checks } from './check/checks.js';
import { auditOf, mergeAudit, type PushOrigin } from './check/push.js';
import { checkTarget, type CheckOrigin, type JobOrigin } from './check/targets.js';
import { deployCheckReport, type DeployCheckReport, type RequestAuthorization } from './deploy-check/report.js';
import { DiscoveryScanner } from './discovery/index.js';
import { DockerEngine, DockerStateCache } from './docker/index.js';
import { EngineEvents, pendingEvent } from './events.js';
import { GithubPackages } from './github/index.js';
import { afterInterruptedJobs, recoverAfterRestart, type InterruptedJobsDeps } from './jobs/interrupted.js';
import { JobOwnership, type OwnershipTiming } from './jobs/ownership.js';
import { JobRunner } from './jobs/runner.js';
import { Notifier, type TestNotificationInput } from './notify/notifier.js';
import { putNotificationSettings, type NotificationSettingsInput } from './notify/settings.js';
import { StackOverview, type OverviewEntry } from './overview.js';
import { RegistryClient, type RegistryClientOptions } from './registry/index.js';
import { BackupRetention } from './backup/retention.js';
import { GC_INTERVAL_SECONDS, INFERENCE_REGISTRY, VersionInference } from './inference/inference.js';
import type { ServiceInferenceState } from './inference/service-state.js';
import { addBackgroundTasks, SETTINGS_SCHEDULE_TASKS } from './schedule/background.js';
import { Scheduler } from './schedule/scheduler.js';
import { putSystemSettings, type SystemSettingsInput } from './settings.js';
import { executorDeps, type UpdateDeps } from './update/deps.js';
import { Updates } from './update/updates.js';
import { validateUpdateRequest, type UpdateRequestInput } from './update/validate.js';
import { validateWebhookTrigger, type WebhookTriggerInput } from './update/webhook-trigger.js';
import { RegistryWebhooks, type PushReceipt, type RegistryWebhookSettingsInput, type RegistryWebhookSource, type RevealedTokens } from './webhooks/index.js';

/** A running discovery older than this is presumed dead and replaced. */
const STALE_DISCOVERY_MS = 2 * 60 * 60 * 1000;

export interface EngineOptions {
  config: Config;
  store: Store;
  logger: Logger;
  /** Extra registry client options (e.g. a request counter for benchmarks). */
  registry?: Pick<RegistryClientOptions, 'onRequest'>;
  /** Tuning of the GitHub webhook jobs' retries (tests). */
  githubRetry?: { baseMs?: number; maxAttempts?: number; callBackoffUnitMs?: number };
  /** Heartbeat and reconciler timing of job owners (tests). */
  jobOwnership?: Partial<OwnershipTiming>;
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
  /** Digest → version tags: snapshots, resolved tags, the snapshot worker and its event stream. */
  readonly inference: VersionInference;
  private readonly retention: BackupRetention;
  private readonly discovery: DiscoveryScanner;
  /** Registry push receivers, their settings and deliveries, and the Quay notifications Dockrev manages. */
  readonly registryWebhooks: RegistryWebhooks;
  /** Push notices asking for a discovery join one that runs rather than start a second. */
  private readonly discoveryGuard = new SerialLock();
  /** GitHub packages: settings, tracked repositories, webhook jobs, package deliveries. */
  readonly github: GithubPackages;
  private readonly overview: StackOverview;
  private readonly executor: UpdateDeps;
  /** Sends notifications for finished updates, new versions and audit anomalies; retries failed sends. */
  readonly notifier: Notifier;
  /** Heartbeats of this process and the reconciler that ends jobs whose owner is gone. */
  readonly ownership: JobOwnership;

  private constructor(
    private readonly options: EngineOptions,
    readonly registry: RegistryClient,
  ) {
    const { config, store, logger } = options;
    this.events = new EngineEvents(logger);
    this.jobs = new JobRunner(store, logger, this.events, undefined, config.instanceId);
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
    this.inference = new VersionInference({ store, registry: registry.sibling(INFERENCE_REGISTRY), hostPlatform: config.hostPlatform, events: this.events, logger });
    this.retention = new BackupRetention({ store, stackStatuses: async (stacks) => {
        const statuses = await this.dockerState.statuses(stacks.map((stack) => stack.name));
        return new Map(stacks.map((stack, index) => [stack.id, statuses[index] ?? 'unknown']));
      }, logger });
    this.retention.subscribe(this.events);
    this.scheduler = new Scheduler(store, logger);
    addBackgroundTasks(this.scheduler, store, {
      scheduledCheck: () => this.scheduledCheck(),
      // Periodic discovery keeps stacks in step without a job row a minute; scans the user asks for are jobs.
      discovery: {
        everySeconds: config.discovery.intervalSeconds,
        run: async () => this.events.publish('discovery.finished', { scan: await this.discovery.scan() }),
      },
      runtimeScan: {
        everySeconds: config.runtimeScanIntervalSeconds,
        run: async () => {
          const job = await this.startRuntimeScan({ scope: 'all' }, { createdBy: 'schedule', reason: 'schedule' });
          await this.jobs.settled(job.id);
        },
      },
      backupRetention: () => this.retention.run(),
      snapshotGc: { everySeconds: GC_INTERVAL_SECONDS, run: () => this.inference.collectGarbage() },
    });
    this.registryWebhooks = new RegistryWebhooks({
      store,
      jobs: this.jobs,
      hosts: registry.hosts,
      scheduler: this.scheduler,
      logger,
      checkForPush: (serviceIds, origin) => this.checkForPush(serviceIds, origin),
      servicesUsing: (repositoryKey, tag) => this.servicesUsing(repositoryKey, tag),
    });
    // Schedules read several sections (crons, the public base URL, whether an integration is on).
    this.events.on('settings.changed', () => this.scheduler.reload());
    const { retryBaseSeconds, telegramApiBaseUrl } = config.notifications;
    this.notifier = new Notifier({
      store,
      logger,
      events: this.events,
      scheduler: this.scheduler,
      appVersion: config.appVersion,
      telegramApiBaseUrl,
      retryBaseMs: retryBaseSeconds * 1000,
      retryScanSeconds: Math.min(30, retryBaseSeconds),
      // New-version notices wait for in-flight inference, so they can name versions.
      inference: this.inference,
    });
    this.github = new GithubPackages({
      config,
      store,
      jobs: this.jobs,
      events: this.events,
      logger,
      servicesUsing: (repositoryKey) => this.servicesUsing(repositoryKey),
      checkForPush: (serviceIds, origin) => this.checkForPush(serviceIds, origin),
      discoveryForPush: (origin) => this.discoveryForPush(origin),
      retry: options.githubRetry,
    });
    this.github.registerAudit(this.scheduler);
    this.ownership = new JobOwnership({ store, runner: this.jobs, logger, timing: options.jobOwnership, onEnded: (jobs) => afterInterruptedJobs(this.interruptedDeps(), jobs) });
    this.ownership.register(this.scheduler);
  }

  private interruptedDeps(): InterruptedJobsDeps {
    const { store, logger } = this.options;
    return { store, logger, github: this.github, updates: this.executor };
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

  /**
   * A registry's push notice (`POST /api/webhooks/registry/{source}`, already authenticated):
   * recorded, de-duplicated, matched to the services on exactly that repository and tag, and a
   * check for each (coalesced while one runs). A body that is not the source's format is recorded
   * and refused.
   */
  registryPushed(source: RegistryWebhookSource, body: unknown, rawBody: Buffer): Promise<PushReceipt> {
    return this.registryWebhooks.receive(source, body, rawBody);
  }

  /** Stores the registry webhook settings; the Quay audit's schedule follows. */
  async putRegistryWebhookSettings(body: RegistryWebhookSettingsInput): Promise<RevealedTokens> {
    const revealed = await this.registryWebhooks.putSettings(body);
    this.events.publish('settings.changed', { section: 'registry_webhooks' });
    return revealed;
  }

  /** Stores the system settings (`PUT /api/settings`); schedules follow at once. */
  async putSettings(body: SystemSettingsInput): Promise<void> {
    await putSystemSettings(this.options.store, body);
    // Re-planned before answering, so the next GET already shows the new next run.
    await this.scheduler.reload();
    this.events.publish('settings.changed', { section: 'system' });
  }

  /** Stores the notification settings (`PUT /api/notifications`); a bad value is refused naming its field. */
  async putNotificationSettings(body: NotificationSettingsInput): Promise<void> {
    await putNotificationSettings(this.options.store, body);
    this.events.publish('settings.changed', { section: 'notifications' });
  }

  /** `POST /api/notifications/test`: results per channel tried. */
  sendTestNotification(input: TestNotificationInput) {
    return this.notifier.sendTest(input);
  }

  /** `GET /api/deploy-check/report` for the request that asks (read-only, every probe bounded). */
  deployCheckReport(request: RequestAuthorization): Promise<DeployCheckReport> {
    const { config, store } = this.options;
    return deployCheckReport({ config, store, docker: this.docker }, request);
  }

  /** The stored system settings, each schedule with its next run on this server (null while off). */
  async settings(): Promise<SystemSettings & { schedules: Record<keyof SystemSettings['schedules'], { nextRunAt: string | null }> }> {
    const stored = await this.options.store.settings.getSystem();
    const next = this.scheduler.nextRuns();
    const at = (name: keyof typeof SETTINGS_SCHEDULE_TASKS) => ({ ...stored.schedules[name], nextRunAt: next[SETTINGS_SCHEDULE_TASKS[name]] ?? null });
    return { ...stored, schedules: { updateCheck: at('updateCheck'), ghcrWebhookAudit: at('ghcrWebhookAudit') } };
  }

  /** A stack with its services and each service's version-inference state (which may schedule snapshots). */
  async stackDetail(stackId: string): Promise<{ stack: StackWithServices; inference: Map<string, ServiceInferenceState> } | undefined> {
    // The stack part is kept until it is written; the inference state is read each time (it may schedule snapshots).
    const stack = await this.overview.detail(stackId);
    if (!stack) return undefined;
    return { stack, inference: await this.inference.serviceStates(stack.services) };
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

  startDiscovery(origin: JobOrigin, push?: Pick<PushOrigin, 'startMessage' | 'audit'>): Promise<Job> {
    return this.jobs.start(
      {
        prefix: 'dsc',
        type: 'discovery',
        scope: 'all',
        ...origin,
        summary: push?.audit,
        startMessage: push?.startMessage ?? 'discovery scan started',
        failureMessage: 'discovery scan failed',
      },
      async (job) => {
        const scan = await this.discovery.scan();
        const { summary } = scan;
        await job.log(
          'info',
          `discovery scan finished: projectsSeen=${summary.projectsSeen} created=${summary.stacksCreated} updated=${summary.stacksUpdated} failed=${summary.stacksFailed} markedMissing=${summary.stacksMarkedMissing}`,
        );
        // Push notices that joined this discovery while it ran recorded where they came from.
        const audit = auditOf((await this.options.store.jobs.get(job.id))?.summary);
        return { summary: { scan, ...audit }, events: [pendingEvent('discovery.finished', { jobId: job.id, scan })] };
      },
    );
  }

  /**
   * A discovery a push notice asks for when no service runs its image (the GitHub fallback): a
   * running discovery younger than 2 h, whoever started it, is joined and gains the audit fields;
   * otherwise a `dsc_` job starts with reason `github_webhook`.
   */
  discoveryForPush(origin: PushOrigin): Promise<{ job: Job; reused: boolean }> {
    const { store } = this.options;
    return this.discoveryGuard.run(async () => {
      const running = await store.jobs.findRunning('discovery', 'all');
      if (running && Date.now() - Date.parse(running.startedAt ?? running.createdAt) < STALE_DISCOVERY_MS) {
        await store.jobs.mergeSummary(running.id, mergeAudit(auditOf(running.summary), origin.audit));
        return { job: running, reused: true };
      }
      if (running) {
        await store.jobs.terminate(running.id, 'stale_check');
        await store.jobs.appendLog(running.id, 'warn', 'job terminated: reason=stale_check');
      }
      const job = await this.startDiscovery({ createdBy: origin.createdBy, reason: 'github_webhook' }, origin);
      return { job, reused: false };
    });
  }

  /**
   * The stacks of the overview, each with the health of its containers: the same array while
   * nothing in it changed, never waiting for Docker once its projects have been listed.
   */
  stackOverview(archived: ArchiveFilter): Promise<readonly OverviewEntry[]> {
    return this.overview.list(archived);
  }

  /**
   * After a restart: jobs that were running cannot resume, so they fail with a reason; services an
   * interrupted update was changing get a running container again; override files are removed.
   * On a shared PostgreSQL, jobs of owners that are still beating belong to another instance.
   */
  async recoverAfterRestart(): Promise<void> {
    const shared = Boolean(this.options.config.databaseUrl);
    await recoverAfterRestart(this.interruptedDeps(), shared ? { instance: this.jobs.instance, seenSince: this.ownership.staleBefore() } : undefined);
  }

  /**
   * Start-up work and the tasks that run on their own: missing discovery projects archived, the
   * scheduler (scheduled checks, discovery, runtime scans, backup retention, snapshot GC) and the
   * version-inference worker with its warm-up.
   */
  async startBackground(): Promise<void> {
    const { store, logger } = this.options;
    const archived = await store.discoveryProjects.archiveMissing();
    if (archived > 0) logger.info({ projects: archived }, 'archived discovery projects missing at start-up');
    await this.ownership.start();
    await this.scheduler.start();
    this.github.startWorker();
    await this.inference.start();
  }

  /** Stops the loops and waits for running jobs, and what their events started, to settle. */
  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.registryWebhooks.stop();
    await this.inference.stop();
    await this.github.stopWorker();
    this.jobs.stopRetrying();
    await this.jobs.idle();
    await this.ownership.stop();
    await this.events.drain();
    this.dockerState.close();
  }
}
