import { JobConflictError } from '../engine/check/checks.js';
import { validateUpdateRequest, validateWebhookTrigger } from '../engine/update/validate.js';
import { conflict, envelope } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import { notImplemented } from './not-implemented.js';

const WEBHOOK = { createdBy: 'webhook', reason: 'webhook' };

export const webhooksHandlers: Pick<HandlerMap, 'triggerWebhook' | 'receiveGithubPackagesWebhook'> = {
  triggerWebhook: async ({ body, deps }) => {
    const trigger = validateWebhookTrigger(body);
    if (!trigger.ok) return { status: trigger.status, body: envelope(trigger.code, trigger.message, trigger.details) };
    try {
      if (trigger.action === 'check') {
        // CI may trigger checks freely: no running-check guard, as for the original's webhook.
        const { scope, stackId, serviceId } = trigger;
        const job = await deps.engine.startCheck({ scope, stackId, serviceId }, { ...WEBHOOK, prefix: 'job', exclusive: false, startMessage: 'webhook check started' });
        return { status: 200, body: { jobId: job.id } };
      }
      const validation = await validateUpdateRequest(trigger.update, { store: deps.store, selfImageRepo: deps.config.imageRepo }, { mode: 'apply', reason: 'webhook' });
      if (!validation.ok) return { status: validation.status, body: envelope(validation.code, validation.message, validation.details) };
      const job = await deps.engine.startUpdate(validation.plan, WEBHOOK);
      return { status: 200, body: { jobId: job.id } };
    } catch (error) {
      if (error instanceof JobConflictError) return conflict(error.message, { existingJobId: error.existingJobId });
      throw error;
    }
  },
  receiveGithubPackagesWebhook: notImplemented('receiveGithubPackagesWebhook'),
};
