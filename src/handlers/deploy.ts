import type { HandlerMap } from '../http/handler-types.js';
import { authView } from './views.js';

type DeployHandlers = Pick<HandlerMap, 'getDeployCheckReport' | 'getDeployWelcome' | 'putDeployWelcome'>;

export const deployHandlers: DeployHandlers = {
  getDeployWelcome: async ({ deps }) => ({ status: 200, body: await deps.store.settings.getDeployWelcome() }),

  putDeployWelcome: async ({ body, deps }) => {
    const welcome = await deps.store.settings.putDeployWelcome(body.neverAutoOpen);
    return { status: 200, body: { ok: true, neverAutoOpen: welcome.neverAutoOpen, updatedAt: welcome.updatedAt! } };
  },

  getDeployCheckReport: async ({ deps, identity, principal }) => ({
    status: 200,
    body: await deps.engine.deployCheckReport(authView(deps.config.auth, identity, principal)),
  }),
};
