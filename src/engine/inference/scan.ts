// One digest → tags scan of a repository, spending as few registry requests as the registry
// allows. Where the family's own API lists every tag with its digest (Quay, Docker Hub), one paged
// listing answers for all tags. Otherwise `tags/list` (following Link pages), then one HEAD per
// considered tag: the Docker-Content-Digest header is the tag's (index) digest. A manifest GET
// happens only when a tag's index could hold the wanted digest as its platform manifest, which is
// possible only when the wanted digest is itself a single-platform manifest; manifests by digest
// are cached by the client.
import { errorText } from '../../errors.js';
import type { SnapshotScan } from '../../store/index.js';
import { mapConcurrently } from '../../concurrency.js';
import { RegistryError, type RegistryClient } from '../registry/index.js';
import { MEDIA_TYPES, selectPlatform } from '../registry/manifest.js';
import type { BulkTag } from '../registry/hosts/profile.js';
import type { RepositoryRef } from '../registry/reference.js';
import { sortTagsDescending } from './tags.js';

export interface ScanProgress {
  phase: 'listing_tags' | 'scanning';
  message: string;
  /** Tags whose lookup finished, whatever the outcome. */
  current: number;
  total: number;
  /** Lookups dispatched. */
  assigned: number;
  /** Lookups that succeeded. */
  succeeded: number;
}

export interface ScanRequest {
  client: RegistryClient;
  target: RepositoryRef;
  digest: string;
  hostPlatform: string;
  /** Tags inspected whatever the depth: the configured and candidate tags of services on the digest. */
  anchors: readonly string[];
  /** How many tags to inspect in all (anchors included); Infinity inspects every tag. */
  depth: number;
  /** Tags not started within this time count as timeouts. */
  budgetMs: number;
  concurrency: number;
  onProgress?: (progress: ScanProgress) => void;
}

export interface ScanResult {
  /** Tags pointing at the digest, versions first (highest first), then by string descending. */
  tags: string[];
  scan: SnapshotScan;
  /** Every tag of the repository (sorted as `tags`), when the listing worked. */
  repoTags?: string[];
  /** Why the tag listing failed (the scan then reports one error and no tags). */
  listingError?: string;
}

type Outcome = 'ok' | 'timeout' | 'error';

interface TagLookup {
  tag: string;
  digest?: string;
  /** Content type of the tag's manifest; unknown after a bulk listing. */
  mediaType?: string;
  outcome: Outcome;
}

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const SINGLE_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

/** The listing: every tag, with digests (and kinds) when the registry family's own API gives them in bulk. */
async function listRepository(client: RegistryClient, target: RepositoryRef): Promise<{ tags: string[]; bulk?: Map<string, BulkTag> }> {
  const profile = client.hosts.profileFor(target.registry);
  if (profile.listTagManifests) {
    try {
      const bulk = await profile.listTagManifests(target, client.http);
      if (bulk.size > 0) return { tags: [...bulk.keys()], bulk };
    } catch {
      // A private repository or an API outage: the registry API still answers.
    }
  }
  return { tags: await client.listTags(target) };
}

/** The anchors that exist, then the highest versions, up to `depth` tags in all. */
export function tagsToConsider(allTags: readonly string[], anchors: readonly string[], depth: number): string[] {
  const present = new Set(allTags);
  const chosen = [...new Set(anchors.filter((tag) => present.has(tag)))];
  const taken = new Set(chosen);
  for (const tag of sortTagsDescending(allTags)) {
    if (chosen.length >= depth) break;
    if (!taken.has(tag)) chosen.push(tag);
  }
  return chosen;
}

function outcomeOf(error: unknown): Outcome {
  return error instanceof RegistryError && error.kind === 'timeout' ? 'timeout' : 'error';
}

export async function scanDigestTags(request: ScanRequest): Promise<ScanResult> {
  const { client, target, digest, hostPlatform } = request;
  const deadline = Date.now() + request.budgetMs;
  const report = (progress: ScanProgress) => request.onProgress?.(progress);
  report({ phase: 'listing_tags', message: 'listing repository tags', current: 0, total: 0, assigned: 0, succeeded: 0 });

  let listing: Awaited<ReturnType<typeof listRepository>>;
  try {
    listing = await listRepository(client, target);
  } catch (error) {
    return {
      tags: [],
      scan: { repoTagsTotal: 0, repoTagsConsidered: 0, manifestsOk: 0, manifestsTimeout: 0, manifestsError: 1 },
      listingError: errorText(error),
    };
  }
  const considered = tagsToConsider(listing.tags, request.anchors, request.depth);
  const total = considered.length;
  let assigned = 0;
  let done = 0;
  let succeeded = 0;
  const counts = { timeout: 0, error: 0 };
  const progress = () =>
    report({
      phase: 'scanning',
      message: `scanning manifests (${done}/${total}) · repo total ${listing.tags.length} · timeout ${counts.timeout} · error ${counts.error}`,
      current: done,
      total,
      assigned,
      succeeded,
    });
  progress();

  // Pass 1: each considered tag's digest (from the bulk listing, else a HEAD).
  const lookups = await mapConcurrently(considered, request.concurrency, async (tag): Promise<TagLookup> => {
    const known = listing.bulk?.get(tag);
    let lookup: TagLookup;
    if (known) {
      // The listing's word on the kind stands in for the content type a HEAD would have told.
      const kind = known.index === undefined ? {} : { mediaType: known.index ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest };
      lookup = { tag, digest: known.digest.toLowerCase(), outcome: 'ok', ...kind };
    } else if (Date.now() >= deadline) {
      lookup = { tag, outcome: 'timeout' };
    } else {
      assigned += 1;
      try {
        const head = await client.headManifest(target, tag);
        lookup = { tag, digest: head.digest, mediaType: head.mediaType, outcome: 'ok' };
      } catch (error) {
        lookup = { tag, outcome: outcomeOf(error) };
      }
    }
    if (known) assigned += 1;
    done += 1;
    if (lookup.outcome === 'ok') succeeded += 1;
    else counts[lookup.outcome] += 1;
    progress();
    return lookup;
  });

  const matched = new Set(lookups.filter((lookup) => lookup.digest === digest).map((lookup) => lookup.tag));
  if (await mayBePlatformManifest(client, target, digest, lookups)) {
    await matchPlatformDigests(client, target, digest, hostPlatform, lookups, matched, deadline, request.concurrency);
  }

  const scan: SnapshotScan = {
    repoTagsTotal: listing.tags.length,
    repoTagsConsidered: total,
    manifestsOk: lookups.filter((lookup) => lookup.outcome === 'ok').length,
    manifestsTimeout: lookups.filter((lookup) => lookup.outcome === 'timeout').length,
    manifestsError: lookups.filter((lookup) => lookup.outcome === 'error').length,
  };
  return { tags: sortTagsDescending(matched), scan, repoTags: sortTagsDescending(listing.tags) };
}

/**
 * Whether the wanted digest could be the platform manifest inside some tag's index: only when it
 * is a single-platform manifest itself. A tag that points at it straight away says which it is;
 * otherwise one HEAD by digest does (a digest the repository does not hold matches nothing).
 */
async function mayBePlatformManifest(client: RegistryClient, target: RepositoryRef, digest: string, lookups: readonly TagLookup[]): Promise<boolean> {
  const direct = lookups.find((lookup) => lookup.digest === digest && lookup.mediaType);
  let mediaType = direct?.mediaType;
  if (!mediaType) {
    try {
      mediaType = (await client.headManifest(target, digest)).mediaType;
    } catch {
      return false;
    }
  }
  return mediaType === undefined || !INDEX_TYPES.has(mediaType);
}

/** Pass 2: the host platform's manifest in each tag's index (cached by digest), for a wanted single-platform digest. */
async function matchPlatformDigests(
  client: RegistryClient,
  target: RepositoryRef,
  digest: string,
  hostPlatform: string,
  lookups: TagLookup[],
  matched: Set<string>,
  deadline: number,
  concurrency: number,
): Promise<void> {
  const byDigest = new Map<string, TagLookup[]>();
  for (const lookup of lookups) {
    if (lookup.outcome !== 'ok' || !lookup.digest || lookup.digest === digest) continue;
    if (lookup.mediaType && SINGLE_TYPES.has(lookup.mediaType)) continue;
    byDigest.set(lookup.digest, [...(byDigest.get(lookup.digest) ?? []), lookup]);
  }
  await mapConcurrently([...byDigest], concurrency, async ([indexDigest, tags]) => {
    if (Date.now() >= deadline) {
      for (const lookup of tags) lookup.outcome = 'timeout';
      return;
    }
    try {
      // After a bulk listing the kind is unknown: a HEAD says it without a manifest download.
      const mediaType = tags[0]!.mediaType ?? (await client.headManifest(target, indexDigest)).mediaType;
      if (mediaType && SINGLE_TYPES.has(mediaType)) return;
      const manifest = await client.getManifest(target, indexDigest);
      if (manifest.kind === 'index' && selectPlatform(manifest, hostPlatform).platformDigest === digest) {
        for (const lookup of tags) matched.add(lookup.tag);
      }
    } catch (error) {
      for (const lookup of tags) lookup.outcome = outcomeOf(error);
    }
  });
}
