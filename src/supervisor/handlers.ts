import { publishedSpec } from '../spec.js';
import type { Logger } from 'pino';
import type { operations } from '../generated/supervisor.js';
import type { HandlerMapOf } from '../http/handler-types.js';
import { FAVICON_PNG, supervisorPage } from './assets.js';
import type { SupervisorConfig } from './config.js';
import { refusal } from './failures.js';
import type { SelfUpgrade } from './upgrade.js';
import { selfUpgradeView } from './views.js';

export interface SupervisorDeps {
  config: SupervisorConfig;
  logger: Logger;
  upgrade: SelfUpgrade;
}

/** Operations that document a 501; none are left (a contract test keeps this and the spec equal). */
export const SUPERVISOR_NOT_IMPLEMENTED = [] as const;

export const supervisorHandlers: HandlerMapOf<operations, SupervisorDeps> = {
  getSupervisorHealth: async () => ({ status: 200, body: { ok: true } }),
  getSupervisorOpenApiDocument: async () => ({ status: 200, body: publishedSpec('supervisor') as { openapi: string; info: Record<string, never>; paths: Record<string, never> } }),
  getSupervisorVersion: async ({ deps }) => ({
    status: 200,
    body: { version: deps.config.appVersion, ...deps.config.about },
  }),
  getSupervisorFavicon: async () => ({ status: 200, body: FAVICON_PNG, headers: { 'Cache-Control': 'public, max-age=86400' } }),
  getSupervisorUi: async ({ deps }) => ({
    status: 200,
    body: supervisorPage(deps.config.basePath, deps.config.appVersion, selfUpgradeView(deps.upgrade.snapshot(), deps.config.target.imageRepo)),
  }),
  getSelfUpgrade: async ({ deps }) => ({ status: 200, body: selfUpgradeView(deps.upgrade.snapshot(), deps.config.target.imageRepo) }),
  startSelfUpgrade: async ({ body, deps }) => {
    const outcome = await deps.upgrade.start(body);
    return outcome.ok ? { status: 200, body: { opId: outcome.opId } } : refusal(outcome);
  },
  rollbackSelfUpgrade: async ({ body, deps }) => {
    const outcome = await deps.upgrade.rollback(body.opId);
    return outcome.ok ? { status: 200, body: { ok: true } } : refusal(outcome);
  },
};
