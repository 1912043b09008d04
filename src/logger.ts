import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

/** JSON-lines logger; header and secret fields are redacted wherever they appear. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = {
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
        '*.appToken',
        '*.webhookUrl',
        '*.topicUrl',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
