import type { components } from '../generated/dockrev.js';
import { authorizationMode, maskValue } from '../http/auth.js';
import type { HandlerMap } from '../http/handler-types.js';

type SettingsHandlers = Pick<HandlerMap, 'getSettings' | 'putSettings'>;

export const settingsHandlers: SettingsHandlers = {
  getSettings: async ({ deps, identity, principal }) => {
    const settings = await deps.engine.settings();
    const { auth } = deps.config;
    const authView: components['schemas']['SettingsAuth'] = {
      forwardHeaderName: auth.forwardHeaderName,
      groupHeaderName: auth.groupHeaderName,
      allowAnonymousInDev: auth.allowAnonymousInDev,
      authorizationMode: authorizationMode(auth),
      currentGroups: identity.groups.map(maskValue),
    };
    if (auth.allowedUser) authView.allowedUserMasked = maskValue(auth.allowedUser);
    if (auth.allowedGroup) authView.allowedGroupMasked = maskValue(auth.allowedGroup);
    if (identity.user) authView.currentUser = identity.user;
    if (principal.matchedBy) authView.matchedBy = principal.matchedBy;
    // Stored intervals are validated on the way in, so the enum holds.
    const resourceMonitor = settings.resourceMonitor as components['schemas']['SettingsResourceMonitor'];
    return { status: 200, body: { ...settings, resourceMonitor, auth: authView } };
  },

  putSettings: async ({ body, deps }) => {
    await deps.engine.putSettings(body);
    return { status: 200, body: { ok: true } };
  },
};
