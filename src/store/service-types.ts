// What the store keeps about a service; rows and repositories both build on these.

export type ArchMatch = 'match' | 'mismatch' | 'unknown';
export type BackupOverride = 'inherit' | 'skip' | 'force';

export interface ServiceImage {
  /** Repository part of the Compose `image:` (no tag or digest), e.g. `ghcr.io/acme/web`. */
  ref: string;
  /** Configured tag. */
  tag: string;
  /** Current digest: the running container's if known, else the registry's for the tag. */
  digest?: string;
  resolvedTag?: string;
  resolvedTags?: string[];
}

/** A newer image for the same tag. */
export interface ServiceCandidate {
  tag: string;
  resolvedTag?: string;
  digest: string;
  archMatch: ArchMatch;
  arch: string[];
}

export interface ServiceIgnore {
  matched: true;
  ruleId: string;
  reason: string;
}

export interface ServiceHomepage {
  group?: string;
  name?: string;
  icon?: string;
  href?: string;
  description?: string;
}

export interface ServiceSettings {
  autoRollback: boolean;
  backupTargets: {
    bindPaths: Record<string, BackupOverride>;
    volumeNames: Record<string, BackupOverride>;
  };
}

export interface Service {
  id: string;
  stackId: string;
  name: string;
  image: ServiceImage;
  candidate?: ServiceCandidate;
  ignore?: ServiceIgnore;
  homepage?: ServiceHomepage;
  settings: ServiceSettings;
  checkedAt?: string;
  archived: boolean;
  archivedAt?: string;
  archivedReason?: string;
  createdAt: string;
  updatedAt: string;
}

/** A service as discovery sees it in the Compose files. */
export interface NewService {
  name: string;
  image: { ref: string; tag: string };
  homepage?: ServiceHomepage;
  settings?: ServiceSettings;
}

/** Fields a check, runtime scan or update writes: `undefined` keeps the stored value, `null` clears it. */
export interface ServiceStatePatch {
  digest?: string | null;
  resolvedTag?: string | null;
  resolvedTags?: string[] | null;
  candidate?: ServiceCandidate | null;
  ignore?: ServiceIgnore | null;
  checkedAt?: string | null;
}
