import { JobConflictError, type CheckTarget } from '../engine/check/checks.js';
import { badRequest, conflict } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';

interface TargetInput {
  scope: CheckTarget['scope'];
  stackId?: string | null;
  serviceId?: string | null;
}

/** The scope's id must be present and non-blank; the other ids are ignored. */
export function checkTarget(input: TargetInput): CheckTarget | { problem: string } {
  const stackId = input.stackId?.trim() || undefined;
  const serviceId = input.serviceId?.trim() || undefined;
  if (input.scope === 'stack' && !stackId) return { problem: 'stackId is required for scope=stack' };
  if (input.scope === 'service' && !serviceId) return { problem: 'serviceId is required for scope=service' };
  if (input.scope === 'stack') return { scope: 'stack', stackId };
  if (input.scope === 'service') return { scope: 'service', serviceId };
  return { scope: 'all' };
}

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
