// Quay (quay.io or a self-hosted Red Hat Quay): besides the registry API it has its own REST API,
// whose tag listing carries each tag's manifest digest (`GET /api/v1/repository/{repo}/tag/`,
// listRepoTags in Quay's API reference), 100 tags a page, anonymous for public repositories.
import type { RegistryHttp } from '../http.js';
import type { RepositoryRef } from '../reference.js';
import { MAX_API_PAGES, repositoryPullScope, SPECIFIC_TAG_LOOKUP_LIMIT, type RegistryHostProfile } from './profile.js';

export const QUAY_IO = 'quay.io';
const PAGE_SIZE = 100;

interface QuayTagPage {
  tags?: { name?: unknown; manifest_digest?: unknown }[];
  has_additional?: unknown;
}

function collect(page: QuayTagPage | undefined, into: Map<string, string>): void {
  if (!page || !Array.isArray(page.tags)) throw new Error('not a Quay tag page');
  for (const tag of page.tags) {
    if (typeof tag?.name === 'string' && typeof tag.manifest_digest === 'string') into.set(tag.name, tag.manifest_digest);
  }
}

/** `apiBaseUrl(registry)` also serves Quay's own API (under `/api/v1`). */
export function quayProfile(apiBaseUrl: (registry: string) => string): RegistryHostProfile {
  return {
    family: 'quay',
    apiBaseUrl,
    pullScope: repositoryPullScope,
    async tagDigests(target: RepositoryRef, tags: readonly string[] | 'all', http: RegistryHttp): Promise<Map<string, string>> {
      const listing = `${apiBaseUrl(target.registry)}/api/v1/repository/${target.repository}/tag/`;
      const digests = new Map<string, string>();
      const fetchPage = async (query: Record<string, string>) => {
        const url = new URL(listing);
        url.searchParams.set('onlyActiveTags', 'true');
        for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
        const { status, json } = await http.getJson(target, url, 'quay tags');
        if (status !== 200) throw new Error(`Quay API answered ${status}`);
        collect(json as QuayTagPage, digests);
        return json as QuayTagPage;
      };
      if (tags !== 'all' && tags.length <= SPECIFIC_TAG_LOOKUP_LIMIT) {
        for (const tag of tags) await fetchPage({ specificTag: tag });
        return digests;
      }
      for (let page = 1; page <= MAX_API_PAGES; page++) {
        const body = await fetchPage({ limit: String(PAGE_SIZE), page: String(page) });
        if (body.has_additional !== true) break;
      }
      return digests;
    },
  };
}
