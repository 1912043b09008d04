import { firstText, githubSignatureValid } from '../http/auth.js';
import { badRequest } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import type { DeliveryOutcome, DeliveryTransport } from '../engine/github/index.js';

/** Contract decision 6: 202 when jobs were created or reused, 200 when acknowledged without work. */
const githubTransport: DeliveryTransport = {
  signatureValid: githubSignatureValid,
  responseStatus: (outcome: DeliveryOutcome) => (outcome.kind === 'accepted' ? 202 : outcome.kind === 'invalid_json' ? 400 : 200),
};

export const webhooksHandlers: Pick<HandlerMap, 'triggerWebhook' | 'receiveGithubPackagesWebhook'> = {
  triggerWebhook: async ({ body, deps }) => {
    const job = await deps.engine.triggerWebhook(body);
    return { status: 200, body: { jobId: job.id } };
  },

  receiveGithubPackagesWebhook: async ({ headers, rawBody, deps }) => {
    const outcome = await deps.engine.github.receive(
      {
        deliveryId: firstText(headers['x-github-delivery']),
        event: firstText(headers['x-github-event']),
        signature: firstText(headers['x-hub-signature-256']),
        rawBody,
      },
      githubTransport,
    );
    switch (outcome.kind) {
      case 'ignored':
        return { status: 200, body: { ok: true, ignored: true, reason: outcome.reason } };
      case 'duplicate':
        return { status: 200, body: { ok: true, ignored: true, reason: 'duplicate_delivery', attemptCount: outcome.attemptCount } };
      case 'invalid_json':
        return badRequest('invalid json');
      case 'accepted': {
        const { kind: _kind, jobIds, fallbackReason, ...rest } = outcome;
        return { status: 202, body: { ok: true, ...rest, jobId: jobIds[0]!, jobIds, ...(fallbackReason ? { fallbackReason } : {}) } };
      }
    }
  },
};
