import { JobConflictError } from '../engine/check/checks.js';
import { validateUpdateRequest } from '../engine/update/validate.js';
import { conflict, envelope } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';

export const updatesHandlers: Pick<HandlerMap, 'createUpdate'> = {
  createUpdate: async ({ body, principal, deps }) => {
    const validation = await validateUpdateRequest(body, { store: deps.store, selfImageRepo: deps.config.imageRepo });
    if (!validation.ok) return { status: validation.status, body: envelope(validation.code, validation.message, validation.details) };
    try {
      const job = await deps.engine.startUpdate(validation.plan, { createdBy: principal.name, reason: validation.plan.reason });
      return { status: 200, body: { jobId: job.id } };
    } catch (error) {
      if (error instanceof JobConflictError) return conflict(error.message, { existingJobId: error.existingJobId });
      throw error;
    }
  },
};
