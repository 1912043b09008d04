// Quay (quay.io or a self-hosted Red Hat Quay): besides the registry API it has its own REST API,
// whose tag listing carries each tag's manifest digest (`GET /api/v1/repository/{repo}/tag/`,
// listRepoTags in Quay's API reference), 100 tags a page, anonymous for public repositories.
import type { RegistryHttp } from '../http.js';
import type { RepositoryRef } from '../reference.js';
import { digestsOf, MAX_API_PAGES, repositoryPullScope, SPECIFIC_TAG_LOOKUP_LIMIT, type BulkTag, type RegistryHostProfile } from './profile.js';

export const QUAY_IO = 'quay.io';
const PAGE_SIZE = 100;

interface QuayTagPage {
  tags?: { name?: unknown; manifest_digest?: unknown; is_manifest_list?: unknown }[];
  has_additional?: unknown;
}

function collect(page: QuayTagPage | undefined, into: Map<string, BulkTag>): void {
  if (!page || !Array.isArray(page.tags)) throw new Error('not a Quay tag page');
  for (const tag of page.tags) {
    if (typeof tag?.name !== 'string' || typeof tag.manifest_digest !== 'string') continue;
    into.set(tag.name, { digest: tag.manifest_digest, ...(typeof tag.is_manifest_list === 'boolean' ? { index: tag.is_manifest_list } : {}) });
  }
}

/** `apiBaseUrl(registry)` also serves Quay's own API (under `/api/v1`). */
export function quayProfile(apiBaseUrl: (registry: string) => string): RegistryHostProfile {
  const fetchPage = async (target: RepositoryRef, http: RegistryHttp, query: Record<string, string>, into: Map<string, BulkTag>) => {
    const url = new URL(`${apiBaseUrl(target.registry)}/api/v1/repository/${target.repository}/tag/`);
    url.searchParams.set('onlyActiveTags', 'true');
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const { status, json } = await http.getJson(target, url, 'quay tags');
    if (status !== 200) throw new Error(`Quay API answered ${status}`);
    collect(json as QuayTagPage, into);
    return json as QuayTagPage;
  };
  const listTagManifests = async (target: RepositoryRef, http: RegistryHttp): Promise<Map<string, BulkTag>> => {
    const tags = new Map<string, BulkTag>();
    for (let page = 1; page <= MAX_API_PAGES; page++) {
      const body = await fetchPage(target, http, { limit: String(PAGE_SIZE), page: String(page) }, tags);
      if (body.has_additional !== true) break;
    }
    return tags;
  };
  return {
    family: 'quay',
    apiBaseUrl,
    pullScope: repositoryPullScope,
    listTagManifests,
    async tagDigests(target: RepositoryRef, tags: readonly string[] | 'all', http: RegistryHttp): Promise<Map<string, string>> {
      if (tags === 'all' || tags.length > SPECIFIC_TAG_LOOKUP_LIMIT) return digestsOf(await listTagManifests(target, http));
      const found = new Map<string, BulkTag>();
      for (const tag of tags) await fetchPage(target, http, { specificTag: tag }, found);
      return digestsOf(found);
    },
  };
}
