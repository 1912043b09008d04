// `versionInference` of a service as the stack detail shows it (behaviour.md §E.7 "Reading state").
import type { DigestTagsSnapshot } from '../../store/index.js';
import { isAllFailed } from './snapshots.js';
import type { InferenceTask, TaskReason } from './worker.js';

export type ServiceInferenceReason = TaskReason | 'not_required' | 'running';

export interface ServiceInferenceState {
  status: 'ready' | 'pending';
  reason?: ServiceInferenceReason;
  /** When the newest snapshot used was taken. */
  checkedAt?: string;
}

export interface DigestState {
  snapshot?: DigestTagsSnapshot;
  task?: InferenceTask;
  /** Why the snapshot is being (re)taken, when it is. */
  due?: TaskReason;
}

/**
 * Pending while any digest waits for a snapshot: one in flight (a forced refresh of a stored
 * snapshot keeps showing it), none stored, a stale one, or an all-failed one due for a retry.
 * Ready otherwise; `all_failed` says the tags may be missing because every lookup failed.
 */
export function serviceState(digests: readonly DigestState[]): ServiceInferenceState {
  if (digests.length === 0) return { status: 'ready', reason: 'not_required' };
  let pending: ServiceInferenceReason | undefined;
  let allFailed = false;
  let checkedAt: string | undefined;
  for (const { snapshot, task, due } of digests) {
    if (snapshot && (!checkedAt || snapshot.checkedAt > checkedAt)) checkedAt = snapshot.checkedAt;
    const waiting = task && !(task.reason === 'force' && snapshot) ? task.reason : due;
    if (waiting) pending ??= waiting === 'force' ? 'running' : waiting;
    if (snapshot && isAllFailed(snapshot)) allFailed = true;
  }
  const at = checkedAt ? { checkedAt } : {};
  if (pending) return { status: 'pending', reason: pending, ...at };
  return { status: 'ready', ...(allFailed ? { reason: 'all_failed' as const } : {}), ...at };
}
