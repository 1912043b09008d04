import type { HandlerMap } from '../http/handler-types.js';

export const checksHandlers: Pick<HandlerMap, 'createCheck' | 'createRuntimeScan'> = {
  createCheck: async ({ body, principal, deps }) => {
    const job = await deps.engine.startCheck(body, { via: 'api', createdBy: principal.name, reason: body.reason ?? 'ui' });
    return { status: 200, body: { checkId: job.id } };
  },

  createRuntimeScan: async ({ body, principal, deps }) => {
    const job = await deps.engine.startRuntimeScan(body, { createdBy: principal.name, reason: body.reason ?? 'ui' });
    return { status: 200, body: { jobId: job.id } };
  },
};
