import type { Logger } from 'pino';
import type { operations } from '../generated/supervisor.js';
import type { HandlerMapOf } from '../http/handler-types.js';
import { notImplementedFor } from '../http/not-implemented.js';
import { FAVICON_PNG, supervisorPage } from './assets.js';
import type { SupervisorConfig } from './config.js';

export interface SupervisorDeps {
  config: SupervisorConfig;
  logger: Logger;
}

/** Self-upgrade operations document a 501 until the upgrade engine exists. */
export const SUPERVISOR_NOT_IMPLEMENTED = ['getSelfUpgrade', 'startSelfUpgrade', 'rollbackSelfUpgrade'] as const;

const notImplemented = notImplementedFor<operations, (typeof SUPERVISOR_NOT_IMPLEMENTED)[number], SupervisorDeps>();

export const supervisorHandlers: HandlerMapOf<operations, SupervisorDeps> = {
  getSupervisorHealth: async () => ({ status: 200, body: { ok: true } }),
  getSupervisorVersion: async ({ deps }) => ({
    status: 200,
    body: { version: deps.config.appVersion, ...deps.config.about },
  }),
  getSupervisorFavicon: async () => ({ status: 200, body: FAVICON_PNG, headers: { 'Cache-Control': 'public, max-age=86400' } }),
  getSupervisorUi: async ({ deps }) => ({ status: 200, body: supervisorPage(deps.config.basePath, deps.config.appVersion) }),
  getSelfUpgrade: notImplemented('getSelfUpgrade'),
  startSelfUpgrade: notImplemented('startSelfUpgrade'),
  rollbackSelfUpgrade: notImplemented('rollbackSelfUpgrade'),
};
