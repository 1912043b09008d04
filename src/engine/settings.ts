// System settings as a user changes them: validated, merged with what is stored, then saved.
import { DomainError } from '../errors.js';
import type { components } from '../generated/dockrev.js';
import type { Store } from '../store/index.js';
import { cronProblem } from './schedule/cron.js';

type Schedule = components['schemas']['SettingsSchedule'];
export type SystemSettingsInput = components['schemas']['SettingsUpdate'];

const SAMPLE_INTERVALS = [10, 30, 60, 300];

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

/** Stores a `PUT /api/settings` body; a bad interval, cron or base URL is refused naming its field. */
export async function putSystemSettings(store: Store, body: SystemSettingsInput): Promise<void> {
  const stored = await store.settings.getSystem();

  if (body.resourceMonitor && !SAMPLE_INTERVALS.includes(body.resourceMonitor.sampleIntervalSeconds)) {
    throw new DomainError('invalid_input', 'resourceMonitor.sampleIntervalSeconds must be one of 10/30/60/300', {
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
      throw new DomainError('invalid_input', 'cron expression is invalid', { reason: 'cron_invalid', field: `schedules.${name}.cron`, error: problem });
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
        throw new DomainError('invalid_input', normalized.problem, { reason: 'instance_public_base_url_invalid', field: 'instance.publicBaseUrl' });
      }
      publicBaseUrl = normalized.url;
    }
  }

  await store.settings.putSystem({
    backup: body.backup,
    resourceMonitor: body.resourceMonitor
      ? { ...stored.resourceMonitor, enabled: body.resourceMonitor.enabled, sampleIntervalSeconds: body.resourceMonitor.sampleIntervalSeconds }
      : stored.resourceMonitor,
    schedules,
    instance: { publicBaseUrl },
  });
}
