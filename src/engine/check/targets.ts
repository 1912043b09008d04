// What a check or runtime scan covers and who asked for it.
import { DomainError } from '../../errors.js';
import type { JobScope } from '../../store/index.js';

export interface CheckTarget {
  scope: JobScope;
  stackId?: string;
  serviceId?: string;
}

/** The message when a scope lacks the id it names (blank counts as missing); shared by checks, runtime scans and updates. */
export function scopeIdProblem(scope: JobScope, stackId: string | undefined, serviceId: string | undefined): string | undefined {
  if (scope === 'stack' && !stackId) return 'stackId is required for scope=stack';
  if (scope === 'service' && !serviceId) return 'serviceId is required for scope=service';
  return undefined;
}

/** A check or runtime-scan target from a request: the scope's own id, trimmed; other ids are dropped. */
export function checkTarget(input: { scope: JobScope; stackId?: string | null; serviceId?: string | null }): CheckTarget {
  const stackId = input.stackId?.trim() || undefined;
  const serviceId = input.serviceId?.trim() || undefined;
  const problem = scopeIdProblem(input.scope, stackId, serviceId);
  if (problem) throw new DomainError('invalid_input', problem);
  if (input.scope === 'stack') return { scope: 'stack', stackId };
  if (input.scope === 'service') return { scope: 'service', serviceId };
  return { scope: 'all' };
}

export interface JobOrigin {
  createdBy: string;
  reason: string;
}

/** Who asks for a check; the engine derives the job id prefix, exclusivity and first log line from it. */
export type CheckOrigin =
  /** `POST /api/checks`: a `chk_` job; a running check of the same target is a conflict. */
  | { via: 'api'; createdBy: string; reason: 'ui' | 'webhook' | 'schedule' }
  /** `POST /api/webhooks/trigger`: a `job_` job without the running-check guard, as the original's webhook. */
  | { via: 'webhook_trigger' }
  /** The scheduled update check. */
  | { via: 'schedule' };

interface CheckJobSpec extends JobOrigin {
  prefix: 'chk' | 'job';
  exclusive: boolean;
  startMessage: string;
}

export function checkJobSpec(origin: CheckOrigin): CheckJobSpec {
  switch (origin.via) {
    case 'api':
      return { prefix: 'chk', exclusive: true, createdBy: origin.createdBy, reason: origin.reason, startMessage: 'check started' };
    case 'webhook_trigger':
      return { prefix: 'job', exclusive: false, createdBy: 'webhook', reason: 'webhook', startMessage: 'webhook check started' };
    case 'schedule':
      return { prefix: 'chk', exclusive: true, createdBy: 'schedule', reason: 'schedule', startMessage: 'scheduled check started' };
  }
}
