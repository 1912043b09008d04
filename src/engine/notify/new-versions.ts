// Which services a `new_version_discovered` notification announces: the candidates a scheduled or
// pushed check found first, still current (not updated or replaced since, not archived), each
// announced once per service × candidate digest, with tags resolved by version inference where it
// can tell them (`1.4.2 -> 1.5.0`, never `latest -> latest`).
import type { Logger } from 'pino';
import type { Service, Store } from '../../store/index.js';
import type { CandidateFoundEvent, CheckFinishedEvent } from '../events.js';
import type { VersionInferenceSettling } from './inference.js';
import type { NewVersionService } from './payload.js';

/** How long a notification waits for inference before it goes out with what is known. */
export const INFERENCE_WAIT_MS = 10_000;

/** Checks a person asked for in the UI announce nothing: they are looking already. */
export function announcesNewVersions(event: Pick<CheckFinishedEvent, 'reason' | 'source'>): boolean {
  return event.reason === 'schedule' || event.reason === 'webhook' || event.source !== undefined;
}

const shortDigest = (digest: string | undefined) => (digest ? digest.replace(/^sha256:/, '').slice(0, 12) : undefined);

/** Tags for people: resolved versions when known; when both still read the same, their digests tell them apart. */
export function displayTags(
  current: { tag: string; resolvedTag?: string; digest?: string },
  candidate: { tag: string; resolvedTag?: string; digest: string },
): { currentDisplayTag: string; candidateDisplayTag: string } {
  const currentDisplayTag = current.resolvedTag ?? current.tag;
  const candidateDisplayTag = candidate.resolvedTag ?? candidate.tag;
  if (currentDisplayTag !== candidateDisplayTag) return { currentDisplayTag, candidateDisplayTag };
  const before = shortDigest(current.digest);
  return {
    currentDisplayTag: before ? `${currentDisplayTag} (${before})` : currentDisplayTag,
    candidateDisplayTag: `${candidateDisplayTag} (${shortDigest(candidate.digest)})`,
  };
}

/** The found candidates whose service still has that candidate and is not archived. */
async function stillCurrent(store: Store, candidates: readonly Readonly<CandidateFoundEvent>[]): Promise<{ found: Readonly<CandidateFoundEvent>; service: Service }[]> {
  const current = [];
  for (const found of candidates) {
    const service = await store.services.get(found.serviceId);
    if (!service || service.archived || service.candidate?.digest !== found.candidateDigest) continue;
    const stack = await store.stacks.get(service.stackId);
    if (!stack || stack.archived) continue;
    current.push({ found, service });
  }
  return current;
}

export interface NewVersionPlan {
  services: NewVersionService[];
  /** Why nothing is announced, for the check's log. */
  skipped?: string;
}

export async function planNewVersions(
  deps: { store: Store; logger: Logger; inference?: VersionInferenceSettling; inferenceWaitMs?: number },
  event: Readonly<CheckFinishedEvent>,
): Promise<NewVersionPlan> {
  const { store } = deps;
  const current = await stillCurrent(store, event.newCandidates);
  if (current.length === 0) {
    return event.newCandidates.length === 0
      ? { services: [] }
      : { services: [], skipped: `new-version notification skipped: all ${event.newCandidates.length} services no longer have matching candidates` };
  }
  if (deps.inference) {
    const digests = [...new Set(current.flatMap(({ found }) => [found.candidateDigest, ...(found.currentDigest ? [found.currentDigest] : [])]))];
    try {
      await deps.inference.whenSettled(digests, deps.inferenceWaitMs ?? INFERENCE_WAIT_MS);
    } catch (error) {
      deps.logger.warn({ err: error, jobId: event.jobId }, 'version inference did not settle; announcing with the tags known');
    }
  }
  const announced: NewVersionService[] = [];
  for (const { found, service: before } of current) {
    const service = (await store.services.get(found.serviceId)) ?? before;
    const reserved = await store.notifications.reserveNewVersionNotification({ serviceId: found.serviceId, candidateDigest: found.candidateDigest, jobId: event.jobId });
    if (!reserved) continue;
    // The running image's resolved tag describes the digest the check saw only while it still runs.
    const resolvedCurrent = !found.currentDigest || service.image.digest === found.currentDigest ? service.image.resolvedTag : undefined;
    const resolvedCandidate = service.candidate?.digest === found.candidateDigest ? service.candidate.resolvedTag : undefined;
    const candidateTag = service.candidate?.tag ?? found.tag;
    announced.push({
      stackId: found.stackId,
      stackName: found.stackName,
      serviceId: found.serviceId,
      serviceName: found.serviceName,
      currentTag: found.tag,
      candidateTag,
      candidateDigest: found.candidateDigest,
      ...displayTags({ tag: found.tag, resolvedTag: resolvedCurrent, digest: found.currentDigest }, { tag: candidateTag, resolvedTag: resolvedCandidate, digest: found.candidateDigest }),
    });
  }
  if (announced.length === 0) return { services: [], skipped: `new-version notification skipped: all ${current.length} services already have active records` };
  return { services: announced };
}
