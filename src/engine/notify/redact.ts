// Secrets are scrubbed from every text a send failure produces before it reaches a log, a job or
// the delivery log: a service may echo the URL or token it was called with.
import { MASK } from './channels/fields.js';

/** Shorter values are too likely to occur by chance in ordinary text to be replaced. */
const MIN_SECRET_LENGTH = 3;

export function redactSecrets(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  let scrubbed = text;
  // Longest first, so a URL is replaced whole before a token inside it.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) scrubbed = scrubbed.split(form).join(MASK);
  return scrubbed;
}
