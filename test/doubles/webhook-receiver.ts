// A webhook receiver: takes `POST` with a JSON body, as any HTTP endpoint a user points Dockrev
// at would. It keeps the payloads and refuses what no receiver could read (not JSON, wrong method).
import { isJsonRequest, json, jsonBody, startHttpDouble, type HttpDouble } from './http-double.js';

export interface WebhookDelivery {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  payload: Record<string, any>;
}

export function startWebhookReceiver(): Promise<HttpDouble<WebhookDelivery>> {
  return startHttpDouble<WebhookDelivery>((request) => {
    if (request.method !== 'POST') return { answer: json(405, { error: 'method not allowed' }) };
    const payload = jsonBody(request);
    if (!isJsonRequest(request) || typeof payload !== 'object' || payload === null) return { answer: json(415, { error: 'expected a JSON object' }) };
    return { answer: json(200, { received: true }), accepted: { path: request.path, headers: request.headers, payload: payload as Record<string, any> } };
  });
}
