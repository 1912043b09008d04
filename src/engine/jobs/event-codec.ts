// Structured job events travel as job log rows of level `event` whose message is a JSON object
// with a `type`. The runner encodes them; the event streams decode them. One module keeps both
// sides of that format together.
import type { JobLog } from '../../store/index.js';

/** The stored message of a structured event. */
export function encodeJobEvent(jobId: string, type: string, ts: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ type, jobId, ts, ...fields });
}

/** The event object of an `event` row, or undefined when the row does not hold a JSON object. */
export function decodeJobEvent(log: JobLog): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(log.msg) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** How one row reads on a stream: its event name and data (rows that are not valid events keep their raw text). */
export function jobLogEvent(log: JobLog): { event: string; data: Record<string, unknown> } {
  if (log.level !== 'event') {
    return { event: 'job_log', data: { type: 'job_log', jobId: log.jobId, ts: log.ts, level: log.level, msg: log.msg } };
  }
  const decoded = decodeJobEvent(log);
  const type = typeof decoded?.type === 'string' ? decoded.type : 'event';
  return { event: type, data: decoded ?? { type: 'event', jobId: log.jobId, ts: log.ts, raw: log.msg } };
}
