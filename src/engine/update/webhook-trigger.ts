// `POST /api/webhooks/trigger` (behaviour.md §C.14): CI asks for a check, or for an update whose
// targets it names; an update then goes through the full update validation.
import { scopeIdProblem } from '../check/targets.js';
import type { UpdateScope } from './selection.js';
import type { BackupMode, UpdateRequestInput, UpdateTargetInput, ValidationFailure } from './validate.js';
import { invalid, text } from './validate.js';

/** A `POST /api/webhooks/trigger` body; `null` means omitted. */
export interface WebhookTriggerInput {
  action: 'check' | 'update';
  scope: UpdateScope;
  stackId?: string | null;
  serviceId?: string | null;
  allowArchMismatch?: boolean | null;
  backupMode?: BackupMode | null;
  targets?: UpdateTargetInput[] | null;
}

export type WebhookTriggerValidation =
  | { ok: true; action: 'check'; scope: UpdateScope; stackId?: string; serviceId?: string }
  /** Pass `update` to {@link validateUpdateRequest}. */
  | { ok: true; action: 'update'; update: UpdateRequestInput }
  | ValidationFailure;

/** The trigger's own rules (§C.14); an update then goes through the full update validation. */
export function validateWebhookTrigger(body: WebhookTriggerInput): WebhookTriggerValidation {
  const stackId = text(body.stackId);
  const serviceId = text(body.serviceId);
  const missingId = scopeIdProblem(body.scope, stackId, serviceId);
  if (missingId) return invalid(missingId);
  const ids = { ...(stackId ? { stackId } : {}), ...(serviceId ? { serviceId } : {}) };
  if (body.action === 'check') return { ok: true, action: 'check', scope: body.scope, ...ids };

  // CI must say exactly what it expects to change; the legacy "update whatever is new" form is refused.
  if (body.targets == null) return invalid('targets is required for webhook update');
  return {
    ok: true,
    action: 'update',
    update: {
      scope: body.scope,
      ...ids,
      targets: body.targets,
      allowArchMismatch: body.allowArchMismatch,
      backupMode: body.backupMode,
      mode: 'apply',
      reason: 'webhook',
    },
  };
}
