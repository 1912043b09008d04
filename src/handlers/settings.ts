import type { components } from '../generated/dockrev.js';
import type { HandlerMap } from '../http/handler-types.js';
import { authView } from './views.js';

type SettingsHandlers = Pick<HandlerMap, 'getSettings' | 'putSettings'>;

export const settingsHandlers: SettingsHandlers = {
  getSettings: async ({ deps, identity, principal }) => {
    const settings = await deps.engine.settings();
    // Stored intervals are validated on the way in, so the enum holds.
    const resourceMonitor = settings.resourceMonitor as components['schemas']['SettingsResourceMonitor'];
    return { status: 200, body: { ...settings, resourceMonitor, auth: authView(deps.config.auth, identity, principal) } };
  },

  putSettings: async ({ body, deps }) => {
    await deps.engine.putSettings(body);
    return { status: 200, body: { ok: true } };
  },
};
