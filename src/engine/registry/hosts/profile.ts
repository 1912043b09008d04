// What differs between registry families, behind one small interface: where a registry's API
// lives, what a pull token is scoped to, and, for families whose own API says it, every tag's
// digest in one listing instead of one manifest request per tag.
import type { RegistryHttp } from '../http.js';
import type { RepositoryRef } from '../reference.js';

export interface RegistryHostProfile {
  /** The family's name, for logs: "docker-hub", "ghcr", "quay", "distribution". */
  readonly family: string;
  /** Scheme and host that serve the registry API (`/v2/…`) of `registry`. */
  apiBaseUrl(registry: string): string;
  /** The token scope that lets Dockrev read a repository's manifests and tags. */
  pullScope(repository: string): string;
  /**
   * Digests of the named tags (or of every tag) from the family's own API, when it has one.
   * Tags it does not list are left out; callers ask the registry API (`HEAD`) for those. A
   * failure (private repository, API down) rejects, and callers fall back the same way.
   */
  tagDigests?(target: RepositoryRef, tags: readonly string[] | 'all', http: RegistryHttp): Promise<Map<string, string>>;
  /**
   * Every tag with its digest and, where the API says so, whether that digest is a multi-platform
   * index (version inference needs the kind to know which manifests could hold a platform digest).
   */
  listTagManifests?(target: RepositoryRef, http: RegistryHttp): Promise<Map<string, BulkTag>>;
}

export interface BulkTag {
  digest: string;
  /** True for a manifest list / OCI index, false for a single manifest, undefined when not said. */
  index?: boolean;
}

/** The digests of a bulk listing. */
export function digestsOf(tags: ReadonlyMap<string, BulkTag>): Map<string, string> {
  return new Map([...tags].map(([name, tag]) => [name, tag.digest]));
}

/** The registry API's own token scope for reading a repository; every family here uses it. */
export function repositoryPullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** Asking for a few tags one by one beats listing a repository that may have thousands. */
export const SPECIFIC_TAG_LOOKUP_LIMIT = 5;

/** Stops an API whose paging never ends from keeping a listing going forever. */
export const MAX_API_PAGES = 200;
