// Checks that a push notice asks for (a registry webhook, a GitHub package delivery): one check per
// matched service, joining the service's running check rather than starting a second one. The
// notice's audit fields (where it came from, which delivery) are merged into the check's summary,
// so a joined check tells every notice that reached it.
import type { JobSummary } from '../../store/index.js';

/** Who sent the notice; `audit` lands in the check's summary (arrays are unioned when a check is joined). */
export interface PushOrigin {
  /** `github`, `registry`. */
  createdBy: string;
  startMessage: string;
  audit: Record<string, unknown>;
}

/** The summary keys that push notices write; a check keeps them in its final summary. */
export const AUDIT_KEYS = [
  'source',
  'repo',
  'repos',
  'registry',
  'deliveryId',
  'deliveryIds',
  'eventId',
  'eventIds',
  'matchedServiceIds',
  'fallbackUsed',
  'fallbackReason',
  'reusedJobIds',
] as const;

/** The audit fields of a stored summary. */
export function auditOf(summary: JobSummary | undefined): Record<string, unknown> {
  const audit: Record<string, unknown> = {};
  for (const key of AUDIT_KEYS) if (summary?.[key] !== undefined) audit[key] = summary[key];
  return audit;
}

/** `incoming` over `current`: scalars replaced, arrays unioned in order. */
export function mergeAudit(current: Record<string, unknown>, incoming: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...current };
  for (const [key, value] of Object.entries(incoming)) {
    const previous = merged[key];
    merged[key] = Array.isArray(value) && Array.isArray(previous) ? [...new Set([...previous, ...value])] : value;
  }
  return merged;
}
