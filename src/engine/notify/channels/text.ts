// Text helpers the channels share: cutting to a service's limit, escaping, links, tone.
import type { NotificationPayload } from './channel.js';

const TRUNCATED = '… [truncated]';

/** At most `max` UTF-16 units (what Telegram, Discord and Slack count), marked when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - TRUNCATED.length))}${TRUNCATED}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Services that render a link need it absolute; a relative one (no public base URL) is left out. */
export function absoluteLink(link: string | undefined): string | undefined {
  return link && /^https?:\/\//.test(link) ? link : undefined;
}

/** Whether a notification reports success, failure or news (for colours and priorities). */
export function toneOf(payload: NotificationPayload): 'good' | 'bad' | 'info' {
  const status = (payload.job as { status?: string } | undefined)?.status;
  if (payload.kind === 'ghcr_webhook_anomaly') return 'bad';
  if (payload.kind !== 'job_finished') return 'info';
  return status === 'success' ? 'good' : 'bad';
}

/** The debug block as indented JSON, for channels that show code blocks. */
export function debugJson(payload: NotificationPayload): string {
  return JSON.stringify(payload.debug, null, 2);
}
