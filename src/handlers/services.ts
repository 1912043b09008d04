import { notFound } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import { notImplemented } from './not-implemented.js';

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

  getServiceDigestTags: notImplemented('getServiceDigestTags'),
  getServiceDigestTagsSnapshot: notImplemented('getServiceDigestTagsSnapshot'),
  refreshServiceVersionInference: notImplemented('refreshServiceVersionInference'),
};
