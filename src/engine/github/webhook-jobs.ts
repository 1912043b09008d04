// The queue of webhook management jobs (behaviour.md §C.12, §D.9): what may be queued, what an
// unfinished job already covers (and is returned instead of a second one), and what a repository
// shows while its job waits. The jobs run later in a worker (worker.ts, webhook-ops.ts).
import { DomainError } from '../../errors.js';
import type { GithubPackagesRepo, GithubPackagesSettings, Job, Store } from '../../store/index.js';
import { repoKey } from '../../store/index.js';
import type { JobRunner } from '../jobs/runner.js';
import { callbackUrlProblem, parseFullName } from './inputs.js';

export const WEBHOOK_JOB = 'github_packages_webhook';
export const SYNC_ALL_JOB = 'github_packages_webhook_sync_all';
export const SYNC_REPO_JOB = 'github_packages_webhook_sync_repo';
export const GITHUB_JOB_TYPES = [WEBHOOK_JOB, SYNC_ALL_JOB, SYNC_REPO_JOB] as const;

export type WebhookOp = 'register' | 'unregister' | 'audit_all' | 'sync_all' | 'sync_repo';

/** What a webhook job's summary holds from the start. */
export interface WebhookJobSummary {
  op: WebhookOp;
  /** `owner/repo` of every repository the job covers. */
  repos: string[];
  /** Set on a job that retries a failed one: which, how many attempts so far, not before when. */
  retryOf?: string;
  attempt?: number;
  notBefore?: string;
}

export interface EnqueueResult {
  job: Job;
  reused: boolean;
}

const TYPE_OF: Record<WebhookOp, (typeof GITHUB_JOB_TYPES)[number]> = {
  register: WEBHOOK_JOB,
  unregister: WEBHOOK_JOB,
  audit_all: WEBHOOK_JOB,
  sync_all: SYNC_ALL_JOB,
  sync_repo: SYNC_REPO_JOB,
};

export function opOf(job: Job): WebhookOp | undefined {
  const op = job.summary.op;
  return typeof op === 'string' && op in TYPE_OF ? (op as WebhookOp) : undefined;
}

export function reposOf(job: Job): string[] {
  return Array.isArray(job.summary.repos) ? job.summary.repos.filter((repo): repo is string => typeof repo === 'string') : [];
}

/** `github packages webhook is disabled`, `callbackUrl is required`, `invalid callbackUrl`. */
export function webhookPrecondition(settings: GithubPackagesSettings): string | undefined {
  if (!settings.enabled) return 'github packages webhook is disabled';
  return callbackUrlProblem(settings.callbackUrl);
}

function requireWebhookReady(settings: GithubPackagesSettings): void {
  const problem = webhookPrecondition(settings);
  if (problem) throw new DomainError('invalid_input', problem);
}

export class WebhookJobs {
  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    /** Told about every new job, so the worker need not wait for its next poll. */
    private readonly onEnqueued: () => void,
  ) {}

  /** Queued and running GitHub webhook jobs, oldest first. */
  async active(types: readonly string[] = GITHUB_JOB_TYPES): Promise<Job[]> {
    const [queued, running] = await Promise.all([
      this.store.jobs.list({ types: [...types], status: 'queued', limit: 200 }),
      this.store.jobs.list({ types: [...types], status: 'running', limit: 200 }),
    ]);
    return [...queued.jobs, ...running.jobs].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** The unfinished job of one of `ops` that covers this repository, if any. */
  private async pendingForRepo(fullName: string, ops: readonly WebhookOp[], statuses: readonly string[] = ['queued', 'running']): Promise<Job | undefined> {
    const key = repoKey(fullName);
    const types = [...new Set(ops.map((op) => TYPE_OF[op]))];
    return (await this.active(types)).find((job) => statuses.includes(job.status) && ops.includes(opOf(job)!) && job.serviceId === key);
  }

  async unregisterPending(fullName: string): Promise<boolean> {
    return (await this.pendingForRepo(fullName, ['unregister'])) !== undefined;
  }

  private async enqueue(op: WebhookOp, repos: string[], origin: { createdBy: string; reason: string }, retry?: Partial<WebhookJobSummary>): Promise<Job> {
    const single = op !== 'sync_all' && op !== 'audit_all';
    const summary: WebhookJobSummary = { op, repos, ...retry };
    const job = await this.jobs.enqueue({
      type: TYPE_OF[op],
      scope: single ? 'service' : 'all',
      // One repository's jobs keep its lowercase `owner/repo` in the service column (behaviour.md §D.4).
      ...(single ? { serviceId: repoKey(repos[0]!) } : {}),
      createdBy: origin.createdBy,
      reason: origin.reason,
      summary: { ...summary },
      queuedMessage: `github webhook ${op} queued: ${single ? repos[0] : `${repos.length} repos`}`,
      enqueuedEvent: { op, target: single ? repos[0] : 'all' },
    });
    // An audit only reads, and a retry leaves the failure visible until it runs: neither shows `queued`.
    const shows = op === 'audit_all' || retry ? { webhookJobId: job.id } : { webhookState: 'queued' as const, webhookJobId: job.id, lastOp: op };
    for (const fullName of repos) await this.store.githubPackages.updateRepo(fullName, shows);
    this.onEnqueued();
    return job;
  }

  /** A register job for a repository just selected; a queued register or sync of it is reused. */
  async register(repo: GithubPackagesRepo, origin: { createdBy: string; reason: string }): Promise<EnqueueResult> {
    const pending = await this.pendingForRepo(repo.fullName, ['register', 'sync_repo'], ['queued']);
    if (pending) return { job: pending, reused: true };
    return { job: await this.enqueue('register', [repo.fullName], origin), reused: false };
  }

  /** An unregister job; the repository row goes once its hooks are gone. */
  async unregister(repo: GithubPackagesRepo, createdBy: string): Promise<EnqueueResult> {
    const pending = await this.pendingForRepo(repo.fullName, ['unregister']);
    if (pending) return { job: pending, reused: true };
    return { job: await this.enqueue('unregister', [repo.fullName], { createdBy, reason: 'ui' }), reused: false };
  }

  /** Selected repositories without a pending unregister. */
  private async syncableRepos(): Promise<GithubPackagesRepo[]> {
    const unregistering = new Set(
      (await this.active([WEBHOOK_JOB])).filter((job) => opOf(job) === 'unregister').map((job) => job.serviceId),
    );
    return (await this.store.githubPackages.listSelectedRepos()).filter((repo) => !unregistering.has(repoKey(repo.fullName)));
  }

  async syncAll(createdBy: string): Promise<EnqueueResult> {
    requireWebhookReady(await this.store.githubPackages.getSettings());
    const [pending] = await this.active([SYNC_ALL_JOB]);
    if (pending) return { job: pending, reused: true };
    const repos = await this.syncableRepos();
    if (repos.length === 0) throw new DomainError('invalid_input', 'no tracked repos selected');
    return { job: await this.enqueue('sync_all', repos.map((repo) => repo.fullName), { createdBy, reason: 'ui' }), reused: false };
  }

  async syncRepo(fullName: string, createdBy: string): Promise<EnqueueResult> {
    requireWebhookReady(await this.store.githubPackages.getSettings());
    if (fullName.trim() === '') throw new DomainError('invalid_input', 'fullName is required');
    if (!parseFullName(fullName)) throw new DomainError('invalid_input', 'invalid fullName');
    const repo = await this.store.githubPackages.getRepo(fullName.trim());
    if (!repo) throw new DomainError('unknown', 'repo is not tracked');
    if (!repo.selected) throw new DomainError('invalid_input', 'repo is not selected');
    if (await this.unregisterPending(repo.fullName)) throw new DomainError('busy', 'repo unregister in progress');
    const pending = await this.pendingForRepo(repo.fullName, ['sync_repo', 'register']);
    if (pending) return { job: pending, reused: true };
    return { job: await this.enqueue('sync_repo', [repo.fullName], { createdBy, reason: 'ui' }), reused: false };
  }

  /** `POST /api/github-packages/sync`: a sync-repo job per selected repository (or a dry run of that). */
  async sync(body: { dryRun?: boolean; repos?: string[] }, createdBy: string): Promise<{ repo: string; action: 'queued' | 'error'; message: string }[]> {
    requireWebhookReady(await this.store.githubPackages.getSettings());
    const selected = await this.store.githubPackages.listSelectedRepos();
    const wanted = body.repos === undefined ? undefined : new Set(body.repos.map((name) => repoKey(name.trim())));
    const rows: { repo: string; action: 'queued' | 'error'; message: string }[] = [];
    for (const name of body.repos ?? []) {
      if (!selected.some((repo) => repoKey(repo.fullName) === repoKey(name.trim()))) rows.push({ repo: name, action: 'error', message: 'repo is not selected' });
    }
    for (const repo of selected) {
      if (wanted && !wanted.has(repoKey(repo.fullName))) continue;
      if (body.dryRun) {
        rows.push({ repo: repo.fullName, action: 'queued', message: 'dryRun: would enqueue sync_repo job' });
        continue;
      }
      try {
        const { job, reused } = await this.syncRepo(repo.fullName, createdBy);
        rows.push({ repo: repo.fullName, action: 'queued', message: `jobId=${job.id}${reused ? ' (reused)' : ''}` });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        rows.push({ repo: repo.fullName, action: 'error', message: error.message });
      }
    }
    return rows;
  }

  /** The audit of every selected repository's hook (scheduled); an unfinished audit is reused. */
  async audit(origin: { createdBy: string; reason: string }): Promise<EnqueueResult | undefined> {
    const pending = (await this.active([WEBHOOK_JOB])).find((job) => opOf(job) === 'audit_all');
    if (pending) return { job: pending, reused: true };
    const repos = await this.syncableRepos();
    if (repos.length === 0) return undefined;
    return { job: await this.enqueue('audit_all', repos.map((repo) => repo.fullName), origin), reused: false };
  }

  /** A later attempt of a job that failed on GitHub, for the repositories it could not finish. */
  async retry(job: Job, repos: string[], notBefore: string): Promise<Job> {
    const op = opOf(job)!;
    const attempt = (typeof job.summary.attempt === 'number' ? job.summary.attempt : 1) + 1;
    return this.enqueue(op, repos, { createdBy: job.createdBy, reason: job.reason }, { retryOf: job.id, attempt, notBefore });
  }
}
