// The GitHub packages (GHCR) integration as the engine exposes it: settings, targets and tracked
// repositories, the webhook management queue and its worker, the scheduled audit, and the
// receiver of package deliveries.
import type { Job } from '../../store/index.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { GithubDeps } from './deps.js';
import { GithubRepos } from './repos.js';
import { DeliveryReceiver, type DeliveryOutcome, type DeliveryRequest, type DeliveryTransport } from './receiver.js';
import { githubSettingsView, putGithubSettings, type GithubSettingsInput, type GithubSettingsView } from './settings.js';
import { reposOf, WebhookJobs, webhookPrecondition, type EnqueueResult } from './webhook-jobs.js';
import { WebhookOps } from './webhook-ops.js';
import { WebhookWorker } from './worker.js';

export type { DeliveryOutcome, DeliveryTransport } from './receiver.js';
export type { GithubSettingsInput, GithubSettingsView } from './settings.js';
export { GITHUB_JOB_TYPES } from './webhook-jobs.js';

export interface WebhookOverview {
  summary: { tracked: number; ok: number; missing: number; error: number; conflict: number; queued: number; running: number; unknown: number };
  jobsQueued: number;
  jobsRunning: number;
  runningJobId?: string;
  lastAuditAt?: string;
}

export class GithubPackages {
  readonly repos: GithubRepos;
  private readonly queue: WebhookJobs;
  private readonly worker: WebhookWorker;
  private readonly receiver: DeliveryReceiver;

  constructor(private readonly deps: GithubDeps) {
    this.queue = new WebhookJobs(deps.store, deps.jobs, () => this.worker.kick());
    const ops = new WebhookOps(deps, this.queue);
    this.worker = new WebhookWorker({ queue: this.queue, jobs: deps.jobs, logger: deps.logger, work: (job, running) => ops.run(job, running), pollMs: deps.workerPollMs });
    this.repos = new GithubRepos(deps, this.queue);
    this.receiver = new DeliveryReceiver(deps);
  }

  settings(): Promise<GithubSettingsView> {
    return githubSettingsView(this.deps.store);
  }

  async putSettings(body: GithubSettingsInput): Promise<void> {
    await putGithubSettings(this.deps.store, body);
    this.deps.events.publish('settings.changed', { section: 'github_packages' });
  }

  receive(request: DeliveryRequest, transport: DeliveryTransport): Promise<DeliveryOutcome> {
    return this.receiver.receive(request, transport);
  }

  syncAll(createdBy: string): Promise<EnqueueResult> {
    return this.queue.syncAll(createdBy);
  }

  syncRepo(fullName: string, createdBy: string): Promise<EnqueueResult> {
    return this.queue.syncRepo(fullName, createdBy);
  }

  sync(body: { dryRun?: boolean; repos?: string[] }, createdBy: string) {
    return this.queue.sync(body, createdBy);
  }

  async overview(): Promise<WebhookOverview> {
    const [states, active] = await Promise.all([this.deps.store.githubPackages.webhookStateSummary(), this.queue.active()]);
    const { byState } = states;
    const running = active.filter((job) => job.status === 'running');
    const overview: WebhookOverview = {
      summary: { tracked: states.tracked, ok: byState.ok, missing: byState.missing, error: byState.error, conflict: byState.conflict, queued: byState.queued, running: byState.running, unknown: byState.unknown },
      jobsQueued: active.length - running.length,
      jobsRunning: running.length,
    };
    if (running[0]) overview.runningJobId = running[0].id;
    if (states.lastAuditAt) overview.lastAuditAt = states.lastAuditAt;
    return overview;
  }

  /**
   * The scheduled audit (`settings.schedules.ghcrWebhookAudit`, while the integration is on):
   * queues one, or joins the one still unfinished, and waits for it.
   */
  registerAudit(scheduler: Scheduler): void {
    const { store } = this.deps;
    scheduler.add({
      name: 'ghcr-webhook-audit',
      catchUp: true,
      schedule: async () => {
        const [{ ghcrWebhookAudit }, github] = await Promise.all([store.settings.getSystem().then((s) => s.schedules), store.githubPackages.getSettings()]);
        return ghcrWebhookAudit.enabled && !webhookPrecondition(github) ? { cron: ghcrWebhookAudit.cron } : undefined;
      },
      run: async () => {
        const audit = await this.queue.audit({ createdBy: 'schedule', reason: 'schedule' });
        if (audit) await this.settled(audit.job.id);
      },
    });
  }

  /** Resolves when the job is no longer queued or running (it may run in another instance). */
  private async settled(jobId: string): Promise<void> {
    for (;;) {
      await this.deps.jobs.settled(jobId);
      const job = await this.deps.store.jobs.get(jobId);
      if (!job || (job.status !== 'queued' && job.status !== 'running')) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Webhook jobs marked running: after a restart, the ones it interrupted. */
  async runningJobs(): Promise<Job[]> {
    return (await this.queue.active()).filter((job) => job.status === 'running');
  }

  /**
   * After a restart, once the interrupted jobs are failed: each is queued again (the work is
   * idempotent), and its repositories show the new job.
   */
  async requeue(interrupted: readonly Job[]): Promise<Job[]> {
    const requeued: Job[] = [];
    for (const job of interrupted) requeued.push(await this.queue.retry(job, reposOf(job), new Date().toISOString()));
    return requeued;
  }

  /** Starts polling for queued webhook jobs (those of other instances and those left by a restart). */
  startWorker(): void {
    this.worker.start();
  }

  stopWorker(): Promise<void> {
    return this.worker.stop();
  }
}
