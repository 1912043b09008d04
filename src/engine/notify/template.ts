// Message templates: Mustache over the v2 payload plus a few short names. Templates produce plain
// text (no HTML escaping here); each channel escapes the result for its own format.
import Mustache from 'mustache';
import { errorText } from '../../errors.js';
import type { NotificationTemplate } from '../../store/index.js';
import type { ChannelMessage, NotificationPayload } from './channels/channel.js';

/** Why a template does not parse, or undefined when it does. */
export function templateProblem(template: string): string | undefined {
  try {
    Mustache.parse(template);
    return undefined;
  } catch (error) {
    return errorText(error);
  }
}

export function renderTemplate(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view, {}, { escape: (value: unknown) => String(value) });
}

interface ServiceLink {
  stackName?: string;
  serviceName?: string;
  currentDisplayTag?: string;
  candidateDisplayTag?: string;
}

const joined = (values: (string | undefined)[]) => [...new Set(values.filter((value): value is string => Boolean(value)))].join(', ');

/** The short names a template may use, derived from the payload so a retry renders the same text. */
export function templateVariables(payload: NotificationPayload): Record<string, unknown> {
  const links = (payload.links ?? {}) as { jobUrl?: string; serviceUrls?: ServiceLink[] };
  const services = links.serviceUrls ?? [];
  const job = (payload.job ?? payload.check ?? {}) as { status?: string };
  return {
    ...payload,
    stack: joined(services.map((service) => service.stackName)),
    service: joined(services.map((service) => service.serviceName)),
    currentTag: joined(services.map((service) => service.currentDisplayTag)),
    candidateTag: joined(services.map((service) => service.candidateDisplayTag)),
    status: job.status ?? '',
    jobUrl: links.jobUrl ?? '',
    title: payload.human.title,
    summary: payload.human.summary,
    detail: payload.human.detail,
  };
}

/** The human text of a payload for one channel: its template's, else title, summary and detail. */
export function channelMessage(payload: NotificationPayload, template: NotificationTemplate | undefined): ChannelMessage {
  const link = typeof payload.url === 'string' ? payload.url : undefined;
  const plainBody = [payload.human.summary, payload.human.detail].filter(Boolean).join('\n\n');
  if (!template?.title && !template?.body) return { payload, title: payload.human.title, body: plainBody, templated: false, link };
  const view = templateVariables(payload);
  const title = template.title ? renderTemplate(template.title, view) : payload.human.title;
  const body = template.body ? renderTemplate(template.body, view) : plainBody;
  // The JSON copy carries the same text the people reading the other channels see.
  const human = { title, summary: template.body ? body : payload.human.summary, detail: template.body ? '' : payload.human.detail };
  return { payload: { ...payload, human }, title, body, templated: true, link };
}
