// An ntfy server as docs.ntfy.sh/publish describes publishing as JSON: `POST` to the root URL
// with `{topic, message, title, tags, priority, click}`; access tokens as `Authorization: Bearer`.
// It answers with the message it stored, as ntfy does.
import { randomBytes } from 'node:crypto';
import { isJsonRequest, json, jsonBody, startHttpDouble, type HttpDouble } from './http-double.js';

export interface NtfyMessage {
  topic: string;
  title?: string;
  message: string;
  tags?: string[];
  priority?: number;
  click?: string;
}

const TOPIC = /^[-_A-Za-z0-9]{1,64}$/;

export function startNtfyServer(options: { basePath?: string; token?: string } = {}): Promise<HttpDouble<NtfyMessage>> {
  const root = `${(options.basePath ?? '').replace(/\/+$/, '')}/`;
  return startHttpDouble<NtfyMessage>((request) => {
    const fail = (status: number, code: number, error: string) => ({ answer: json(status, { code, http: status, error }) });
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) return fail(403, 40301, 'forbidden');
    if (request.path !== root || (request.method !== 'POST' && request.method !== 'PUT')) return fail(404, 40401, 'page not found');
    const body = jsonBody(request) as Partial<NtfyMessage> | undefined;
    if (!isJsonRequest(request) || !body || typeof body !== 'object') return fail(400, 40024, 'invalid request: request body must be message JSON');
    if (typeof body.topic !== 'string' || !TOPIC.test(body.topic)) return fail(400, 40009, 'invalid request: topic invalid');
    if (body.priority !== undefined && (!Number.isInteger(body.priority) || body.priority < 1 || body.priority > 5)) return fail(400, 40007, 'invalid priority');
    if (body.tags !== undefined && (!Array.isArray(body.tags) || body.tags.some((tag) => typeof tag !== 'string'))) return fail(400, 40024, 'invalid tags');
    if (body.click !== undefined && !/^https?:\/\//.test(String(body.click))) return fail(400, 40013, 'invalid click URL');
    const message = { topic: body.topic, message: typeof body.message === 'string' && body.message ? body.message : 'triggered', ...body } as NtfyMessage;
    const id = randomBytes(6).toString('hex');
    return { answer: json(200, { id, time: Math.floor(Date.now() / 1000), event: 'message', ...message }), accepted: message };
  });
}
