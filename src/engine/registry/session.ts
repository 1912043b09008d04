import type { RegistryClient } from './client.js';
import { selectPlatform, type PlatformSelection } from './manifest.js';
import type { RepositoryRef } from './reference.js';

/**
 * The registry view of one check run: each (registry, repository, tag) costs one lookup however
 * many services share it, and a digest's platform details (a manifest GET, cached by digest in the
 * client) are fetched only when a check needs them, i.e. when the running digest differs. Failures
 * are remembered too, so a broken registry costs one attempt per run rather than one per service.
 * Where a registry family's own API lists tags with their digests (its host profile says so), the
 * tags of a repository are asked for in one go; a tag it does not name is then asked with `HEAD`.
 */
export class CheckSession {
  private readonly heads = new Map<string, Promise<string>>();
  private readonly details = new Map<string, Promise<PlatformSelection>>();

  constructor(
    private readonly client: RegistryClient,
    readonly hostPlatform: string,
  ) {}

  /**
   * Starts the lookups of these tags at once: one bulk lookup per repository whose profile offers
   * one, one HEAD per tag otherwise. Their results are what {@link tagDigest} answers later.
   */
  prefetch(entries: readonly { target: RepositoryRef; tag: string }[]): void {
    const byRepository = new Map<string, { target: RepositoryRef; tags: string[] }>();
    for (const { target, tag } of entries) {
      const key = `${target.registry}/${target.repository}`;
      const group = byRepository.get(key) ?? { target, tags: [] };
      if (!group.tags.includes(tag)) group.tags.push(tag);
      byRepository.set(key, group);
    }
    for (const { target, tags } of byRepository.values()) {
      const fresh = tags.filter((tag) => !this.heads.has(headKey(target, tag)));
      const profile = this.client.hosts.profileFor(target.registry);
      if (!profile.tagDigests || fresh.length === 0) {
        for (const tag of fresh) void this.tagDigest(target, tag);
        continue;
      }
      const bulk = profile.tagDigests(target, fresh, this.client.http).catch(() => new Map<string, string>());
      for (const tag of fresh) {
        this.memo(this.heads, headKey(target, tag), async () => (await bulk).get(tag) ?? (await this.client.headManifest(target, tag)).digest);
      }
    }
  }

  /** The digest a tag points at (the index digest for multi-platform images). */
  tagDigest(target: RepositoryRef, tag: string): Promise<string> {
    return this.memo(this.heads, headKey(target, tag), async () => (await this.client.headManifest(target, tag)).digest);
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

function headKey(target: RepositoryRef, tag: string): string {
  return `${target.registry}/${target.repository}:${tag}`;
}
