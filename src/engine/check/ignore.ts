import semver from 'semver';
import type { IgnoreRule, ServiceIgnore } from '../../store/index.js';

const TAG_VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** A tag as semver text: optional `v`, and `X` / `X.Y` read as `X.0.0` / `X.Y.0`; undefined when it is no version. */
export function tagAsSemver(tag: string): string | undefined {
  const match = TAG_VERSION.exec(tag.trim());
  if (!match) return undefined;
  const [, major, minor = '0', patch = '0', prerelease = '', build = ''] = match;
  return semver.valid(`${major}.${minor}.${patch}${prerelease}${build}`) ?? undefined;
}

/**
 * Whether a tag satisfies a semver range in the standard (npm) syntax: `>=5.3 <5.4`, `^1.2`,
 * `~1.2`, `1.2.x`, `>=1 || 0.9.x`; a comma also separates comparators that must all hold, as
 * rules stored earlier wrote them. A pre-release tag only matches a comparator that names a
 * pre-release of the same version. An invalid range or a tag that is no version never matches.
 */
export function semverRequirementMatches(requirement: string, tag: string): boolean {
  const version = tagAsSemver(tag);
  const range = semver.validRange(requirement.replace(/\s*,\s*/g, ' '));
  return version !== undefined && range !== null && semver.satisfies(version, range);
}

export function ruleMatches(rule: Pick<IgnoreRule, 'match'>, tag: string): boolean {
  const { kind, value } = rule.match;
  switch (kind) {
    case 'prefix':
      return tag.startsWith(value);
    case 'regex':
      try {
        return new RegExp(value, 'u').test(tag);
      } catch {
        return false;
      }
    case 'semver':
      return semverRequirementMatches(value, tag);
    default:
      return tag === value;
  }
}

/** The first enabled rule (newest first, as listed by the store) that matches the candidate tag. */
export function matchIgnoreRule(rules: readonly IgnoreRule[], candidateTag: string): ServiceIgnore | undefined {
  const rule = rules.find((candidate) => candidate.enabled && ruleMatches(candidate, candidateTag));
  return rule ? { matched: true, ruleId: rule.id, reason: `matched ignore rule for tag ${candidateTag}` } : undefined;
}
