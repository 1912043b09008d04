import type { IgnoreRule, ServiceIgnore } from '../../store/index.js';

interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
}

/** A tag as a version: optional `v`, and `X` / `X.Y` coerced to `X.0.0` / `X.Y.0`. */
export function parseTagVersion(tag: string): Version | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(tag.trim());
  if (!match) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2] ?? 0),
    patch: Number(match[3] ?? 0),
    prerelease: match[4] ? match[4].split('.') : [],
  };
}

function compareIdentifiers(a: string, b: string): number {
  const numericA = /^\d+$/.test(a);
  const numericB = /^\d+$/.test(b);
  if (numericA && numericB) return Number(a) - Number(b);
  if (numericA !== numericB) return numericA ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareVersions(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return core;
  // A pre-release sorts before its release.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  for (let index = 0; index < Math.max(a.prerelease.length, b.prerelease.length); index += 1) {
    if (a.prerelease[index] === undefined) return -1;
    if (b.prerelease[index] === undefined) return 1;
    const order = compareIdentifiers(a.prerelease[index]!, b.prerelease[index]!);
    if (order !== 0) return order;
  }
  return 0;
}

interface Comparator {
  test(version: Version): boolean;
  /** The version the comparator names, for the pre-release rule. */
  anchor?: Version;
}

function bound(op: string, target: Version): Comparator['test'] {
  return (version) => {
    const order = compareVersions(version, target);
    switch (op) {
      case '>':
        return order > 0;
      case '>=':
        return order >= 0;
      case '<':
        return order < 0;
      case '<=':
        return order <= 0;
      default:
        return order === 0;
    }
  };
}

/** One comparator of a Cargo-style requirement: `>=1.2`, `<2`, `~1.2`, `^1.2.3`, `1.2` (caret), `1.*`, `*`. */
function parseComparator(text: string): Comparator | undefined {
  const match = /^(>=|<=|>|<|=|~|\^)?\s*v?(\*|\d+)(?:\.(\*|x|X|\d+))?(?:\.(\*|x|X|\d+))?(?:-([0-9A-Za-z.-]+))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, rawOp, majorText, minorText, patchText, pre] = match;
  const wildcard = (part: string | undefined) => part === undefined || part === '*' || part === 'x' || part === 'X';
  if (majorText === '*') return { test: () => true };
  const major = Number(majorText);
  const minor = wildcard(minorText) ? undefined : Number(minorText);
  const patch = wildcard(patchText) ? undefined : Number(patchText);
  const anchor: Version = { major, minor: minor ?? 0, patch: patch ?? 0, prerelease: pre ? pre.split('.') : [] };
  const op = rawOp ?? '^';
  const within = (low: Version, high: Version): Comparator['test'] => (v) => compareVersions(v, low) >= 0 && compareVersions(v, high) < 0;
  const next = (ma: number, mi: number, pa: number): Version => ({ major: ma, minor: mi, patch: pa, prerelease: ['0'] });

  if (op === '=') {
    if (minor === undefined) return { test: within(anchor, next(major + 1, 0, 0)), anchor };
    if (patch === undefined) return { test: within(anchor, next(major, minor + 1, 0)), anchor };
    return { test: bound('=', anchor), anchor };
  }
  if (op === '~') {
    const high = minor === undefined ? next(major + 1, 0, 0) : next(major, minor + 1, 0);
    return { test: within(anchor, high), anchor };
  }
  if (op === '^') {
    let high: Version;
    if (major > 0 || minor === undefined) high = next(major + 1, 0, 0);
    else if (minor > 0 || patch === undefined) high = next(0, minor + 1, 0);
    else high = next(0, 0, (patch ?? 0) + 1);
    return { test: within(anchor, high), anchor };
  }
  // Partial versions with < / > compare against the whole range they name.
  if (op === '>' && (minor === undefined || patch === undefined)) {
    const high = minor === undefined ? next(major + 1, 0, 0) : next(major, minor + 1, 0);
    return { test: (v) => compareVersions(v, high) >= 0, anchor };
  }
  if (op === '<=' && (minor === undefined || patch === undefined)) {
    const high = minor === undefined ? next(major + 1, 0, 0) : next(major, minor + 1, 0);
    return { test: (v) => compareVersions(v, high) < 0, anchor };
  }
  return { test: bound(op, anchor), anchor };
}

/**
 * Whether a tag satisfies a semver requirement such as `>=5.3, <5.4`. A pre-release tag only
 * matches when a comparator names a pre-release of the same major.minor.patch, as Cargo does.
 * An unparsable requirement or tag never matches.
 */
export function semverRequirementMatches(requirement: string, tag: string): boolean {
  const version = parseTagVersion(tag);
  if (!version) return false;
  const comparators = requirement
    .split(/\s*,\s*|\s+(?=[<>=~^])/)
    .filter(Boolean)
    .map(parseComparator);
  if (comparators.length === 0 || comparators.some((comparator) => !comparator)) return false;
  if (!comparators.every((comparator) => comparator!.test(version))) return false;
  if (version.prerelease.length === 0) return true;
  return comparators.some(
    (comparator) =>
      comparator!.anchor !== undefined &&
      comparator!.anchor.prerelease.length > 0 &&
      comparator!.anchor.major === version.major &&
      comparator!.anchor.minor === version.minor &&
      comparator!.anchor.patch === version.patch,
  );
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
