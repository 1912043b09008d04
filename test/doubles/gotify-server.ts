// A Gotify server's `POST /message` (gotify.net API docs): the application token in the
// `X-Gotify-Key` header (or `?token=`), a JSON message with a required `message`, optional `title`,
// `priority` and namespaced `extras`. It answers with the stored message.
import { isJsonRequest, json, jsonBody, startHttpDouble, type HttpDouble } from './http-double.js';

export interface GotifyMessage {
  title?: string;
  message: string;
  priority?: number;
  extras?: Record<string, unknown>;
}

export function startGotifyServer(options: { appToken: string; basePath?: string }): Promise<HttpDouble<GotifyMessage>> {
  const endpoint = `${(options.basePath ?? '').replace(/\/+$/, '')}/message`;
  let id = 0;
  return startHttpDouble<GotifyMessage>((request) => {
    const fail = (status: number, error: string, errorDescription: string) => ({ answer: json(status, { error, errorCode: status, errorDescription }) });
    if (request.path !== endpoint) return fail(404, 'Not Found', 'page not found');
    if (request.method !== 'POST') return fail(405, 'Method Not Allowed', 'method not allowed');
    const token = request.headers['x-gotify-key'] ?? request.query.get('token') ?? String(request.headers.authorization ?? '').replace(/^Bearer /, '');
    if (token !== options.appToken) return fail(401, 'Unauthorized', 'you need to provide a valid access token or user credentials to access this api');
    const body = jsonBody(request) as Partial<GotifyMessage> | undefined;
    if (!isJsonRequest(request) || !body || typeof body !== 'object') return fail(400, 'Bad Request', 'invalid JSON');
    if (typeof body.message !== 'string' || body.message === '') return fail(400, 'Bad Request', "Field 'message' is required");
    if (body.priority !== undefined && !Number.isInteger(body.priority)) return fail(400, 'Bad Request', "Field 'priority' must be an integer");
    if (body.extras !== undefined && Object.keys(body.extras).some((key) => !/^[^:]+::[^:]+$/.test(key))) return fail(400, 'Bad Request', 'extras keys must be namespaced (a::b)');
    const message = body as GotifyMessage;
    id += 1;
    return { answer: json(200, { id, appid: 1, date: new Date().toISOString(), priority: 0, ...message }), accepted: message };
  });
}
