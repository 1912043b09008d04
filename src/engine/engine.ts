import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Job, Stack, Store } from '../store/index.js';
import { Checks, type CheckTarget, type JobOrigin } from './check/checks.js';
import { DiscoveryScanner } from './discovery/index.js';
import { DockerEngine, DockerStateCache, stackStatus, type StackStatus } from './docker/index.js';
import { JobRunner } from './jobs/runner.js';
import { RegistryClient, type RegistryClientOptions } from './registry/index.js';
import { executorDeps, type UpdateDeps } from './update/deps.js';
import { recoverInterruptedUpdates } from './update/recovery.js';
import { Updates } from './update/updates.js';
import type { ValidatedUpdatePlan } from './update/validate.js';

export interface EngineOptions {
  config: Config;
  store: Store;
  logger: Logger;
  /** Extra registry client options (e.g. a request counter for benchmarks). */
  registry?: Pick<RegistryClientOptions, 'onRequest'>;
}

/**
 * Everything Dockrev does to Docker hosts and registries, as jobs. No HTTP in here: handlers call
 * these methods and translate their errors.
 */
export class Engine {
  readonly jobs: JobRunner;
  readonly docker: DockerEngine;
  /** Listings kept while Docker's event stream reports no change: checks, scans, discovery, status. */
  readonly dockerState: DockerStateCache;
  readonly checks: Checks;
  readonly updates: Updates;
  private readonly discovery: DiscoveryScanner;
  private readonly executor: UpdateDeps;
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    private readonly options: EngineOptions,
    readonly registry: RegistryClient,
  ) {
    const { config, store, logger } = options;
    this.jobs = new JobRunner(store, logger);
    this.docker = new DockerEngine({ dockerHost: config.dockerHost });
    this.dockerState = new DockerStateCache(this.docker, { logger });
    this.checks = new Checks({ store, jobs: this.jobs, docker: this.dockerState, registry, hostPlatform: config.hostPlatform, logger });
    this.executor = executorDeps(config, store, this.docker);
    this.updates = new Updates(store, this.jobs, this.executor);
    this.discovery = new DiscoveryScanner({ docker: this.dockerState, store, maxActions: config.discovery.maxActions });
  }

  startUpdate(plan: ValidatedUpdatePlan, origin: JobOrigin): Promise<Job> {
    return this.updates.start(plan, origin);
  }

  static async create(options: EngineOptions): Promise<Engine> {
    const { client, warnings } = await RegistryClient.fromConfig(options.config, options.registry ?? {});
    for (const warning of warnings) options.logger.warn({ warning }, 'registry credentials');
    return new Engine(options, client);
  }

  startCheck(target: CheckTarget, origin: JobOrigin & { prefix: 'chk' | 'job'; exclusive: boolean; startMessage?: string }): Promise<Job> {
    return this.checks.startCheck(target, origin);
  }

  startRuntimeScan(target: CheckTarget, origin: JobOrigin): Promise<Job> {
    return this.checks.startRuntimeScan(target, origin);
  }

  startDiscovery(origin: JobOrigin): Promise<Job> {
    const { store, config } = this.options;
    return this.jobs.start(
      { prefix: 'dsc', type: 'discovery', scope: 'all', ...origin, startMessage: 'discovery scan started', failureMessage: 'discovery scan failed' },
      async (job) => {
        const scan = await this.discovery.scan();
        const { summary } = scan;
        await job.log(
          'info',
          `discovery scan finished: projectsSeen=${summary.projectsSeen} created=${summary.stacksCreated} updated=${summary.stacksUpdated} failed=${summary.stacksFailed} markedMissing=${summary.stacksMarkedMissing}`,
        );
        return { summary: { scan } };
      },
    );
  }

  /** Health of each stack's containers; `unknown` when Docker cannot be asked. */
  async stackStatuses(stacks: readonly Pick<Stack, 'id' | 'name'>[]): Promise<Map<string, StackStatus>> {
    const statuses = new Map<string, StackStatus>(stacks.map((stack) => [stack.id, 'unknown']));
    if (stacks.length === 0) return statuses;
    try {
      const containers = await this.dockerState.listComposeContainers({ includeStopped: true });
      for (const stack of stacks) {
        statuses.set(stack.id, stackStatus(containers.filter((container) => container.project === stack.name)));
      }
    } catch (error) {
      this.options.logger.debug({ err: error }, 'stack status unavailable');
    }
    return statuses;
  }

  /**
   * After a restart: jobs that were running cannot resume, so they fail with a reason; services an
   * interrupted update was changing get a running container again; override files are removed.
   */
  async recoverAfterRestart(): Promise<void> {
    const { store, config, logger } = this.options;
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
    // Periodic discovery keeps stacks in step without a job row a minute; scans the user asks for are jobs.
    loop('discovery', config.discovery.intervalSeconds, () => this.discovery.scan());
    loop('runtime scan', config.runtimeScanIntervalSeconds, async () => {
      const job = await this.startRuntimeScan({ scope: 'all' }, { createdBy: 'schedule', reason: 'schedule' });
      await this.jobs.settled(job.id);
    });
  }

  /** Stops the loops and waits for running jobs to settle. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.jobs.idle();
    this.dockerState.close();
  }
}
