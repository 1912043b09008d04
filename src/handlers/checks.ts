import { checkTarget, JobConflictError } from '../engine/check/checks.js';
import { badRequest, conflict } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';

export const checksHandlers: Pick<HandlerMap, 'createCheck' | 'createRuntimeScan'> = {
  createCheck: async ({ body, principal, deps }) => {
    const target = checkTarget(body);
    if ('problem' in target) return badRequest(target.problem);
    try {
      const job = await deps.engine.startCheck(target, { createdBy: principal.name, reason: body.reason ?? 'ui', prefix: 'chk', exclusive: true });
      return { status: 200, body: { checkId: job.id } };
    } catch (error) {
      if (error instanceof JobConflictError) return conflict(error.message, { existingJobId: error.existingJobId });
      throw error;
    }
  },

  createRuntimeScan: async ({ body, principal, deps }) => {
    const target = checkTarget(body);
    if ('problem' in target) return badRequest(target.problem);
    try {
      const job = await deps.engine.startRuntimeScan(target, { createdBy: principal.name, reason: body.reason ?? 'ui' });
      return { status: 200, body: { jobId: job.id } };
    } catch (error) {
      if (error instanceof JobConflictError) return conflict(error.message, { existingJobId: error.existingJobId });
      throw error;
    }
  },
};
