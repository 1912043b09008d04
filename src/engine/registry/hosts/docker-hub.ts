// Docker Hub: image references call it docker.io (or one of its aliases) and may leave out
// `library/`; its registry API lives on registry-1.docker.io; its own API at hub.docker.com lists
// tags with their digests, without a registry token and outside the pull rate limit.
import type { RegistryHttp } from '../http.js';
import type { RepositoryRef } from '../reference.js';
import { digestsOf, MAX_API_PAGES, repositoryPullScope, SPECIFIC_TAG_LOOKUP_LIMIT, type BulkTag, type RegistryHostProfile } from './profile.js';

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);
export const DOCKER_HUB_API_BASE_URL = 'https://hub.docker.com';

export function isDockerHubAlias(host: string): boolean {
  return DOCKER_HUB_ALIASES.has(host);
}

/**
 * The ways Docker may spell a repository in `RepoDigests`: as given (`registry/name`), and for
 * Docker Hub also without `docker.io/` and without `library/` (`nginx@sha256:…`).
 */
export function repositorySpellings(imageRepoKey: string): Set<string> {
  const spellings = new Set([imageRepoKey]);
  if (imageRepoKey.startsWith(`${DOCKER_HUB}/`)) {
    const name = imageRepoKey.slice(DOCKER_HUB.length + 1);
    spellings.add(name);
    if (name.startsWith('library/')) spellings.add(name.slice('library/'.length));
  }
  return spellings;
}

interface HubTag {
  name?: unknown;
  digest?: unknown;
  /** The tag's manifest type, e.g. `application/vnd.oci.image.index.v1+json`. */
  media_type?: unknown;
}

const INDEX_MEDIA_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

function hubTags(results: unknown, into: Map<string, BulkTag>): void {
  if (!Array.isArray(results)) throw new Error('not a tag list');
  for (const entry of results as HubTag[]) {
    if (typeof entry?.name !== 'string' || typeof entry.digest !== 'string') continue;
    into.set(entry.name, { digest: entry.digest, ...(typeof entry.media_type === 'string' ? { index: INDEX_MEDIA_TYPES.has(entry.media_type) } : {}) });
  }
}

export function dockerHubProfile(apiBaseUrl = DOCKER_HUB_API_BASE_URL): RegistryHostProfile {
  const base = apiBaseUrl.replace(/\/+$/, '');
  const tagsUrl = (target: RepositoryRef) => {
    const [namespace, ...rest] = target.repository.split('/');
    return `${base}/v2/namespaces/${encodeURIComponent(namespace!)}/repositories/${encodeURIComponent(rest.join('/'))}/tags`;
  };
  const listTagManifests = async (target: RepositoryRef, http: RegistryHttp): Promise<Map<string, BulkTag>> => {
    const tags = new Map<string, BulkTag>();
    let url: URL | undefined = new URL(`${tagsUrl(target)}?page_size=100`);
    for (let page = 0; url && page < MAX_API_PAGES; page++) {
      const { status, json } = await http.getJson(target, url, 'hub tags');
      if (status !== 200) throw new Error(`Docker Hub API answered ${status}`);
      const body = json as { results?: unknown; next?: unknown };
      hubTags(body?.results, tags);
      // `next` is an absolute URL on the same API; anything else ends the listing.
      const next: URL | undefined = typeof body.next === 'string' ? new URL(body.next, url) : undefined;
      url = next && next.origin === url.origin ? next : undefined;
    }
    return tags;
  };
  return {
    family: 'docker-hub',
    apiBaseUrl: () => 'https://registry-1.docker.io',
    pullScope: repositoryPullScope,
    listTagManifests,
    async tagDigests(target: RepositoryRef, tags: readonly string[] | 'all', http: RegistryHttp): Promise<Map<string, string>> {
      if (tags === 'all' || tags.length > SPECIFIC_TAG_LOOKUP_LIMIT) return digestsOf(await listTagManifests(target, http));
      const found = new Map<string, BulkTag>();
      for (const tag of tags) {
        const { status, json } = await http.getJson(target, new URL(`${tagsUrl(target)}/${encodeURIComponent(tag)}`), `hub tag ${tag}`);
        if (status === 404) continue;
        if (status !== 200) throw new Error(`Docker Hub API answered ${status}`);
        hubTags([json], found);
      }
      return digestsOf(found);
    },
  };
}
