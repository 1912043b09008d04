import type { HandlerMap } from '../http/handler-types.js';

export const updatesHandlers: Pick<HandlerMap, 'createUpdate'> = {
  createUpdate: async ({ body, principal, deps }) => {
    const job = await deps.engine.requestUpdate(body, { via: 'api', createdBy: principal.name });
    return { status: 200, body: { jobId: job.id } };
  },
};
