// What a webhook management job does on GitHub (behaviour.md §D.9), one repository at a time:
// register/sync reconcile Dockrev's `package` hook (create it, or repair the one there; several
// on the callback URL are a conflict for the user to resolve), unregister deletes it and stops
// tracking the repository, the audit only reads and reports. A failure GitHub may recover from
// (timeout, 5xx, rate limit) fails the job with its reason and queues a later attempt.
import { KeyedLock } from '../../concurrency.js';
import { errorText } from '../../errors.js';
import type { GithubPackagesRepo, GithubPackagesSettings, Job, WebhookState } from '../../store/index.js';
import { repoKey } from '../../store/index.js';
import { nowIso, toIso } from '../../time.js';
import { pendingEvent, type GhcrWebhookAnomalyEvent } from '../events.js';
import type { JobOutcome, RunningJob } from '../jobs/runner.js';
import { GithubCallError, type GithubClient, type GithubHook } from './client.js';
import { githubClient, type GithubDeps } from './deps.js';
import { callbackUrlsMatch } from './inputs.js';
import { opOf, reposOf, webhookPrecondition, type WebhookJobs, type WebhookOp } from './webhook-jobs.js';

const DEFAULT_RETRY_BASE_MS = 30_000;
const MAX_RETRY_DELAY_MS = 15 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 5;

export interface RepoResult {
  repo: string;
  state: WebhookState | 'deleted' | 'skipped';
  hookId?: number;
  action?: 'created' | 'updated' | 'unchanged' | 'deleted';
  message?: string;
  /** Hook ids that all claim the callback URL (state `conflict`). */
  conflictHookIds?: number[];
  /** The work could not be done (a GitHub call failed), as opposed to a finding of the audit. */
  failure?: boolean;
  /** Set when GitHub may answer differently later. */
  retryAfterMs?: number;
}

/** Dockrev's hooks among a repository's: on the callback URL and subscribed to `package`. */
export function dockrevHooks(hooks: GithubHook[], callbackUrl: string): GithubHook[] {
  return hooks.filter((hook) => callbackUrlsMatch(hook.url, callbackUrl) && (hook.events.includes('package') || hook.events.includes('*')));
}

function conflict(matching: GithubHook[]): RepoResult {
  return {
    repo: '',
    state: 'conflict',
    message: `multiple matching webhooks found (${matching.length}); remove duplicates on GitHub then retry`,
    conflictHookIds: matching.map((hook) => hook.id),
  };
}

async function reconcile(client: GithubClient, repo: GithubPackagesRepo, settings: GithubPackagesSettings): Promise<RepoResult> {
  const config = { url: settings.callbackUrl, secret: settings.webhookSecret ?? '' };
  const matching = dockrevHooks(await client.listHooks(repo.owner, repo.repo), settings.callbackUrl);
  if (matching.length > 1) return { ...conflict(matching), repo: repo.fullName };
  if (matching.length === 1) {
    const updated = await client.updateHook(repo.owner, repo.repo, matching[0]!.id, config);
    return { repo: repo.fullName, state: 'ok', hookId: updated.id, action: 'updated' };
  }
  const created = await client.createHook(repo.owner, repo.repo, config);
  return { repo: repo.fullName, state: 'ok', hookId: created.id, action: 'created' };
}

async function audit(client: GithubClient, repo: GithubPackagesRepo, settings: GithubPackagesSettings): Promise<RepoResult> {
  const matching = dockrevHooks(await client.listHooks(repo.owner, repo.repo), settings.callbackUrl);
  if (matching.length === 0) return { repo: repo.fullName, state: 'missing', message: 'webhook missing' };
  if (matching.length > 1) return { ...conflict(matching), repo: repo.fullName };
  const hook = matching[0]!;
  if (!hook.active) return { repo: repo.fullName, state: 'error', hookId: hook.id, message: 'webhook is inactive' };
  return { repo: repo.fullName, state: 'ok', hookId: hook.id, action: 'unchanged' };
}

/** Deletes the stored hook and every hook of Dockrev's on the repository; a repository GitHub no longer has has none. */
async function unregister(client: GithubClient, repo: GithubPackagesRepo, settings: GithubPackagesSettings): Promise<number[]> {
  let hooks: GithubHook[] = [];
  try {
    hooks = await client.listHooks(repo.owner, repo.repo);
  } catch (error) {
    if (!(error instanceof GithubCallError && error.kind === 'not_found')) throw error;
  }
  const ids = new Set(dockrevHooks(hooks, settings.callbackUrl).map((hook) => hook.id));
  if (repo.hookId !== undefined) ids.add(repo.hookId);
  const deleted: number[] = [];
  for (const id of ids) if (await client.deleteHook(repo.owner, repo.repo, id)) deleted.push(id);
  return deleted;
}

function failed(repo: string, error: unknown, attemptDelayMs: number): RepoResult {
  if (!(error instanceof GithubCallError)) return { repo, state: 'error', message: errorText(error), failure: true };
  const message =
    error.kind === 'unauthorized'
      ? `github pat is invalid or lacks required scopes: ${error.message}`
      : error.kind === 'not_found'
        ? `repository not found, or the PAT may not manage its webhooks: ${error.message}`
        : error.message;
  if (!error.transient) return { repo, state: 'error', message, failure: true };
  const retryAfterMs = error.retryAfterSeconds !== undefined ? (error.retryAfterSeconds + 1) * 1000 : attemptDelayMs;
  return { repo, state: 'error', message, failure: true, retryAfterMs };
}

export class WebhookOps {
  /** In this process, one job at a time works on a repository's hooks (two creates would make a conflict). */
  private readonly repoLocks = new KeyedLock();

  constructor(
    private readonly deps: GithubDeps,
    private readonly queue: WebhookJobs,
  ) {}

  private retryDelayMs(attempt: number): number {
    const base = this.deps.retry?.baseMs ?? DEFAULT_RETRY_BASE_MS;
    return Math.min(base * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
  }

  async run(job: Job, running: RunningJob): Promise<JobOutcome> {
    const { store } = this.deps;
    const op = opOf(job)!;
    const repos = reposOf(job);
    const base = { op, repos, ...(job.summary.retryOf ? { retryOf: job.summary.retryOf, attempt: job.summary.attempt } : {}) };
    const settings = await store.githubPackages.getSettings();
    const problem = op === 'unregister' ? undefined : (webhookPrecondition(settings) ?? (settings.pat ? undefined : 'pat is required'));
    if (problem) {
      await running.log('error', `github webhook ${op} cannot run: ${problem}`);
      const results = repos.map((repo): RepoResult => ({ repo, state: 'error', message: problem, failure: true }));
      for (const result of results) await this.record(job, op, result);
      return this.outcome(job, op, base, results, problem);
    }
    const client = settings.pat ? githubClient(this.deps, settings.pat, 'job') : undefined;
    const attempt = typeof job.summary.attempt === 'number' ? job.summary.attempt : 1;
    const results: RepoResult[] = [];
    for (const [index, fullName] of repos.entries()) {
      await running.progress({ phase: op, message: `${op} ${fullName} (${index + 1}/${repos.length})`, current: index, total: repos.length, currentTarget: fullName });
      const result = await this.repoLocks.run(repoKey(fullName), () => this.runOne(job, op, fullName, settings, client, running, attempt));
      results.push(result);
      await running.log(result.state === 'error' || result.state === 'conflict' ? 'warn' : 'info', `${fullName}: ${result.state}${result.action ? ` (${result.action})` : ''}${result.message ? `: ${result.message}` : ''}`);
    }
    await running.progress({ phase: 'done', message: `github webhook ${op} finished`, current: repos.length, total: repos.length });
    return this.outcome(job, op, base, results);
  }

  private async runOne(
    job: Job,
    op: WebhookOp,
    fullName: string,
    settings: GithubPackagesSettings,
    client: GithubClient | undefined,
    running: RunningJob,
    attempt: number,
  ): Promise<RepoResult> {
    const { store } = this.deps;
    const repo = await store.githubPackages.getRepo(fullName);
    if (!repo) return { repo: fullName, state: 'skipped', message: 'repo is no longer tracked' };
    if (op !== 'audit_all') await store.githubPackages.updateRepo(fullName, { webhookState: 'running', webhookJobId: job.id });
    let result: RepoResult;
    try {
      if (op === 'unregister') {
        const deleted = client ? await unregister(client, repo, settings) : [];
        if (!client) await running.log('warn', `${fullName}: no PAT stored; its hooks on GitHub are left in place`);
        await store.githubPackages.deleteRepo(fullName);
        await running.event('ghcr_repo_deleted', { repo: repo.fullName, deletedHookIds: deleted });
        return { repo: repo.fullName, state: 'deleted', action: 'deleted', message: `deleted hooks: ${deleted.join(',') || 'none'}` };
      }
      result = op === 'audit_all' ? await audit(client!, repo, settings) : await reconcile(client!, repo, settings);
    } catch (error) {
      result = failed(repo.fullName, error, this.retryDelayMs(attempt));
    }
    await this.record(job, op, result);
    return result;
  }

  /** The repository row after one repository's work. */
  private async record(job: Job, op: WebhookOp, result: RepoResult): Promise<void> {
    if (result.state === 'deleted' || result.state === 'skipped') return;
    const now = nowIso();
    await this.deps.store.githubPackages.updateRepo(result.repo, {
      webhookState: result.state,
      webhookJobId: job.id,
      ...(result.hookId !== undefined ? { hookId: result.hookId } : result.state === 'missing' ? { hookId: null } : {}),
      ...(op === 'audit_all' ? { lastAuditAt: now } : { lastSyncAt: now }),
      lastOp: op,
      lastError: result.state === 'ok' ? null : (result.message ?? null),
    });
  }

  private async outcome(job: Job, op: WebhookOp, base: Record<string, unknown>, results: RepoResult[], problem?: string): Promise<JobOutcome> {
    const count = (state: RepoResult['state']) => results.filter((result) => result.state === state).length;
    const counts = { ok: count('ok'), missing: count('missing'), conflict: count('conflict'), error: count('error'), deleted: count('deleted') };
    // An audit that finds a hook missing, duplicated or inactive did its work; a register that finds duplicates did not.
    const errors = results.filter((result) => result.failure || (op !== 'audit_all' && (result.state === 'error' || result.state === 'conflict')));
    const summary: Record<string, unknown> = { ...base, results, counts };
    if (problem || errors.length > 0) summary.error = problem ?? `${errors[0]!.repo}: ${errors[0]!.message}`;

    const retryable = results.filter((result) => result.retryAfterMs !== undefined);
    const attempt = typeof job.summary.attempt === 'number' ? job.summary.attempt : 1;
    if (retryable.length > 0 && attempt < (this.deps.retry?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)) {
      const wait = Math.max(...retryable.map((result) => result.retryAfterMs!));
      const retry = await this.queue.retry(job, retryable.map((result) => result.repo), toIso(Date.now() + wait));
      summary.retryJobId = retry.id;
      summary.retryAt = retry.summary.notBefore;
    }

    const events = [];
    if (op === 'audit_all') {
      const anomalies = results.filter((result): result is RepoResult & { state: 'missing' | 'conflict' | 'error' } =>
        result.state === 'missing' || result.state === 'conflict' || result.state === 'error',
      );
      if (anomalies.length > 0) {
        const repos: GhcrWebhookAnomalyEvent['repos'] = anomalies.map((result) => {
          const [owner = '', repo = ''] = result.repo.split('/');
          return { owner, repo, fullName: result.repo, state: result.state, ...(result.message ? { lastError: result.message } : {}) };
        });
        events.push(pendingEvent('ghcr_webhook.anomaly', { jobId: job.id, repos }));
      }
    }
    return { status: summary.error ? 'failed' : 'success', summary, events };
  }
}
