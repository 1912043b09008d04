import { notFound } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import { snapshotView } from './views.js';

type ServiceHandlers = Pick<
  HandlerMap,
  | 'archiveService'
  | 'restoreService'
  | 'getServiceDigestTags'
  | 'getServiceDigestTagsSnapshot'
  | 'refreshServiceVersionInference'
  | 'getServiceSettings'
  | 'putServiceSettings'
>;

export const servicesHandlers: ServiceHandlers = {
  archiveService: async ({ params, deps }) =>
    (await deps.store.services.setArchived(params.serviceId, true)) ? { status: 200, body: { ok: true } } : notFound('service not found'),

  restoreService: async ({ params, deps }) =>
    (await deps.store.services.setArchived(params.serviceId, false)) ? { status: 200, body: { ok: true } } : notFound('service not found'),

  getServiceSettings: async ({ params, deps }) => {
    const settings = await deps.store.services.getSettings(params.serviceId);
    if (!settings) return notFound('service not found');
    return { status: 200, body: settings };
  },

  putServiceSettings: async ({ params, body, deps }) => {
    const stored = await deps.store.services.putSettings(params.serviceId, {
      autoRollback: body.autoRollback,
      backupTargets: { bindPaths: body.backupTargets.bindPaths, volumeNames: body.backupTargets.volumeNames },
    });
    return stored ? { status: 200, body: { ok: true } } : notFound('service not found');
  },

  getServiceDigestTags: async ({ params, query, deps }) => ({ status: 200, body: await deps.engine.inference.digestTags(params.serviceId, query.digest) }),

  getServiceDigestTagsSnapshot: async ({ params, query, deps }) => {
    const read = await deps.engine.inference.readSnapshot(params.serviceId, query.digest);
    return read.status === 'pending' ? { status: 202, body: read } : { status: 200, body: snapshotView(read.snapshot) };
  },

  refreshServiceVersionInference: async ({ params, body, deps }) => ({
    status: 202,
    body: { status: 'pending', ...(await deps.engine.inference.refresh(params.serviceId, body.digest)) },
  }),
};
