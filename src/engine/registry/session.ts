import type { RegistryClient, ResolvedTag } from './client.js';
import type { RepositoryRef } from './reference.js';

/**
 * The registry view of one check run: each (registry, repository, tag) is resolved once however
 * many services share it. Failures are remembered too, so a broken registry costs one attempt per
 * run rather than one per service. Tokens and manifests stay cached in the long-lived client.
 */
export class CheckSession {
  private readonly resolved = new Map<string, Promise<ResolvedTag>>();

  constructor(
    private readonly client: RegistryClient,
    readonly hostPlatform: string,
  ) {}

  resolveTag(target: RepositoryRef, tag: string): Promise<ResolvedTag> {
    const key = `${target.registry}/${target.repository}:${tag}`;
    let resolution = this.resolved.get(key);
    if (!resolution) {
      resolution = this.client.resolveTag(target, tag, this.hostPlatform);
      // Callers that never await a failed resolution must not trigger an unhandled rejection.
      resolution.catch(() => undefined);
      this.resolved.set(key, resolution);
    }
    return resolution;
  }
}
