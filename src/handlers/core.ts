import type { HandlerMap } from '../http/handler-types.js';

export const coreHandlers: Pick<HandlerMap, 'getHealth' | 'getVersion'> = {
  getHealth: async () => ({ status: 200, body: 'ok' }),
  getVersion: async ({ deps }) => ({ status: 200, body: { version: deps.config.appVersion, selfUpgradeUrl: deps.config.selfUpgradeUrl } }),
};
