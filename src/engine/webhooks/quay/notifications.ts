// Quay notifications Dockrev manages itself: for every Quay repository a service uses, exactly
// one `repo_push` webhook notification that calls Dockrev's Quay receiver with the current
// token. Ones that call the receiver with an outdated token or base URL are Dockrev's own and
// are removed; notifications that call anything else are left alone. The audit creates missing
// ones and reports those Quay counts failures for; the repair also re-creates the failing ones.
import { mapConcurrently, SerialLock } from '../../../concurrency.js';
import { DomainError, errorText } from '../../../errors.js';
import type { Job, Store, SystemSettings, RegistryWebhookSettings } from '../../../store/index.js';
import { serviceImageRef } from '../../check/checker.js';
import type { JobOrigin } from '../../check/targets.js';
import { pendingEvent } from '../../events.js';
import type { JobOutcome, JobRunner, RunningJob } from '../../jobs/runner.js';
import type { RegistryHosts } from '../../registry/hosts/index.js';
import { callbackUrl, redact } from '../sources.js';
import { QuayApi, type QuayNotification } from './api.js';

export type QuayNotificationsOp = 'audit' | 'repair';
export type QuayRepositoryState = 'ok' | 'created' | 'failing' | 'recreated' | 'error';

export interface QuayRepositoryReport {
  registry: string;
  /** `namespace/name`, as Quay's API names it. */
  repository: string;
  state: QuayRepositoryState;
  uuid?: string;
  numberOfFailures?: number;
  /** Copies and outdated Dockrev notifications deleted. */
  removed: number;
  error?: string;
}

export interface QuayNotificationsDeps {
  store: Store;
  jobs: JobRunner;
  hosts: RegistryHosts;
}

export const QUAY_JOB_TYPE = 'quay_notifications';
const TITLE = 'Dockrev';
const REPOSITORY_CONCURRENCY = 4;

interface Managed {
  api: QuayApi;
  callbackUrl: string;
  secrets: string[];
  /** Only repositories on this host, when one is named. */
  registryHost?: string;
}

/** Origin and path of a URL: where a notification delivers, whatever token its query carries. */
function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return url;
  }
}

function urlOf(notification: QuayNotification): string {
  return typeof notification.config.url === 'string' ? notification.config.url : '';
}

export class QuayNotifications {
  private readonly guard = new SerialLock();

  constructor(private readonly deps: QuayNotificationsDeps) {}

  /** What the audit needs, or why it cannot run (`details.reason`). */
  managed(settings: RegistryWebhookSettings, system: SystemSettings): Managed {
    const { quay } = settings;
    const token = settings.sources.quay.token;
    if (!settings.sources.quay.enabled || !token) throw new DomainError('invalid_input', 'the Quay webhook source is disabled', { reason: 'quay_source_disabled' });
    if (!quay.apiBaseUrl || !quay.oauthToken) {
      throw new DomainError('invalid_input', 'quay.apiBaseUrl and quay.oauthToken are required', { reason: 'quay_api_not_configured' });
    }
    const url = callbackUrl(system.instance.publicBaseUrl, 'quay', token);
    if (!url) throw new DomainError('invalid_input', 'settings.instance.publicBaseUrl is required to build the callback URL', { reason: 'public_base_url_missing' });
    const apiHost = new URL(quay.apiBaseUrl).host.toLowerCase();
    const registryHost = quay.registryHost ?? (this.deps.hosts.profileFor(apiHost).family === 'quay' ? apiHost : undefined);
    return { api: new QuayApi(quay.apiBaseUrl, quay.oauthToken), callbackUrl: url, secrets: [token, quay.oauthToken], registryHost };
  }

  /** Starts an audit or repair job, or answers the one running. */
  async start(op: QuayNotificationsOp, origin: JobOrigin): Promise<{ job: Job; reused: boolean }> {
    return this.guard.run(async () => {
      const { store } = this.deps;
      const running = await store.jobs.findRunning(QUAY_JOB_TYPE, 'all');
      if (running) return { job: running, reused: true };
      const managed = this.managed(await store.registryWebhooks.getSettings(), await store.settings.getSystem());
      const job = await this.deps.jobs.start(
        { prefix: 'job', type: QUAY_JOB_TYPE, scope: 'all', ...origin, summary: { op }, startMessage: `quay notification ${op} started`, failureMessage: `quay notification ${op} failed` },
        (running) => this.run(running, op, managed),
      );
      return { job, reused: false };
    });
  }

  /** The Quay repositories (`namespace/name` on a Quay host) that services not archived use. */
  async repositoriesInUse(registryHost?: string): Promise<{ registry: string; repository: string }[]> {
    const found = new Map<string, { registry: string; repository: string }>();
    for (const service of await this.deps.store.services.list('exclude')) {
      const ref = serviceImageRef(service);
      if (!ref || this.deps.hosts.profileFor(ref.registry).family !== 'quay') continue;
      if (registryHost && ref.registry !== registryHost) continue;
      found.set(ref.key, { registry: ref.registry, repository: ref.repository });
    }
    return [...found.values()].sort((a, b) => `${a.registry}/${a.repository}`.localeCompare(`${b.registry}/${b.repository}`));
  }

  private async run(job: RunningJob, op: QuayNotificationsOp, managed: Managed): Promise<JobOutcome> {
    const repositories = await this.repositoriesInUse(managed.registryHost);
    await job.log('info', `quay repositories in use: ${repositories.length}`);
    let done = 0;
    const reports = await mapConcurrently(repositories, REPOSITORY_CONCURRENCY, async (target) => {
      const report = await this.ensure(target, op, managed);
      done += 1;
      await job.log(report.state === 'error' ? 'warn' : 'info', `${target.registry}/${target.repository}: ${report.state}${report.error ? ` (${report.error})` : ''}`);
      await job.progress({ phase: op, message: `${op} of quay notifications (${done}/${repositories.length})`, current: done, total: repositories.length });
      return report;
    });
    const counts = { repositories: reports.length, ok: 0, created: 0, failing: 0, recreated: 0, error: 0, removed: 0 };
    for (const report of reports) {
      counts[report.state] += 1;
      counts.removed += report.removed;
    }
    await job.log('info', `quay notification ${op} finished: ${Object.entries(counts).map(([name, count]) => `${name}=${count}`).join(' ')}`);
    const anomalies = reports.filter((report) => report.state === 'created' || report.state === 'failing' || report.state === 'error');
    return {
      summary: { op, callbackUrl: redact(managed.callbackUrl, managed.secrets), repositories: reports, counts },
      events:
        anomalies.length > 0
          ? [
              pendingEvent('quay_notifications.anomaly', {
                jobId: job.id,
                repositories: anomalies.map(({ registry, repository, state, numberOfFailures, error }) => ({
                  registry,
                  repository,
                  state: state === 'created' ? 'missing' : (state as 'failing' | 'error'),
                  ...(numberOfFailures !== undefined ? { numberOfFailures } : {}),
                  ...(error ? { error } : {}),
                })),
              }),
            ]
          : [],
    };
  }

  /** One repository: exactly one notification calling the current callback URL afterwards. */
  private async ensure(target: { registry: string; repository: string }, op: QuayNotificationsOp, managed: Managed): Promise<QuayRepositoryReport> {
    const { api, callbackUrl: url } = managed;
    const report: QuayRepositoryReport = { registry: target.registry, repository: target.repository, state: 'ok', removed: 0 };
    try {
      const listed = await api.listNotifications(target.repository);
      const ours = listed.filter((n) => n.event === 'repo_push' && n.method === 'webhook' && endpointOf(urlOf(n)) === endpointOf(url));
      const [keep, ...extra] = ours.filter((n) => urlOf(n) === url).sort((a, b) => a.number_of_failures - b.number_of_failures);
      for (const outdated of [...extra, ...ours.filter((n) => urlOf(n) !== url)]) {
        await api.deleteNotification(target.repository, outdated.uuid);
        report.removed += 1;
      }
      if (!keep) {
        report.uuid = (await api.createWebhook(target.repository, url, TITLE)).uuid;
        report.state = 'created';
      } else if (keep.number_of_failures > 0 && op === 'repair') {
        await api.deleteNotification(target.repository, keep.uuid);
        const created = await api.createWebhook(target.repository, url, TITLE);
        await api.testNotification(target.repository, created.uuid);
        Object.assign(report, { uuid: created.uuid, state: 'recreated', numberOfFailures: keep.number_of_failures });
      } else {
        Object.assign(report, { uuid: keep.uuid, state: keep.number_of_failures > 0 ? 'failing' : 'ok', numberOfFailures: keep.number_of_failures });
      }
    } catch (error) {
      report.state = 'error';
      report.error = redact(errorText(error), managed.secrets);
    }
    return report;
  }
}
