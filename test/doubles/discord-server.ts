// Discord's "Execute Webhook" (`POST /api/webhooks/{id}/{token}`): JSON with `content` or
// `embeds` (at most 10; title ≤ 256, description ≤ 4096, footer ≤ 2048, 6000 characters in all,
// `url` a URL). Without `?wait=true` Discord answers 204; errors carry Discord's JSON codes.
import { isJsonRequest, json, jsonBody, startHttpDouble, type HttpDouble } from './http-double.js';

export interface DiscordEmbed {
  title?: string;
  description?: string;
  url?: string;
  color?: number;
  timestamp?: string;
  footer?: { text: string };
}

export interface DiscordMessage {
  content?: string;
  username?: string;
  allowed_mentions?: { parse?: string[] };
  embeds?: DiscordEmbed[];
}

function embedProblem(embeds: DiscordEmbed[]): string | undefined {
  if (embeds.length > 10) return 'embeds: Must be 10 or fewer in length.';
  let total = 0;
  for (const [index, embed] of embeds.entries()) {
    if ((embed.title ?? '').length > 256) return `embeds.${index}.title: Must be 256 or fewer in length.`;
    if ((embed.description ?? '').length > 4096) return `embeds.${index}.description: Must be 4096 or fewer in length.`;
    if ((embed.footer?.text ?? '').length > 2048) return `embeds.${index}.footer.text: Must be 2048 or fewer in length.`;
    if (embed.url !== undefined && !/^https?:\/\/\S+$/.test(embed.url)) return `embeds.${index}.url: Not a well formed URL.`;
    if (embed.timestamp !== undefined && Number.isNaN(Date.parse(embed.timestamp))) return `embeds.${index}.timestamp: Could not parse.`;
    total += (embed.title ?? '').length + (embed.description ?? '').length + (embed.footer?.text ?? '').length;
  }
  return total > 6000 ? 'embeds: Embed size exceeds maximum size of 6000' : undefined;
}

export function startDiscordServer(options: { webhookId: string; token: string }): Promise<HttpDouble<DiscordMessage>> {
  return startHttpDouble<DiscordMessage>((request) => {
    const match = /^\/api\/webhooks\/([^/]+)\/([^/]+)$/.exec(request.path);
    if (!match || request.method !== 'POST') return { answer: json(404, { message: '404: Not Found', code: 0 }) };
    if (match[1] !== options.webhookId) return { answer: json(404, { message: 'Unknown Webhook', code: 10015 }) };
    if (match[2] !== options.token) return { answer: json(401, { message: 'Invalid Webhook Token', code: 50027 }) };
    const body = jsonBody(request) as DiscordMessage | undefined;
    if (!isJsonRequest(request) || !body || typeof body !== 'object') return { answer: json(400, { message: 'Cannot send an empty message', code: 50006 }) };
    if (!body.content && (!Array.isArray(body.embeds) || body.embeds.length === 0)) return { answer: json(400, { message: 'Cannot send an empty message', code: 50006 }) };
    const problem = Array.isArray(body.embeds) ? embedProblem(body.embeds) : undefined;
    if (problem) return { answer: json(400, { message: 'Invalid Form Body', code: 50035, errors: problem }) };
    if (request.query.get('wait') === 'true') return { answer: json(200, { id: '1', ...body }), accepted: body };
    return { answer: { status: 204 }, accepted: body };
  });
}
