import { notFound } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import { discoveryProjectView } from './views.js';

type DiscoveryHandlers = Pick<
  HandlerMap,
  'startDiscoveryScan' | 'listDiscoveryProjects' | 'archiveDiscoveryProject' | 'restoreDiscoveryProject'
>;

export const discoveryHandlers: DiscoveryHandlers = {
  listDiscoveryProjects: async ({ query, deps }) => {
    const projects = await deps.store.discoveryProjects.list(query.archived ?? 'exclude');
    return { status: 200, body: { projects: projects.map(discoveryProjectView) } };
  },

  archiveDiscoveryProject: async ({ params, deps }) =>
    (await deps.store.discoveryProjects.setArchived(params.project, true))
      ? { status: 200, body: { ok: true } }
      : notFound('project not found'),

  restoreDiscoveryProject: async ({ params, deps }) =>
    (await deps.store.discoveryProjects.setArchived(params.project, false))
      ? { status: 200, body: { ok: true } }
      : notFound('project not found'),

  startDiscoveryScan: async ({ principal, deps }) => {
    const job = await deps.engine.startDiscovery({ createdBy: principal.name, reason: 'ui' });
    return { status: 200, body: { jobId: job.id } };
  },
};
