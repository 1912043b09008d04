import type { components } from '../../generated/dockrev.js';
import type { Service, Stack } from '../../store/index.js';
import semver from 'semver';
import { isSelfImage } from '../discovery/image-ref.js';

export type UpdateScope = components['schemas']['Scope'];
export type UpdateReason = NonNullable<components['schemas']['UpdateRequest']['reason']>;

export interface SelectionOptions {
  /** The service of a `service`-scope update. */
  serviceId?: string;
  reason: UpdateReason;
  allowArchMismatch: boolean;
  /** `DOCKREV_IMAGE_REPO`: Dockrev's own image, which only the supervisor may upgrade. */
  selfImageRepo: string;
}

export interface VersionAnomaly {
  serviceId: string;
  serviceName: string;
  /** Normalised semver text (no leading `v`) of the running version. */
  current: string;
  /** Normalised semver text of the candidate. */
  candidate: string;
  reason: 'semver_downgrade';
}

export interface UpdateSelection {
  selected: Service[];
  skippedVersionAnomaly: VersionAnomaly[];
}

/** The services an update of this scope would change in one stack (§E.5 `select_update_services`). */
export function selectUpdateServices(
  stack: Stack & { services: Service[] },
  scope: UpdateScope,
  options: SelectionOptions,
): UpdateSelection {
  const inScope =
    scope === 'service'
      ? // An explicit single-service update overrides archive and ignore decisions.
        stack.services.filter((service) => service.id === options.serviceId)
      : stack.services.filter((service) => isActionable(service, options.allowArchMismatch));
  // Self-upgrade goes through the supervisor: recreating our own container would kill the job running it.
  const candidates = inScope.filter((service) => !isSelfImage(service.image.ref, options.selfImageRepo));

  if (options.reason === 'ui') return { selected: candidates, skippedVersionAnomaly: [] };

  // Unattended updates never move a service to a lower version; a person in the UI may.
  const selected: Service[] = [];
  const skippedVersionAnomaly: VersionAnomaly[] = [];
  for (const service of candidates) {
    const downgrade = semverDowngrade(service);
    if (!downgrade) {
      selected.push(service);
      continue;
    }
    skippedVersionAnomaly.push({ serviceId: service.id, serviceName: service.name, ...downgrade, reason: 'semver_downgrade' });
  }
  return { selected, skippedVersionAnomaly };
}

function isActionable(service: Service, allowArchMismatch: boolean): boolean {
  if (service.archived || service.ignore?.matched || !service.candidate) return false;
  return allowArchMismatch || service.candidate.archMatch !== 'mismatch';
}

function semverDowngrade(service: Service): { current: string; candidate: string } | undefined {
  if (!service.candidate) return undefined;
  const current = comparableVersion(service.image.resolvedTag, service.image.tag);
  const candidate = comparableVersion(service.candidate.resolvedTag, service.candidate.tag);
  if (!current || !candidate || semver.compare(orderable(candidate), orderable(current)) >= 0) return undefined;
  return { current: current.text, candidate: candidate.text };
}

interface ComparableVersion {
  /** The version as written, without the leading `v`. */
  text: string;
  prerelease: string[];
}

/** A stage name, optionally followed by its number (`rc`, `rc1`, `beta-2`). */
const STAGE_TOKEN = /^(alpha|beta|rc|pre|preview)(?:-?(\d+))?$/i;

/**
 * The version with `rc10` / `beta-2` tokens split into a stage and a number, lowercase: semver
 * compares a token like `rc10` as text, which would put it before `rc9`.
 */
function orderable(version: ComparableVersion): string {
  const [core] = version.text.split(/[-+]/, 1);
  if (version.prerelease.length === 0) return core!;
  const tokens = version.prerelease.map((token) =>
    token.toLowerCase().replace(STAGE_TOKEN, (_all, stage: string, digits: string | undefined) => (digits === undefined ? stage : `${stage}.${Number(digits)}`)),
  );
  return `${core}-${tokens.join('.')}`;
}

/**
 * The resolved tag when there is one, else the tag, as a comparable version. A resolved tag that is
 * not comparable does not fall back to the raw tag: the raw tag (e.g. `latest`) says less.
 */
function comparableVersion(resolvedTag: string | undefined, tag: string): ComparableVersion | undefined {
  const preferred = resolvedTag?.trim() ? resolvedTag : tag;
  const version = parseStrictSemver(preferred);
  return version && version.prerelease.every(isComparablePrereleaseToken) ? version : undefined;
}

const NUMBER = '(0|[1-9]\\d*)';
const IDENTIFIER = '[0-9A-Za-z-]+';
const STRICT_SEMVER = new RegExp(
  `^${NUMBER}\\.${NUMBER}\\.${NUMBER}(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?(?:\\+(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?$`,
);

/** `MAJOR.MINOR.PATCH[-pre][+build]` with an optional leading `v`; no coercion of partial versions. */
function parseStrictSemver(tag: string): ComparableVersion | undefined {
  const trimmed = tag.trim();
  const match = STRICT_SEMVER.exec(trimmed.startsWith('v') ? trimmed.slice(1) : trimmed);
  if (!match) return undefined;
  const [text, , , , prerelease] = match;
  const prereleaseTokens = prerelease ? prerelease.split('.') : [];
  if (prereleaseTokens.some((token) => /^0\d+$/.test(token))) return undefined;
  return { prerelease: prereleaseTokens, text };
}

/**
 * Pre-release tokens whose order means something: numbers and the usual stage names, optionally
 * followed by digits (`rc1`, `beta-2`). Build hashes such as `e58516daf` would order at random.
 */
function isComparablePrereleaseToken(token: string): boolean {
  return /^\d+$/.test(token) || STAGE_TOKEN.test(token);
}
