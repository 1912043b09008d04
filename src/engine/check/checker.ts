import { nowIso } from '../../time.js';
import type { IgnoreRule, Service, ServiceCandidate, ServiceStatePatch, Store } from '../../store/index.js';
import { InvalidImageRefError, parseImageRef, type CheckSession, type ImageRef, type ResolvedTag } from '../registry/index.js';
import { matchIgnoreRule } from './ignore.js';

/** What one service's check found, as it goes into the job summary. */
export interface ServiceCheckResult {
  serviceId: string;
  stackId: string;
  service: string;
  status: 'ok' | 'failed' | 'skipped';
  currentDigest?: string;
  candidateDigest?: string;
  /** The candidate is new (its digest was not the stored candidate before). */
  newCandidate?: boolean;
  ignored?: boolean;
  error?: string;
}

/** The image reference the service's configured ref and tag name. */
export function serviceImageRef(service: Service): ImageRef {
  return parseImageRef(`${service.image.ref}:${service.image.tag}`);
}

function sameCandidate(a: ServiceCandidate | undefined, b: ServiceCandidate | undefined): boolean {
  return a?.digest === b?.digest;
}

/**
 * The same-tag check of one service (reference E.3): the running container's digest against the
 * registry's digest for the configured tag. Registry failures keep what was known before and are
 * reported on the service, never thrown; only store failures throw.
 */
export async function checkService(input: {
  store: Store;
  session: CheckSession;
  service: Service;
  /** The digest the running containers use, when they agree on one. */
  runtimeDigest: string | undefined;
  rules: readonly IgnoreRule[];
}): Promise<ServiceCheckResult> {
  const { store, session, service, runtimeDigest, rules } = input;
  const base = { serviceId: service.id, stackId: service.stackId, service: service.name };
  let ref: ImageRef;
  try {
    ref = serviceImageRef(service);
  } catch (error) {
    if (error instanceof InvalidImageRefError) return { ...base, status: 'skipped', error: 'invalid image ref' };
    throw error;
  }

  let resolution: ResolvedTag;
  try {
    resolution = await session.resolveTag(ref, service.image.tag);
  } catch (error) {
    // Keep the previous candidate; record what the runtime tells us for sure.
    const patch: ServiceStatePatch = {};
    if (runtimeDigest && runtimeDigest !== service.image.digest) {
      patch.digest = runtimeDigest;
      patch.resolvedTag = null;
      patch.resolvedTags = null;
    }
    if (Object.keys(patch).length > 0) await store.services.updateState(service.id, patch);
    return { ...base, status: 'failed', currentDigest: runtimeDigest ?? service.image.digest, error: (error as Error).message };
  }

  const currentDigest = runtimeDigest ?? resolution.digest;
  const patch: ServiceStatePatch = {};
  if (currentDigest !== service.image.digest) {
    patch.digest = currentDigest;
    patch.resolvedTag = null;
    patch.resolvedTags = null;
  }

  // Without a running container there is nothing to compare the registry with: keep the candidate.
  let candidate = service.candidate;
  if (runtimeDigest) {
    const upToDate = runtimeDigest === resolution.digest || runtimeDigest === resolution.platformDigest;
    if (upToDate) {
      candidate = undefined;
    } else {
      candidate = { tag: service.image.tag, digest: resolution.digest, archMatch: resolution.archMatch, arch: resolution.platforms };
      if (service.candidate?.digest === resolution.digest && service.candidate.resolvedTag) {
        candidate.resolvedTag = service.candidate.resolvedTag;
      }
    }
    patch.candidate = candidate ?? null;
    patch.checkedAt = nowIso();
  }

  const ignore = candidate ? matchIgnoreRule(rules, candidate.tag) : undefined;
  patch.ignore = ignore ?? null;
  await store.services.updateState(service.id, patch);

  const result: ServiceCheckResult = { ...base, status: 'ok', currentDigest };
  if (candidate) {
    result.candidateDigest = candidate.digest;
    result.newCandidate = !sameCandidate(candidate, service.candidate);
    if (ignore) result.ignored = true;
  }
  return result;
}
