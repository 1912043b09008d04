// The Telegram Bot API's `sendMessage` (core.telegram.org/bots/api#sendmessage) at
// `/bot<token>/sendMessage`: a wrong token is 401, an unknown chat 400 `chat not found`; with
// `parse_mode: HTML` only the documented tags and the entities &lt; &gt; &amp; &quot; (and numeric
// ones) parse, anything else is 400 `can't parse entities`; text longer than 4096 characters after
// parsing is 400 `message is too long`.
import { isJsonRequest, json, jsonBody, startHttpDouble, type HttpDouble } from './http-double.js';

export interface TelegramMessage {
  chatId: string;
  /** The text as sent. */
  text: string;
  /** The text a reader sees (tags removed, entities decoded). */
  plain: string;
  parseMode?: string;
}

const TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'code', 'pre', 'blockquote']);
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** The visible text of Telegram HTML, or the reason Telegram gives for refusing it. */
export function parseTelegramHtml(html: string): { plain: string } | { error: string } {
  const open: string[] = [];
  let plain = '';
  for (let index = 0; index < html.length; ) {
    const char = html[index]!;
    if (char === '<') {
      const end = html.indexOf('>', index);
      if (end < 0) return { error: `Bad Request: can't parse entities: Unclosed start tag at byte offset ${index}` };
      const tag = html.slice(index + 1, end).trim();
      const closing = tag.startsWith('/');
      const name = (closing ? tag.slice(1) : tag).split(/\s+/)[0]!.toLowerCase();
      if (!TAGS.has(name)) return { error: `Bad Request: can't parse entities: Unsupported start tag "${name}" at byte offset ${index}` };
      if (closing) {
        if (open.pop() !== name) return { error: `Bad Request: can't parse entities: Unmatched end tag at byte offset ${index}, expected "</${open.at(-1) ?? ''}>", found "</${name}>"` };
      } else {
        open.push(name);
      }
      index = end + 1;
    } else if (char === '&') {
      const end = html.indexOf(';', index);
      const entity = end > index ? html.slice(index + 1, end) : '';
      const decoded = NAMED_ENTITIES[entity] ?? (/^#\d+$/.test(entity) ? String.fromCodePoint(Number(entity.slice(1))) : undefined);
      if (decoded === undefined) return { error: `Bad Request: can't parse entities: Unsupported entity at byte offset ${index}` };
      plain += decoded;
      index = end + 1;
    } else {
      plain += char;
      index += 1;
    }
  }
  if (open.length > 0) return { error: `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "${open.at(-1)}"` };
  return { plain };
}

export interface TelegramDouble extends HttpDouble<TelegramMessage> {
  /** Refuse every HTML message as Telegram does entities it cannot parse (to test the fallback). */
  refuseHtml: boolean;
}

export async function startTelegramBotApi(options: { token: string; chatId: string }): Promise<TelegramDouble> {
  const state = { refuseHtml: false };
  let messageId = 0;
  const double = await startHttpDouble<TelegramMessage>((request) => {
    const fail = (status: number, description: string) => ({ answer: json(status, { ok: false, error_code: status, description }) });
    const match = /^\/bot([^/]+)\/sendMessage$/.exec(request.path);
    if (!match) return fail(404, 'Not Found');
    if (match[1] !== options.token) return fail(401, 'Unauthorized');
    const body = jsonBody(request) as { chat_id?: unknown; text?: unknown; parse_mode?: unknown } | undefined;
    if (!isJsonRequest(request) || !body) return fail(400, 'Bad Request: message text is empty');
    if (String(body.chat_id ?? '') !== options.chatId) return fail(400, 'Bad Request: chat not found');
    if (typeof body.text !== 'string' || body.text.trim() === '') return fail(400, 'Bad Request: message text is empty');
    let plain = body.text;
    if (body.parse_mode !== undefined) {
      if (body.parse_mode !== 'HTML') return fail(400, `Bad Request: unsupported parse_mode "${String(body.parse_mode)}" in this double`);
      if (state.refuseHtml) return fail(400, "Bad Request: can't parse entities: Unsupported start tag \"b\" at byte offset 0");
      const parsed = parseTelegramHtml(body.text);
      if ('error' in parsed) return fail(400, parsed.error);
      plain = parsed.plain;
    }
    if (plain.length > 4096) return fail(400, 'Bad Request: message is too long');
    messageId += 1;
    const message: TelegramMessage = { chatId: options.chatId, text: body.text, plain, ...(typeof body.parse_mode === 'string' ? { parseMode: body.parse_mode } : {}) };
    return { answer: json(200, { ok: true, result: { message_id: messageId, date: Math.floor(Date.now() / 1000), chat: { id: Number(options.chatId) }, text: plain } }), accepted: message };
  });
  return Object.defineProperty(double, 'refuseHtml', { get: () => state.refuseHtml, set: (value: boolean) => (state.refuseHtml = value) }) as TelegramDouble;
}
