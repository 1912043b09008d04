// An SMTP server (the `smtp-server` package) that requires AUTH with the given user and password,
// and parses each message it receives with `mailparser`, as a mail client would read it.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitForCount } from './http-double.js';

export interface SmtpDouble {
  port: number;
  messages: ParsedMail[];
  /** Envelope recipients of each message. */
  recipients: string[][];
  waitForMessages(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpServer(options: { user: string; password: string }): Promise<SmtpDouble> {
  const messages: ParsedMail[] = [];
  const recipients: string[][] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    secure: false,
    // Loopback without TLS: the client must not be offered STARTTLS it cannot verify.
    hideSTARTTLS: true,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          messages.push(parsed);
          recipients.push(session.envelope.rcptTo.map((rcpt) => rcpt.address));
          for (const wake of waiters) wake();
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    recipients,
    waitForMessages: (count, timeoutMs) => waitForCount(messages, count, waiters, 'smtp', timeoutMs),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
