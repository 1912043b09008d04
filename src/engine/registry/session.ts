import type { RegistryClient } from './client.js';
import { selectPlatform, type PlatformSelection } from './manifest.js';
import type { RepositoryRef } from './reference.js';

/**
 * The registry view of one check run: each (registry, repository, tag) costs one HEAD however many
 * services share it, and a digest's platform details (a manifest GET, cached by digest in the
 * client) are fetched only when a check needs them, i.e. when the running digest differs. Failures
 * are remembered too, so a broken registry costs one attempt per run rather than one per service.
 */
export class CheckSession {
  private readonly heads = new Map<string, Promise<string>>();
  private readonly details = new Map<string, Promise<PlatformSelection>>();

  constructor(
    private readonly client: RegistryClient,
    readonly hostPlatform: string,
  ) {}

  /** The digest a tag points at (the index digest for multi-platform images). */
  tagDigest(target: RepositoryRef, tag: string): Promise<string> {
    return this.memo(this.heads, `${target.registry}/${target.repository}:${tag}`, async () => (await this.client.headManifest(target, tag)).digest);
  }

  /** Platforms of a digest and the host platform's manifest digest in it, with archMatch. */
  platformDetails(target: RepositoryRef, digest: string): Promise<PlatformSelection> {
    return this.memo(this.details, `${target.registry}/${target.repository}@${digest}`, async () =>
      selectPlatform(await this.client.getManifest(target, digest), this.hostPlatform),
    );
  }

  private memo<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let pending = cache.get(key);
    if (!pending) {
      pending = load();
      // Callers that never await a failed lookup must not trigger an unhandled rejection.
      pending.catch(() => undefined);
      cache.set(key, pending);
    }
    return pending;
  }
}
