// Tags as versions, for ordering and for deciding which tags need inference: a leading `v` is
// ignored and `X` / `X.Y` count as `X.0.0` / `X.Y.0` (so `5.2` sorts with the 5.2.x releases).
import semver, { type SemVer } from 'semver';

const LOOSE_VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/;

/** The version a tag names (`v1.2`, `1.2.3-rc.1`), or undefined for `latest`, `alpine`, `1.2-alpine`, … */
export function tagVersion(tag: string): SemVer | undefined {
  const match = LOOSE_VERSION.exec(tag.trim());
  if (!match) return undefined;
  const [, major, minor = '0', patch = '0', suffix = ''] = match;
  return semver.parse(`${major}.${minor}.${patch}${suffix}`) ?? undefined;
}

/**
 * A tag that names one release for good (`1.4.2`, `v2.0.0-rc.1`): its digest is what the tag says,
 * so nothing needs inferring. `latest`, `5.2` or `5` move with new releases.
 */
export function isStrictSemverTag(tag: string): boolean {
  return semver.valid(tag.trim().replace(/^v/, '')) !== null;
}

/** Versions first, highest first (ties: string descending), then the other tags by string descending. */
export function compareTagsDescending(a: string, b: string): number {
  const versionA = tagVersion(a);
  const versionB = tagVersion(b);
  if (versionA && versionB) return semver.rcompare(versionA, versionB) || descending(a, b);
  if (versionA || versionB) return versionA ? -1 : 1;
  return descending(a, b);
}

export function sortTagsDescending(tags: Iterable<string>): string[] {
  return [...tags].sort(compareTagsDescending);
}

/**
 * What a snapshot's tags say about a service on `configuredTag`: the version tags, highest first,
 * without the configured tag itself (a service on `5.2` learns `5.2.3`, not `5.2`).
 */
export function resolvedTagsOf(snapshotTags: readonly string[], configuredTag: string): string[] {
  return sortTagsDescending(snapshotTags.filter((tag) => tag !== configuredTag && tagVersion(tag) !== undefined));
}

function descending(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
