// What a stored snapshot means for a service: which of a service's digests need inference, how
// fresh a snapshot is, and the resolved tags it gives (behaviour.md §E.7).
import type { DigestTagsSnapshot, Service, SnapshotKey } from '../../store/index.js';
import { serviceImageRef } from '../check/checker.js';
import { isStrictSemverTag, resolvedTagsOf } from './tags.js';
import type { TaskReason } from './worker.js';

/** A snapshot older than this is stale: shown, and refreshed. */
export const SNAPSHOT_TTL_MS = 7 * 24 * 60 * 60_000;
/** A snapshot whose every lookup failed is tried again after this long. */
export const ALL_FAILED_RETRY_MS = 10 * 60_000;

/** One digest of a service that version inference translates into tags. */
export interface InferenceDigest {
  role: 'current' | 'candidate';
  /** The tag the service is configured on (the candidate's tag for the candidate). */
  tag: string;
  key: SnapshotKey;
}

/**
 * The digests of a service worth translating: the current one unless the service's tag is strict
 * semver (a `1.4.2` tag already says its version), and the candidate's likewise.
 */
export function inferenceDigests(service: Service, hostPlatform: string): InferenceDigest[] {
  const ref = serviceImageRef(service);
  if (!ref) return [];
  const digests: InferenceDigest[] = [];
  if (service.image.digest && !isStrictSemverTag(service.image.tag)) {
    digests.push({ role: 'current', tag: service.image.tag, key: { imageRepo: ref.key, digest: service.image.digest, hostPlatform } });
  }
  if (service.candidate && !isStrictSemverTag(service.candidate.tag)) {
    digests.push({ role: 'candidate', tag: service.candidate.tag, key: { imageRepo: ref.key, digest: service.candidate.digest, hostPlatform } });
  }
  return digests;
}

export function sameKey(a: SnapshotKey, b: SnapshotKey): boolean {
  return a.imageRepo === b.imageRepo && a.digest === b.digest && a.hostPlatform === b.hostPlatform;
}

/** No tag found and no lookup succeeded, because they failed (not because the repository is empty). */
export function isAllFailed(snapshot: Pick<DigestTagsSnapshot, 'tags' | 'scan'>): boolean {
  const { scan } = snapshot;
  return snapshot.tags.length === 0 && scan.manifestsOk === 0 && (scan.manifestsTimeout > 0 || scan.manifestsError > 0);
}

export function isStale(snapshot: Pick<DigestTagsSnapshot, 'checkedAt'>, now: number): boolean {
  return now - Date.parse(snapshot.checkedAt) > SNAPSHOT_TTL_MS;
}

/** Why a snapshot should be taken (again), or undefined while the stored one serves. */
export function refreshReason(snapshot: DigestTagsSnapshot | undefined, now: number): TaskReason | undefined {
  if (!snapshot) return 'cache_miss';
  if (isStale(snapshot, now)) return 'cache_stale';
  if (isAllFailed(snapshot) && now - Date.parse(snapshot.checkedAt) > ALL_FAILED_RETRY_MS) return 'all_failed';
  return undefined;
}

export type ResolvedUpdate =
  | { role: 'current'; digest: string; resolvedTag: string | null; resolvedTags: string[] | null }
  | { role: 'candidate'; digest: string; resolvedTag: string | null };

/**
 * What the snapshot changes on a service for one of its digests, keeping the last known value
 * when the scan found no version tag but was incomplete (a timeout or error may have hidden it).
 * Undefined when nothing changes.
 */
export function resolvedUpdate(service: Service, digest: InferenceDigest, snapshot: DigestTagsSnapshot): ResolvedUpdate | undefined {
  const found = resolvedTagsOf(snapshot.tags, digest.tag);
  const complete = snapshot.scan.manifestsTimeout === 0 && snapshot.scan.manifestsError === 0;
  if (found.length === 0 && !complete) return undefined;
  const resolvedTag = found[0] ?? null;
  if (digest.role === 'candidate') {
    if ((service.candidate?.resolvedTag ?? null) === resolvedTag) return undefined;
    return { role: 'candidate', digest: digest.key.digest, resolvedTag };
  }
  const resolvedTags = found.length > 1 ? found : null;
  const sameTags = (service.image.resolvedTags ?? []).join('\n') === (resolvedTags ?? []).join('\n');
  if ((service.image.resolvedTag ?? null) === resolvedTag && sameTags) return undefined;
  return { role: 'current', digest: digest.key.digest, resolvedTag, resolvedTags };
}
