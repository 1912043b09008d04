import { Cron } from 'croner';
import type { components } from '../generated/dockrev.js';
import { authorizationMode, maskValue } from '../http/auth.js';
import { badRequest } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';

type SettingsHandlers = Pick<HandlerMap, 'getSettings' | 'putSettings'>;
type Schedule = components['schemas']['SettingsSchedule'];

const SAMPLE_INTERVALS = [10, 30, 60, 300];

/** Accepts 5-field and 6-field (with seconds) expressions; returns the parser's complaint. */
export function cronProblem(expression: string): string | undefined {
  try {
    new Cron(expression, { paused: true });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Absolute http(s) URL without query or fragment, normalised to end with `/`. */
export function normalizePublicBaseUrl(raw: string): { url: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: 'publicBaseUrl must be an absolute URL starting with http:// or https://' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { problem: 'publicBaseUrl must start with http:// or https://' };
  }
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    return { problem: 'publicBaseUrl must not contain a query or fragment' };
  }
  const text = url.toString();
  return { url: text.endsWith('/') ? text : `${text}/` };
}

export const settingsHandlers: SettingsHandlers = {
  getSettings: async ({ deps, identity, principal }) => {
    const settings = await deps.store.settings.getSystem();
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
    const stored = await deps.store.settings.getSystem();

    if (body.resourceMonitor && !SAMPLE_INTERVALS.includes(body.resourceMonitor.sampleIntervalSeconds)) {
      return badRequest('resourceMonitor.sampleIntervalSeconds must be one of 10/30/60/300', {
        field: 'resourceMonitor.sampleIntervalSeconds',
      });
    }

    const schedules = { ...stored.schedules };
    for (const name of ['updateCheck', 'ghcrWebhookAudit'] as const) {
      const schedule: Schedule | undefined = body.schedules?.[name];
      if (!schedule) continue;
      const cron = schedule.cron.trim();
      const problem = schedule.enabled ? cronProblem(cron) : undefined;
      if (problem) {
        return badRequest('cron expression is invalid', { reason: 'cron_invalid', field: `schedules.${name}.cron`, error: problem });
      }
      schedules[name] = { enabled: schedule.enabled, cron };
    }

    let publicBaseUrl = stored.instance.publicBaseUrl;
    if (body.instance) {
      const raw = body.instance.publicBaseUrl?.trim() ?? '';
      if (raw === '') {
        publicBaseUrl = null;
      } else {
        const normalized = normalizePublicBaseUrl(raw);
        if ('problem' in normalized) {
          return badRequest(normalized.problem, { reason: 'instance_public_base_url_invalid', field: 'instance.publicBaseUrl' });
        }
        publicBaseUrl = normalized.url;
      }
    }

    await deps.store.settings.putSystem({
      backup: body.backup,
      resourceMonitor: body.resourceMonitor
        ? { ...stored.resourceMonitor, enabled: body.resourceMonitor.enabled, sampleIntervalSeconds: body.resourceMonitor.sampleIntervalSeconds }
        : stored.resourceMonitor,
      schedules,
      instance: { publicBaseUrl },
    });
    return { status: 200, body: { ok: true } };
  },
};
