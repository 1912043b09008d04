// A Slack incoming webhook (`POST /services/T…/B…/<secret>`): JSON with `text` and/or Block Kit
// `blocks` (header plain_text ≤ 150, section text ≤ 3000, context ≤ 10 elements). Slack answers
// 200 `ok`, and errors as plain text: `invalid_payload`, `no_text`, `invalid_blocks`, `no_service`.
import { jsonBody, startHttpDouble, text, type HttpDouble } from './http-double.js';

export interface SlackMessage {
  text?: string;
  blocks?: { type: string; text?: { type: string; text: string }; elements?: { type: string; text: string }[] }[];
}

function blocksProblem(blocks: SlackMessage['blocks']): boolean {
  if (!Array.isArray(blocks) || blocks.length > 50) return true;
  return blocks.some((block) => {
    if (block.type === 'header') return block.text?.type !== 'plain_text' || !block.text.text || block.text.text.length > 150;
    if (block.type === 'section') return !['mrkdwn', 'plain_text'].includes(block.text?.type ?? '') || !block.text!.text || block.text!.text.length > 3000;
    if (block.type === 'context') return !Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10;
    return !['divider', 'actions', 'image'].includes(block.type);
  });
}

export function startSlackServer(options: { path: string }): Promise<HttpDouble<SlackMessage>> {
  return startHttpDouble<SlackMessage>((request) => {
    if (request.path !== options.path) return { answer: text(404, 'no_service') };
    if (request.method !== 'POST') return { answer: text(405, 'invalid_method') };
    const body = jsonBody(request) as SlackMessage | undefined;
    if (!body || typeof body !== 'object') return { answer: text(400, 'invalid_payload') };
    if (!body.text && !body.blocks) return { answer: text(400, 'no_text') };
    if (body.blocks !== undefined && blocksProblem(body.blocks)) return { answer: text(400, 'invalid_blocks') };
    return { answer: text(200, 'ok'), accepted: body };
  });
}
