import type { IgnoreRule, Service, ServiceCandidate, ServiceStatePatch } from '../../store/index.js';
import { InvalidImageRefError, parseImageRef, type CheckSession, type ImageRef } from '../registry/index.js';
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

/** The image reference the service's configured ref and tag name; undefined when it is not a valid one. */
export function serviceImageRef(service: Pick<Service, 'image'>): ImageRef | undefined {
  try {
    return parseImageRef(`${service.image.ref}:${service.image.tag}`);
  } catch (error) {
    if (error instanceof InvalidImageRefError) return undefined;
    throw error;
  }
}

function sameCandidate(a: ServiceCandidate | undefined, b: ServiceCandidate | undefined): boolean {
  return a?.digest === b?.digest;
}

/** Whether storing `a` over `b` would change anything a reader sees. */
function sameCandidateDetails(a: ServiceCandidate | undefined, b: ServiceCandidate | undefined): boolean {
  if (!a || !b) return a === b;
  return a.digest === b.digest && a.tag === b.tag && a.archMatch === b.archMatch && a.resolvedTag === b.resolvedTag && a.arch.join() === b.arch.join();
}

export interface ServiceCheck {
  result: ServiceCheckResult;
  /** What to store for the service; empty when nothing changed. */
  patch: ServiceStatePatch;
}

/**
 * The same-tag check of one service (reference E.3): the running container's digest against the
 * registry's digest for the configured tag. It writes nothing (the caller stores all services'
 * patches at once). Registry failures keep what was known before and are reported on the service.
 */
export async function checkService(input: {
  session: CheckSession;
  service: Service;
  /** `serviceImageRef(service)`, parsed once by the caller. */
  ref: ImageRef | undefined;
  /** The digest the running containers use, when they agree on one. */
  runtimeDigest: string | undefined;
  rules: readonly IgnoreRule[];
  now: string;
}): Promise<ServiceCheck> {
  const { session, service, ref, runtimeDigest, rules } = input;
  const base = { serviceId: service.id, stackId: service.stackId, service: service.name };
  if (!ref) return { result: { ...base, status: 'skipped', error: 'invalid image ref' }, patch: {} };

  const patch: ServiceStatePatch = {};
  const noteCurrent = (digest: string | undefined) => {
    if (digest && digest !== service.image.digest) {
      patch.digest = digest;
      patch.resolvedTag = null;
      patch.resolvedTags = null;
    }
  };

  let candidate = service.candidate;
  let currentDigest: string;
  try {
    const registryDigest = await session.tagDigest(ref, service.image.tag);
    currentDigest = runtimeDigest ?? registryDigest;
    // Without a running container there is nothing to compare the registry with: keep the candidate.
    if (runtimeDigest) {
      if (runtimeDigest === registryDigest) {
        candidate = undefined;
      } else {
        // Only now are platform details worth a manifest GET (cached by digest for later runs).
        const details = await session.platformDetails(ref, registryDigest);
        candidate =
          runtimeDigest === details.platformDigest
            ? undefined
            : {
                tag: service.image.tag,
                digest: registryDigest,
                archMatch: details.archMatch,
                arch: details.platforms,
                ...(service.candidate?.digest === registryDigest && service.candidate.resolvedTag ? { resolvedTag: service.candidate.resolvedTag } : {}),
              };
      }
      if (!sameCandidateDetails(candidate, service.candidate)) patch.candidate = candidate ?? null;
      patch.checkedAt = input.now;
    }
  } catch (error) {
    // Keep the previous candidate; record what the runtime tells us for sure.
    noteCurrent(runtimeDigest);
    return { result: { ...base, status: 'failed', currentDigest: runtimeDigest ?? service.image.digest, error: (error as Error).message }, patch };
  }
  noteCurrent(currentDigest);

  const ignore = candidate ? matchIgnoreRule(rules, candidate.tag) : undefined;
  if (ignore?.ruleId !== service.ignore?.ruleId) patch.ignore = ignore ?? null;

  const result: ServiceCheckResult = { ...base, status: 'ok', currentDigest };
  if (candidate) {
    result.candidateDigest = candidate.digest;
    result.newCandidate = !sameCandidate(candidate, service.candidate);
    if (ignore) result.ignored = true;
  }
  return { result, patch };
}
