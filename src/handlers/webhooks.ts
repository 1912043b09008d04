import type { HandlerMap } from '../http/handler-types.js';
import { notImplemented } from './not-implemented.js';

export const webhooksHandlers: Pick<HandlerMap, 'triggerWebhook' | 'receiveGithubPackagesWebhook'> = {
  triggerWebhook: async ({ body, deps }) => {
    const job = await deps.engine.triggerWebhook(body);
    return { status: 200, body: { jobId: job.id } };
  },
  receiveGithubPackagesWebhook: notImplemented('receiveGithubPackagesWebhook'),
};
