// The services a check or runtime scan works through, and what both read about them.
import type { IgnoreRule, Service, Stack, Store } from '../../store/index.js';
import { selectRuntimeDigest, type ComposeContainer, type DockerReads } from '../docker/index.js';
import type { CandidateFoundEvent } from '../events.js';
import type { ImageRef } from '../registry/index.js';
import type { ServiceCheck } from './checker.js';
import type { CheckTarget } from './targets.js';

export interface StackWork {
  stack: Stack;
  services: Service[];
}

/** A service to check, with its stack and its image reference (undefined when invalid). */
export interface CheckedService {
  stack: Stack;
  service: Service;
  ref: ImageRef | undefined;
}

/** The stacks and services a target covers; unknown ids select nothing. */
export async function selection(store: Store, target: CheckTarget): Promise<StackWork[]> {
  if (target.scope === 'service') {
    const service = target.serviceId ? await store.services.get(target.serviceId) : undefined;
    const stack = service ? await store.stacks.get(service.stackId) : undefined;
    return service && stack ? [{ stack, services: [service] }] : [];
  }
  if (target.scope === 'stack') {
    const stack = target.stackId ? await store.stacks.getWithServices(target.stackId) : undefined;
    return stack ? [{ stack, services: stack.services }] : [];
  }
  const [stacks, services] = await Promise.all([store.stacks.list('include'), store.services.list('include')]);
  return stacks.map((stack) => ({ stack, services: services.filter((service) => service.stackId === stack.id) }));
}


/** The repository digest each service's running containers agree on. */
export async function runtimeDigests(
  docker: Pick<DockerReads, 'imageRepoDigests'>,
  targets: CheckedService[],
  containers: ComposeContainer[],
): Promise<Map<string, string | undefined>> {
  const byService = new Map<string, ComposeContainer[]>();
  for (const container of containers) {
    const key = `${container.project}\0${container.service}`;
    const own = byService.get(key);
    if (own) own.push(container);
    else byService.set(key, [container]);
  }
  const wanted = targets.flatMap(({ stack, service }) => byService.get(`${stack.name}\0${service.name}`) ?? []);
  const repoDigests = await docker.imageRepoDigests(wanted.map((container) => container.imageId));
  const result = new Map<string, string | undefined>();
  for (const { stack, service, ref } of targets) {
    if (!ref) continue;
    const own = byService.get(`${stack.name}\0${service.name}`) ?? [];
    result.set(service.id, own.length > 0 ? selectRuntimeDigest(own.map((container) => repoDigests.get(container.imageId) ?? []), ref.key) : undefined);
  }
  return result;
}


export async function rulesByService(store: Store): Promise<Map<string, IgnoreRule[]>> {
  const byService = new Map<string, IgnoreRule[]>();
  for (const rule of await store.ignoreRules.list()) {
    if (!rule.enabled) continue;
    const list = byService.get(rule.scope.serviceId) ?? [];
    list.push(rule);
    byService.set(rule.scope.serviceId, list);
  }
  return byService;
}


/** The `candidate.found` event of a service whose check turned up a candidate it did not have before. */
export function candidateFound(jobId: string, reason: string, { stack, service }: Pick<CheckedService, 'stack' | 'service'>, check: ServiceCheck): CandidateFoundEvent | undefined {
  const { result, patch } = check;
  if (!result.newCandidate || !result.candidateDigest) return undefined;
  const candidate = patch.candidate ?? service.candidate;
  return {
    jobId,
    reason,
    stackId: stack.id,
    stackName: stack.name,
    serviceId: service.id,
    serviceName: service.name,
    imageRef: service.image.ref,
    tag: service.image.tag,
    ...(result.currentDigest ? { currentDigest: result.currentDigest } : {}),
    candidateDigest: result.candidateDigest,
    archMatch: candidate?.archMatch ?? 'unknown',
    ignored: result.ignored === true,
  };
}
