// Notification payload v2 (behaviour.md §F.3, DESIGN contract decision 12): one envelope
// (`schema`, `kind`, `sentAt`, `channel`, `url`, `human`, `debug`) for every kind, English text.
// Builders are pure; the channel field is set per copy when it is sent.
import type { ChannelKey, NotificationKind, NotificationPayload, UnaddressedPayload } from './channels/channel.js';

export type { UnaddressedPayload } from './channels/channel.js';

export interface PayloadContext {
  appVersion: string;
  /** `settings.instance.publicBaseUrl` (with a trailing `/`); links are relative without it. */
  publicBaseUrl?: string;
  sentAt: string;
}

const SOURCE = 'dockrev-api';
const TEST_SUMMARY_MAX = 512;
const TEST_RAW_MAX = 1024;
const LINKS_MAX = 10;
const ERROR_MAX = 1024;
const TRUNCATED = '... [truncated]';

export const SCHEMAS: Record<NotificationKind, string> = {
  notification_test: 'dockrev.notification.test.v2',
  job_finished: 'dockrev.notification.job.v2',
  new_version_discovered: 'dockrev.notification.new_version_discovered.v2',
  ghcr_webhook_anomaly: 'dockrev.notification.ghcr_webhook_anomaly.v2',
};

export function linkTo(context: Pick<PayloadContext, 'publicBaseUrl'>, path: string): string {
  return `${context.publicBaseUrl ?? '/'}${path}`;
}

const noBaseUrlHint = (context: PayloadContext) =>
  context.publicBaseUrl ? [] : ['Links are relative: set a public base URL in the settings to get absolute ones.'];

function envelope(kind: NotificationKind, context: PayloadContext, url: string, human: NotificationPayload['human'], debug: Record<string, unknown>) {
  return { schema: SCHEMAS[kind], kind, sentAt: context.sentAt, url, human, debug: { appVersion: context.appVersion, source: SOURCE, ...debug } };
}

/** The message as the test shows it: trimmed, `dockrev test` when empty. */
export function normalizeTestMessage(message: string | null | undefined): string {
  return message?.trim() || 'dockrev test';
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}${TRUNCATED}` : text;
}

export function testPayload(
  input: { message?: string | null; requestedChannel: ChannelKey | null; channel: ChannelKey; label: string },
  context: PayloadContext,
): UnaddressedPayload {
  const message = normalizeTestMessage(input.message);
  return envelope(
    'notification_test',
    context,
    linkTo(context, 'settings'),
    {
      title: `Dockrev test notification (${input.label})`,
      summary: cut(message, TEST_SUMMARY_MAX),
      detail: `This is a test notification for ${input.label}. Sent at ${context.sentAt}.`,
    },
    { requestedChannel: input.requestedChannel, rawMessage: message.slice(0, TEST_RAW_MAX) },
  );
}

export interface ServiceRef {
  stackId: string;
  stackName: string;
  serviceId: string;
  serviceName: string;
}

/** Service links sorted by (stack, service, id) and capped, with how many were left out. */
function serviceLinks<T extends ServiceRef>(services: readonly T[], context: PayloadContext) {
  const sorted = [...services].sort(
    (a, b) => a.stackName.localeCompare(b.stackName) || a.serviceName.localeCompare(b.serviceName) || a.serviceId.localeCompare(b.serviceId),
  );
  const serviceUrls = sorted.slice(0, LINKS_MAX).map((service) => ({ ...service, url: linkTo(context, `services/${service.stackId}/${service.serviceId}`) }));
  return { serviceUrls, truncated: { serviceUrlsOmitted: Math.max(0, sorted.length - LINKS_MAX) } };
}

const named = (service: ServiceRef) => `${service.stackName} / ${service.serviceName}`;

export interface JobNotificationInput {
  job: {
    id: string;
    type: string;
    scope: string;
    status: string;
    reason: string;
    createdBy: string;
    createdAt: string;
    startedAt?: string;
    finishedAt?: string;
    stackId?: string;
    serviceId?: string;
  };
  mode: string;
  services: ServiceRef[];
  changedServices: number;
  error?: string;
  failureStep?: string;
}

function jobHuman(input: JobNotificationInput): { title: string; summary: string } {
  const { job, services } = input;
  const what = services.length === 1 ? named(services[0]!) : services.length > 1 ? `${services.length} services` : 'the selected services';
  const plural = (count: number) => `${count} service${count === 1 ? '' : 's'}`;
  if (job.status === 'failed') {
    const why = input.error ? `: ${cut(input.error, ERROR_MAX)}` : input.failureStep ? ` at step ${input.failureStep}` : '';
    return { title: 'Dockrev: update failed', summary: `The update of ${what} failed${why}.` };
  }
  if (job.status === 'rolled_back') {
    const step = input.failureStep ? ` after a failure at step ${input.failureStep}` : '';
    return { title: 'Dockrev: update finished (rolled back)', summary: `The update of ${what} was rolled back to the previous image${step}.` };
  }
  if (input.mode === 'dry-run') {
    return { title: 'Dockrev: update finished (success)', summary: `Dry run for ${what}: ${plural(input.changedServices)} would be updated.` };
  }
  return { title: 'Dockrev: update finished (success)', summary: `Updated ${what}: ${plural(input.changedServices)} changed.` };
}

export function jobPayload(input: JobNotificationInput, context: PayloadContext): UnaddressedPayload {
  const jobUrl = linkTo(context, `queue/${input.job.id}`);
  const links = serviceLinks(input.services, context);
  const primaryUrl = input.services.length === 1 ? links.serviceUrls[0]!.url : jobUrl;
  const { title, summary } = jobHuman(input);
  const detail = [`Job: ${input.job.id}`, `Open: ${primaryUrl}`, `Sent at: ${context.sentAt}`, ...noBaseUrlHint(context)].join('\n');
  return {
    ...envelope('job_finished', context, primaryUrl, { title, summary, detail }, {}),
    job: { ...input.job },
    links: { primaryUrl, jobUrl, ...links },
  };
}

export interface NewVersionService extends ServiceRef {
  currentTag: string;
  currentDisplayTag: string;
  candidateTag: string;
  candidateDisplayTag: string;
  candidateDigest: string;
}

export interface NewVersionInput {
  check: { jobId: string; status: string; scope: string; servicesChecked: number };
  services: NewVersionService[];
}

export function newVersionPayload(input: NewVersionInput, context: PayloadContext): UnaddressedPayload {
  const jobUrl = linkTo(context, `queue/${input.check.jobId}`);
  const links = serviceLinks(input.services, context);
  const single = input.services.length === 1 ? input.services[0]! : undefined;
  const primaryUrl = single ? links.serviceUrls[0]!.url : jobUrl;
  const change = (service: NewVersionService) => `${service.currentDisplayTag} -> ${service.candidateDisplayTag}`;
  const title = single ? `${named(single)} has a new version` : `New versions for ${input.services.length} services`;
  const listed = links.serviceUrls.slice(0, 5).map((service) => `${named(service)} (${change(service)})`);
  const more = input.services.length - listed.length;
  const summary = single
    ? `${named(single)} has a new version (${change(single)}).`
    : `${listed.join('; ')}${more > 0 ? `; and ${more} more` : ''}.`;
  const detail = [`Check: ${input.check.jobId}`, `Open: ${primaryUrl}`, `Sent at: ${context.sentAt}`, ...noBaseUrlHint(context)].join('\n');
  return {
    ...envelope('new_version_discovered', context, primaryUrl, { title, summary, detail }, {}),
    check: { ...input.check, newVersions: input.services.length },
    links: { primaryUrl, jobUrl, ...links },
  };
}

export interface AnomalyInput {
  jobId: string;
  status: string;
  repos: { owner: string; repo: string; fullName: string; state: 'missing' | 'conflict' | 'error'; lastError?: string }[];
}

export function anomalyPayload(input: AnomalyInput, context: PayloadContext): UnaddressedPayload {
  const count = (state: string) => input.repos.filter((repo) => repo.state === state).length;
  const [missing, conflict, error] = [count('missing'), count('conflict'), count('error')];
  const jobUrl = linkTo(context, `queue/${input.jobId}`);
  const repos = [...input.repos].sort((a, b) => a.fullName.localeCompare(b.fullName));
  const listed = repos.slice(0, LINKS_MAX).map((repo) => ({ ...repo, ...(repo.lastError ? { lastError: cut(repo.lastError, 256) } : {}) }));
  const summary = `${repos.length} repositor${repos.length === 1 ? 'y needs' : 'ies need'} attention: ${missing} missing, ${conflict} conflicting, ${error} failing webhooks.`;
  const detail = [...listed.map((repo) => `${repo.fullName}: ${repo.state}`), `Job: ${input.jobId}`, `Sent at: ${context.sentAt}`].join('\n');
  return {
    ...envelope('ghcr_webhook_anomaly', context, jobUrl, { title: 'Dockrev: GitHub webhook audit found problems', summary, detail }, {}),
    job: { id: input.jobId, status: input.status, missing, conflict, error, totalAnomalies: repos.length },
    links: { primaryUrl: jobUrl, jobUrl, settingsUrl: linkTo(context, 'settings'), repos: listed, truncated: { reposOmitted: Math.max(0, repos.length - LINKS_MAX) } },
  };
}
