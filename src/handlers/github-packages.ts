import type { components } from '../generated/dockrev.js';
import type { HandlerMap } from '../http/handler-types.js';
import { pollingStream, resumeCursor, type StreamFrame } from '../http/sse.js';
import type { GithubDelivery, GithubDeliveryEvent, GithubPackagesRepo } from '../store/index.js';
import { errorText } from '../errors.js';

type Schemas = components['schemas'];

type GithubPackagesHandlers = Pick<
  HandlerMap,
  | 'getGithubPackagesSettings'
  | 'putGithubPackagesSettings'
  | 'listGithubPackagesRepos'
  | 'setGithubPackagesRepoSelected'
  | 'deleteGithubPackagesRepo'
  | 'bulkSetGithubPackagesReposSelected'
  | 'addGithubPackagesTarget'
  | 'removeGithubPackagesTarget'
  | 'resolveGithubPackagesInput'
  | 'getGithubPackagesWebhookOverview'
  | 'listGithubPackagesWebhookDeliveries'
  | 'streamGithubPackagesWebhookDeliveries'
  | 'syncAllGithubPackagesWebhooks'
  | 'syncGithubPackagesWebhookRepo'
  | 'syncGithubPackages'
>;

function repoView(repo: GithubPackagesRepo): Schemas['GithubPackagesRepo'] {
  const view: Schemas['GithubPackagesRepo'] = { fullName: repo.fullName, selected: repo.selected, webhookState: repo.webhookState };
  if (repo.webhookJobId) view.webhookJobId = repo.webhookJobId;
  if (repo.hookId !== undefined) view.hookId = repo.hookId;
  if (repo.lastSyncAt) view.lastSyncAt = repo.lastSyncAt;
  if (repo.lastAuditAt) view.lastAuditAt = repo.lastAuditAt;
  if (repo.lastOp) view.lastOp = repo.lastOp as Schemas['GithubPackagesLastOp'];
  if (repo.lastError) view.lastError = repo.lastError;
  return view;
}

function deliveryView(delivery: GithubDelivery): Schemas['GithubPackagesDelivery'] {
  return { ...delivery };
}

function deliveryFrame(event: GithubDeliveryEvent): StreamFrame {
  return { id: event.id, event: 'github_packages_delivery_event', data: { type: 'github_packages_delivery_event', ...deliveryView(event.delivery) } };
}

export const githubPackagesHandlers: GithubPackagesHandlers = {
  getGithubPackagesSettings: async ({ deps }) => ({ status: 200, body: await deps.engine.github.settings() }),

  putGithubPackagesSettings: async ({ body, deps }) => {
    await deps.engine.github.putSettings(body);
    return { status: 200, body: { ok: true } };
  },

  listGithubPackagesRepos: async ({ query, deps }) => {
    const selectedFilter = query.selectedFilter === '' ? undefined : query.selectedFilter;
    const page = await deps.store.githubPackages.listRepos({ page: query.page, perPage: query.perPage, q: query.q?.trim() || undefined, selectedFilter });
    return {
      status: 200,
      body: { page: page.page, perPage: page.perPage, total: page.total, filteredTotal: page.filteredTotal, selectedTotal: page.selectedTotal, repos: page.repos.map(repoView) },
    };
  },

  setGithubPackagesRepoSelected: async ({ body, principal, deps }) => {
    const { jobId } = await deps.engine.github.repos.setSelected(body.fullName, body.selected, principal.name);
    return { status: 200, body: jobId ? { ok: true, jobId } : { ok: true } };
  },

  deleteGithubPackagesRepo: async ({ body, principal, deps }) => {
    const { jobId } = await deps.engine.github.repos.remove(body.fullName, principal.name);
    return { status: 200, body: { ok: true, jobId } };
  },

  bulkSetGithubPackagesReposSelected: async ({ body, deps }) => {
    const affected = await deps.engine.github.repos.bulkSetSelected({ q: body.q, selectedFilter: body.selectedFilter }, body.selected);
    return { status: 200, body: { ok: true, affected } };
  },

  addGithubPackagesTarget: async ({ body, deps }) => ({ status: 200, body: { ok: true, ...(await deps.engine.github.repos.addTarget(body.input)) } }),

  removeGithubPackagesTarget: async ({ body, deps }) => {
    await deps.store.githubPackages.removeTarget(body.input);
    return { status: 200, body: { ok: true } };
  },

  resolveGithubPackagesInput: async ({ body, deps }) => ({ status: 200, body: await deps.engine.github.repos.resolve(body.input) }),

  getGithubPackagesWebhookOverview: async ({ deps }) => ({ status: 200, body: await deps.engine.github.overview() }),

  listGithubPackagesWebhookDeliveries: async ({ query, deps }) => {
    const decision = query.decision === 'all' ? undefined : query.decision;
    const page = await deps.store.githubPackages.listDeliveries({ page: query.page, perPage: query.perPage, decision, q: query.q?.trim() || undefined });
    return {
      status: 200,
      body: { page: page.page, perPage: page.perPage, total: page.total, filteredTotal: page.filteredTotal, summary: page.decisionCounts, deliveries: page.deliveries.map(deliveryView) },
    };
  },

  streamGithubPackagesWebhookDeliveries: async ({ query, headers, deps }) => {
    const { githubPackages } = deps.store;
    const requested = resumeCursor(query.afterId, headers['last-event-id']);
    // Without a cursor the stream starts at the tail: live deliveries only, no replay.
    const startCursor = requested > 0 ? requested : await githubPackages.lastDeliveryEventId();
    return {
      status: 200,
      body: pollingStream({
        startCursor,
        read: async (cursor, limit) => (await githubPackages.listDeliveryEventsAfter(cursor, limit)).map(deliveryFrame),
        wake: (onWake) => githubPackages.onDeliveryEvent(() => onWake()),
        // The cursor tells a client where to resume once the store answers again.
        errorFrame: (error, cursor) => ({
          event: 'github_packages_delivery_events_error',
          data: { type: 'github_packages_delivery_events_error', error: errorText(error), afterId: cursor },
        }),
      }),
    };
  },

  syncAllGithubPackagesWebhooks: async ({ principal, deps }) => {
    const { job, reused } = await deps.engine.github.syncAll(principal.name);
    return { status: 200, body: { ok: true, jobId: job.id, status: job.status === 'running' ? 'running' : 'queued', reused } };
  },

  syncGithubPackagesWebhookRepo: async ({ body, principal, deps }) => {
    const { job, reused } = await deps.engine.github.syncRepo(body.fullName, principal.name);
    return { status: 200, body: { ok: true, jobId: job.id, status: job.status === 'running' ? 'running' : 'queued', reused } };
  },

  syncGithubPackages: async ({ body, principal, deps }) => {
    const results = await deps.engine.github.sync({ dryRun: body.dryRun, repos: body.repos }, principal.name);
    return { status: 200, body: { ok: results.every((row) => row.action !== 'error'), results } };
  },
};
