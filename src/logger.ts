import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

/** JSON-lines logger; header and secret fields are redacted wherever they appear. */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'dockrev-api' },
    redact: {
      paths: [
        '*.authorization',
        '*.headers.authorization',
        '*.headers["x-dockrev-webhook-secret"]',
        '*.headers["x-hub-signature-256"]',
        '*.password',
        '*.token',
        '*.secret',
        '*.pat',
        '*.botToken',
        '*.smtpUrl',
        '*.vapidPrivateKey',
      ],
      censor: '[redacted]',
    },
  });
}
