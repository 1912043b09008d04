// Email over SMTP with nodemailer: `smtpUrl` such as
// `smtps://user:pass@smtp.example.com:465?to=a@x,b@y&from=Dockrev%20<dockrev@example.com>`;
// a multipart message, text and HTML, with the debug block as a JSON code block.
import nodemailer from 'nodemailer';
import type { Channel } from './channel.js';
import { invalidField, MASK, mergeOptions, mergeSecret, optionsView, present } from './fields.js';
import { debugJson, escapeHtml } from './text.js';

interface Mail {
  subject: string;
  text: string;
  html: string;
}

export interface SmtpTarget {
  /** The URL nodemailer connects with (without `to` and `from`). */
  transportUrl: string;
  to: string[];
  from: string;
}

const ADDRESS = /^(?:[^<>]*<\s*[^<>\s@]+@[^<>\s@]+\s*>|[^<>\s@]+@[^<>\s@]+)$/;

/** Splits an address list on commas that are not inside a quoted display name. */
function addressList(value: string): string[] {
  return (value.match(/(?:"[^"]*"|[^,])+/g) ?? []).map((entry) => entry.trim()).filter(Boolean);
}

/** The parts of an SMTP URL, or why it is not one (the reason never repeats the URL: it holds a password). */
export function parseSmtpUrl(smtpUrl: string): SmtpTarget | { problem: string } {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    return { problem: 'must be a URL such as smtps://user:pass@smtp.example.com:465?to=ops@example.com' };
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return { problem: 'must start with smtp:// or smtps://' };
  if (!url.hostname) return { problem: 'must name the SMTP host' };
  const to = url.searchParams.getAll('to').flatMap(addressList);
  const bad = to.find((address) => !ADDRESS.test(address));
  if (bad !== undefined) return { problem: `the to= parameter holds an address that is not one: ${bad}` };
  const from = url.searchParams.get('from')?.trim() || `Dockrev <dockrev@${url.hostname}>`;
  if (!ADDRESS.test(from)) return { problem: 'the from= parameter is not an e-mail address' };
  url.searchParams.delete('to');
  url.searchParams.delete('from');
  return { transportUrl: url.toString(), to, from };
}

/** The password (and user) of the URL as written and decoded: they must be scrubbed from errors too. */
function credentialsOf(smtpUrl: string): string[] {
  try {
    const url = new URL(smtpUrl);
    return present(url.password, decodeURIComponent(url.password), url.username.length > 3 ? decodeURIComponent(url.username) : undefined);
  } catch {
    return [];
  }
}

export const emailChannel: Channel<'email', Mail> = {
  key: 'email',
  label: 'Email',
  timeoutMs: 15_000,

  view(stored) {
    return { ...optionsView(stored), ...(stored.smtpUrl ? { smtpUrl: MASK } : {}) };
  },

  merge(input, stored) {
    const smtpUrl = mergeSecret(input.smtpUrl, stored.smtpUrl);
    if (smtpUrl) {
      const parsed = parseSmtpUrl(smtpUrl);
      if ('problem' in parsed) throw invalidField('email.smtpUrl', parsed.problem, { reason: 'smtp_url_invalid' });
    }
    return { ...mergeOptions('email', input, stored), ...(smtpUrl ? { smtpUrl } : {}) };
  },

  secrets: (stored) => (stored.smtpUrl ? [stored.smtpUrl, ...credentialsOf(stored.smtpUrl)] : []),

  problem(stored) {
    if (!stored.smtpUrl) return 'email.smtpUrl missing';
    const parsed = parseSmtpUrl(stored.smtpUrl);
    if ('problem' in parsed) return `email.smtpUrl ${parsed.problem}`;
    if (parsed.to.length === 0) return 'email to missing (set ?to= on smtpUrl)';
    return undefined;
  },

  render(message) {
    const subject = message.payload.kind === 'notification_test' ? '[dockrev] test notification' : `[dockrev] ${message.title}`;
    const debug = message.templated ? undefined : debugJson(message.payload);
    const text = [message.title, message.body, ...(debug ? [`Debug JSON\n\`\`\`json\n${debug}\n\`\`\``] : [])].filter(Boolean).join('\n\n');
    const paragraphs = message.body.split('\n\n').filter(Boolean).map((part) => `<p>${escapeHtml(part).replace(/\n/g, '<br>')}</p>`);
    const link = message.link && /^https?:\/\//.test(message.link) ? `<p><a href="${escapeHtml(message.link)}">Open in Dockrev</a></p>` : '';
    const html = [
      '<!doctype html><html><body>',
      `<h2>${escapeHtml(message.title)}</h2>`,
      ...paragraphs,
      link,
      ...(debug ? [`<h3>Debug JSON</h3><pre><code>${escapeHtml(debug)}</code></pre>`] : []),
      '</body></html>',
    ].join('\n');
    return { subject, text, html };
  },

  async send(mail, stored, context) {
    const target = parseSmtpUrl(stored.smtpUrl!) as SmtpTarget;
    const transport = nodemailer.createTransport({
      url: target.transportUrl,
      connectionTimeout: context.timeoutMs,
      greetingTimeout: context.timeoutMs,
      socketTimeout: context.timeoutMs,
    });
    try {
      await transport.sendMail({ from: target.from, to: target.to, subject: mail.subject, text: mail.text, html: mail.html, signal: context.signal });
    } finally {
      transport.close();
    }
  },
};
