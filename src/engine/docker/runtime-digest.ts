import { repositorySpellings } from '../registry/hosts/index.js';

/**
 * The runtime digest of a service: the `RepoDigests` of its containers' images that belong to the
 * repository must name exactly one digest; none or several (replicas on different images) mean
 * the digest is unknown.
 */
export function selectRuntimeDigest(repoDigestsPerContainer: readonly (readonly string[])[], imageRepoKey: string): string | undefined {
  const spellings = repositorySpellings(imageRepoKey);
  const digests = new Set<string>();
  for (const repoDigests of repoDigestsPerContainer) {
    for (const entry of repoDigests) {
      const at = entry.lastIndexOf('@');
      if (at > 0 && spellings.has(entry.slice(0, at))) digests.add(entry.slice(at + 1));
    }
  }
  return digests.size === 1 ? [...digests][0] : undefined;
}
