/**
 * The ways Docker may spell a repository in `RepoDigests`: as given (`registry/name`), and for
 * Docker Hub also without `docker.io/` and without `library/` (`nginx@sha256:…`).
 */
export function repositorySpellings(imageRepoKey: string): Set<string> {
  const spellings = new Set([imageRepoKey]);
  if (imageRepoKey.startsWith('docker.io/')) {
    const name = imageRepoKey.slice('docker.io/'.length);
    spellings.add(name);
    if (name.startsWith('library/')) spellings.add(name.slice('library/'.length));
  }
  return spellings;
}

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
