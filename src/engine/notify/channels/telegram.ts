// Telegram: Bot API `POST <base>/bot<token>/sendMessage` with `parse_mode: HTML`; plain text when
// the HTML would exceed Telegram's 4096 characters or Telegram refuses its entities (a 400).
import type { Channel } from './channel.js';
import { invalidField, mergeKeptText, mergeOptions, mergeSecret, optionsView, present } from './fields.js';
import { excerpt, isSuccess, request, type HttpAnswer } from './http.js';
import { clip, debugJson, escapeHtml } from './text.js';

export const TELEGRAM_MAX_CHARS = 4096;
/** `<digits>:<token>`, the form BotFather hands out. */
const BOT_TOKEN = /^\d+:[A-Za-z0-9_-]+$/;
const BAD_REQUEST = 400;

interface TelegramText {
  /** Undefined when the HTML form would be too long. */
  html?: string;
  plain: string;
}

function lines(title: string, body: string): string[] {
  return [title, body].filter(Boolean);
}

export function telegramText(message: Parameters<Channel<'telegram', TelegramText>['render']>[0]): TelegramText {
  const debug = message.templated ? undefined : debugJson(message.payload);
  const html = [
    `<b>${escapeHtml(message.title)}</b>`,
    ...(message.body ? [escapeHtml(message.body)] : []),
    ...(debug ? [`<b>Debug</b>\n<pre><code class="language-json">${escapeHtml(debug)}</code></pre>`] : []),
  ].join('\n\n');
  const plain = [...lines(message.title, message.body), ...(debug ? [`Debug\n${debug}`] : [])].join('\n\n');
  return { ...(html.length <= TELEGRAM_MAX_CHARS ? { html } : {}), plain: clip(plain, TELEGRAM_MAX_CHARS) };
}

/** Telegram's own error text (`{"ok":false,"description":"Bad Request: …"}`), else the body. */
function telegramError(answer: HttpAnswer): string {
  try {
    const description = (JSON.parse(answer.text) as { description?: unknown }).description;
    if (typeof description === 'string') return `telegram http ${answer.status}: ${description}`;
  } catch {
    // not JSON
  }
  return `telegram http ${answer.status}: ${excerpt(answer.text)}`;
}

export const telegramChannel: Channel<'telegram', TelegramText> = {
  key: 'telegram',
  label: 'Telegram',
  timeoutMs: 10_000,

  view(stored) {
    return { ...optionsView(stored), botTokenConfigured: Boolean(stored.botToken), ...(stored.chatId ? { chatId: stored.chatId } : {}) };
  },

  merge(input, stored) {
    const botToken = mergeSecret(input.botToken, stored.botToken);
    // The message names the expected form, never the value: it is the bot's password.
    if (botToken && !BOT_TOKEN.test(botToken)) throw invalidField('telegram.botToken', 'must look like <digits>:<token>, as BotFather gives it', { reason: 'bot_token_invalid' });
    const chatId = mergeKeptText(input.chatId, stored.chatId);
    return { ...mergeOptions('telegram', input, stored), ...(botToken ? { botToken } : {}), ...(chatId ? { chatId } : {}) };
  },

  secrets: (stored) => present(stored.botToken),

  problem(stored) {
    if (!stored.botToken) return 'telegram.botToken missing';
    if (!stored.chatId) return 'telegram.chatId missing';
    return undefined;
  },

  render: (message) => telegramText(message),

  async send(text, stored, context) {
    const url = `${context.telegramApiBaseUrl}/bot${stored.botToken}/sendMessage`;
    const post = (body: Record<string, unknown>) =>
      request(url, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ chat_id: stored.chatId, ...body }), signal: context.signal });
    if (text.html !== undefined) {
      const answer = await post({ text: text.html, parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
      if (isSuccess(answer)) return;
      if (answer.status !== BAD_REQUEST) throw new Error(telegramError(answer));
    }
    const answer = await post({ text: text.plain, link_preview_options: { is_disabled: true } });
    if (!isSuccess(answer)) throw new Error(telegramError(answer));
  },
};
