import type { components } from '../../generated/dockrev.js';
import type { Failure, FailureKind } from '../../errors.js';
import type { Service, StackWithServices, Store } from '../../store/index.js';
import { scopeIdProblem } from '../check/targets.js';
import { normalizeDigest } from '../registry/index.js';
import {
  selectUpdateServices,
  type SelectionOptions,
  type UpdateReason,
  type UpdateScope,
  type VersionAnomaly,
} from './selection.js';

type Schemas = components['schemas'];
type UpdateMode = Schemas['UpdateMode'];
export type BackupMode = Schemas['BackupMode'];

/** One `targets[]` entry as the server hands it over; `null` means omitted. */
export interface UpdateTargetInput {
  serviceId?: string | null;
  targetTag?: string | null;
  targetDigest?: string | null;
  pullTags?: string[] | null;
  skipTagFollowups?: boolean | null;
}

/** A `POST /api/updates` body; `null` means omitted, omitted options take their defaults. */
export interface UpdateRequestInput {
  scope: UpdateScope;
  stackId?: string | null;
  serviceId?: string | null;
  targetTag?: string | null;
  targetDigest?: string | null;
  pullTags?: string[] | null;
  targets?: UpdateTargetInput[] | null;
  mode?: UpdateMode | null;
  allowArchMismatch?: boolean | null;
  backupMode?: BackupMode | null;
  reason?: UpdateReason | null;
}

export interface PlannedTarget {
  serviceId: string;
  /** The service's stack; absent only for a dry run of a service that does not exist. */
  stackId?: string;
  targetTag: string;
  /** Always `algorithm:hex`. */
  targetDigest: string;
  /** Trimmed, without duplicates or the target tag itself. */
  pullTags: string[];
  skipTagFollowups: boolean;
}

export interface ValidatedUpdatePlan {
  scope: UpdateScope;
  /** The requested stack for `stack` scope, the service's stack for `service` scope. */
  stackId?: string;
  serviceId?: string;
  mode: UpdateMode;
  allowArchMismatch: boolean;
  backupMode: BackupMode;
  reason: UpdateReason;
  /**
   * Stacks to process, in order: the requested one for `stack` scope (even when unknown, so the job
   * can report it missing), those with a target or a skipped downgrade for `all`, the service's for
   * `service`.
   */
  stackIds: string[];
  /** In request order; group them by `stackId`. */
  targets: PlannedTarget[];
  skippedVersionAnomaly: VersionAnomaly[];
}

/** Why a request was refused, as a domain failure kind (see src/errors.ts). */
export type ValidationFailure = { ok: false; failure: Failure };

export type UpdateValidation = { ok: true; plan: ValidatedUpdatePlan } | ValidationFailure;

export interface ValidationDeps {
  store: Pick<Store, 'stacks' | 'services'>;
  /** `DOCKREV_IMAGE_REPO`. */
  selfImageRepo: string;
}

/** What the caller decides regardless of the body (webhooks always apply, automatic runs name their reason). */
export interface ValidationOverrides {
  mode?: UpdateMode;
  reason?: UpdateReason;
}

const refuse = (kind: FailureKind, message: string, details: Record<string, unknown> = {}): ValidationFailure => ({
  ok: false,
  failure: { kind, message, details },
});
export const invalid = (message: string, details: Record<string, unknown> = {}) => refuse('invalid_input', message, details);

/** The trimmed text, or undefined when missing or blank. */
export function text(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Checks a `POST /api/updates` body in the order of behaviour.md §C.6 (steps 1–10; the first broken
 * rule wins) and turns it into a plan. The per-service "operation already running" guard is left to
 * the caller, which must run it atomically with the job insert.
 */
export async function validateUpdateRequest(
  body: UpdateRequestInput,
  deps: ValidationDeps,
  overrides: ValidationOverrides = {},
): Promise<UpdateValidation> {
  const scope = body.scope;
  const stackId = text(body.stackId);
  const serviceId = text(body.serviceId);
  const mode = overrides.mode ?? body.mode ?? 'apply';
  const reason = overrides.reason ?? body.reason ?? 'ui';
  const allowArchMismatch = body.allowArchMismatch ?? false;
  const backupMode = body.backupMode ?? 'inherit';

  // 1. scope/id presence
  const missingId = scopeIdProblem(scope, stackId, serviceId);
  if (missingId) return invalid(missingId);

  // 2.–5. where the targets come from, and their shape
  const collected = collectTargets(body, serviceId);
  if (!collected.ok) return collected;
  const targets = collected.targets;

  // 6.
  const seen = new Set<string>();
  for (const target of targets) {
    if (seen.has(target.serviceId)) return invalid('targets contains duplicate serviceId', { serviceId: target.serviceId });
    seen.add(target.serviceId);
  }

  // 7.
  if (scope === 'service') {
    if (targets.length !== 1) return invalid('exactly one target is required for scope=service');
    if (targets[0].serviceId !== serviceId) return invalid('scope=service target serviceId must match request serviceId');
  }

  // 8. against the stored services; unknown ones are judged by step 9 (stack/all) or 10 (apply)
  const storedServices = new Map<string, Service>();
  for (const target of targets) {
    const service = await deps.store.services.get(target.serviceId);
    if (!service) continue;
    storedServices.set(service.id, service);
    const mismatch = checkTargetAgainstService(target, service, allowArchMismatch);
    if (mismatch) return mismatch;
  }

  // 9. stack/all targets must be exactly what the updater would select
  const selectionOptions = { serviceId, reason, allowArchMismatch, selfImageRepo: deps.selfImageRepo };
  const service = serviceId ? storedServices.get(serviceId) : undefined;
  const inScope = await selectInScope(deps.store, scope, stackId, service, selectionOptions);
  if (scope !== 'service') {
    const targetIds = new Set(targets.map((target) => target.serviceId));
    const missingServiceIds = inScope.selectedIds.filter((id) => !targetIds.has(id)).sort();
    const extraServiceIds = [...targetIds].filter((id) => !inScope.selectedIds.includes(id)).sort();
    if (missingServiceIds.length > 0 || extraServiceIds.length > 0) {
      return invalid('targets must exactly cover the selected services for this scope', {
        missingServiceIds,
        extraServiceIds,
      });
    }
  }

  // 10.
  if (mode === 'apply') {
    const unknown = targets.find((target) => !storedServices.has(target.serviceId));
    if (unknown) return refuse('unknown', 'service not found', { serviceId: unknown.serviceId });
  }

  const planStackId = scope === 'all' ? undefined : scope === 'stack' ? stackId : inScope.stackIds[0];
  return {
    ok: true,
    plan: {
      scope,
      ...(planStackId ? { stackId: planStackId } : {}),
      ...(scope === 'service' ? { serviceId } : {}),
      mode,
      allowArchMismatch,
      backupMode,
      reason,
      stackIds: inScope.stackIds,
      targets: targets.map((target) => {
        const stack = storedServices.get(target.serviceId)?.stackId;
        return stack ? { ...target, stackId: stack } : target;
      }),
      skippedVersionAnomaly: inScope.skippedVersionAnomaly,
    },
  };
}

type CollectedTargets = { ok: true; targets: PlannedTarget[] } | ValidationFailure;

/** Steps 2–5: the single top-level target of `service` scope, or the normalised `targets[]`. */
function collectTargets(body: UpdateRequestInput, serviceId: string | undefined): CollectedTargets {
  const hasTopLevelTarget = body.targetTag != null || body.targetDigest != null || body.pullTags != null;
  if (body.scope === 'service' && body.targets == null) {
    const targetTag = text(body.targetTag);
    if (!targetTag) return invalid('targetTag is required for scope=service');
    const targetDigest = text(body.targetDigest);
    if (!targetDigest) return invalid('targetDigest is required for scope=service');
    if (body.pullTags == null) return invalid('pullTags is required for scope=service');
    const pullTags = normalizePullTags(body.pullTags, targetTag, 'pullTags');
    if (!Array.isArray(pullTags)) return pullTags;
    return {
      ok: true,
      targets: [
        { serviceId: serviceId!, targetTag, targetDigest: normalizeDigest(targetDigest), pullTags, skipTagFollowups: false },
      ],
    };
  }
  if (body.scope === 'service' && hasTopLevelTarget) {
    return invalid('targetTag/targetDigest/pullTags must be omitted when scope=service uses targets');
  }
  if (body.scope !== 'service') {
    if (hasTopLevelTarget) return invalid('targetTag/targetDigest/pullTags is only supported for scope=service');
    // An empty list is meaningful: "I expect nothing to be selected".
    if (body.targets == null) return invalid('targets is required for scope=stack/all');
  }

  const targets: PlannedTarget[] = [];
  for (const [index, input] of body.targets!.entries()) {
    const target = normalizeTarget(input, `targets[${index}]`);
    if ('ok' in target) return target;
    targets.push(target);
  }
  return { ok: true, targets };
}

function normalizeTarget(input: UpdateTargetInput, field: string): PlannedTarget | ValidationFailure {
  const serviceId = text(input.serviceId);
  if (!serviceId) return invalid(`${field}.serviceId is required`);
  const targetTag = text(input.targetTag);
  if (!targetTag) return invalid(`${field}.targetTag is required`);
  const targetDigest = text(input.targetDigest);
  if (!targetDigest) return invalid(`${field}.targetDigest is required`);
  if (input.pullTags == null) return invalid(`${field}.pullTags is required`);
  const pullTags = normalizePullTags(input.pullTags, targetTag, `${field}.pullTags`);
  if (!Array.isArray(pullTags)) return pullTags;
  return {
    serviceId,
    targetTag,
    targetDigest: normalizeDigest(targetDigest),
    pullTags,
    skipTagFollowups: input.skipTagFollowups ?? false,
  };
}

/** Trims, drops duplicates and the target tag (it is pulled anyway); an empty entry is an error. */
function normalizePullTags(pullTags: string[], targetTag: string, field: string): string[] | ValidationFailure {
  const normalized: string[] = [];
  for (const [index, entry] of pullTags.entries()) {
    const tag = entry.trim();
    if (!tag) return invalid(`${field}[${index}] must not be empty`);
    if (tag !== targetTag && !normalized.includes(tag)) normalized.push(tag);
  }
  return normalized;
}

/** Step 8 for one target whose service exists. */
function checkTargetAgainstService(
  target: PlannedTarget,
  service: Service,
  allowArchMismatch: boolean,
): ValidationFailure | undefined {
  if (target.targetTag !== service.image.tag.trim()) {
    return invalid('cross-tag updates are not supported (targetTag must match service image tag)', {
      serviceId: service.id,
      expectedTag: service.image.tag,
      gotTag: target.targetTag,
    });
  }
  const expectedDigest = text(service.candidate?.digest);
  if (!expectedDigest || normalizeDigest(expectedDigest) !== target.targetDigest) {
    return refuse('stale_candidate', 'target digest no longer matches latest scan (rescan required)', {
      serviceId: service.id,
      expectedDigest: expectedDigest ? normalizeDigest(expectedDigest) : null,
      gotDigest: target.targetDigest,
    });
  }
  if (service.candidate?.archMatch === 'mismatch' && !allowArchMismatch) {
    return refuse('arch_mismatch', 'arch mismatch: re-run with allowArchMismatch=true to force update', {
      serviceId: service.id,
      archMatch: 'mismatch',
    });
  }
  return undefined;
}

interface ScopeSelection {
  stackIds: string[];
  selectedIds: string[];
  skippedVersionAnomaly: VersionAnomaly[];
}

/** What the updater would select: in the service's stack, the named stack (none when unknown), or every stack. */
async function selectInScope(
  store: ValidationDeps['store'],
  scope: UpdateScope,
  stackId: string | undefined,
  service: Service | undefined,
  options: SelectionOptions,
): Promise<ScopeSelection> {
  if (scope === 'service') {
    const stack = service && (await store.stacks.getWithServices(service.stackId));
    if (!stack) return { stackIds: [], selectedIds: [], skippedVersionAnomaly: [] };
    const selection = selectUpdateServices(stack, scope, options);
    return {
      stackIds: [stack.id],
      selectedIds: selection.selected.map((selected) => selected.id),
      skippedVersionAnomaly: selection.skippedVersionAnomaly,
    };
  }
  const stacks = scope === 'stack' ? await namedStack(store, stackId!) : await everyStack(store);
  const selections = stacks.map((stack) => ({ stackId: stack.id, ...selectUpdateServices(stack, scope, options) }));
  return {
    // A named stack is processed even when unknown or idle so the job can report it; under `all`, so is
    // a stack whose only candidates were skipped as downgrades, to report those.
    stackIds:
      scope === 'stack'
        ? [stackId!]
        : selections
            .filter((selection) => selection.selected.length > 0 || selection.skippedVersionAnomaly.length > 0)
            .map((selection) => selection.stackId),
    selectedIds: selections.flatMap((selection) => selection.selected.map((selected) => selected.id)),
    skippedVersionAnomaly: selections.flatMap((selection) => selection.skippedVersionAnomaly),
  };
}

async function namedStack(store: ValidationDeps['store'], stackId: string): Promise<StackWithServices[]> {
  const stack = await store.stacks.getWithServices(stackId);
  return stack ? [stack] : [];
}

/** Every stack, archived ones included (archiving a stack does not archive its services). */
async function everyStack(store: ValidationDeps['store']): Promise<StackWithServices[]> {
  const [stacks, services] = await Promise.all([store.stacks.list('include'), store.services.list('include')]);
  const servicesByStack = new Map<string, Service[]>();
  for (const service of services) {
    const siblings = servicesByStack.get(service.stackId);
    if (siblings) siblings.push(service);
    else servicesByStack.set(service.stackId, [service]);
  }
  return stacks.map((stack) => ({ ...stack, services: servicesByStack.get(stack.id) ?? [] }));
}

/** The services a validated plan will change, for the caller's "operation already running" guard. */
export function serviceIdsOf(plan: ValidatedUpdatePlan): string[] {
  return plan.targets.map((target) => target.serviceId);
}
