// What the self-upgrade needs from Docker, as one interface: the state machine (upgrade.ts) drives
// it, docker-target.ts implements it with the docker and Compose CLIs, tests fake it.

/** The Dockrev container being upgraded, as Docker reports it now. */
export interface TargetContainer {
  id: string;
  name: string;
  running: boolean;
  /** The reference it was created from (`Config.Image`), e.g. `ghcr.io/ivanli-cn/dockrev:0.8.0`. */
  imageRef: string;
  /** The image id it runs (`sha256:…`). */
  imageId: string;
  /** Digest of that image in the target repository, when the image came from a registry. */
  repoDigest?: string;
}

/** Where operation lines go (the state's log). */
export type OperationLog = (level: 'INFO' | 'WARN' | 'ERROR', message: string) => Promise<void>;

export interface TargetRuntime {
  /** The target container now; throws a message for the log when it cannot be found. */
  resolve(): Promise<TargetContainer>;
  /** Pulls an image reference; throws when the pull fails. */
  pull(ref: string, log: OperationLog): Promise<void>;
  /** Recreates the target from `imageRef` (Compose, with an override pinning the image). */
  recreate(imageRef: string, log: OperationLog): Promise<void>;
  /** Resolves once the target answers its health check; throws after `timeoutMs`. */
  waitHealthy(timeoutMs: number): Promise<void>;
  /** The version the target reports (`GET /api/version`). */
  version(): Promise<string>;
}

/** `<repo>@<digest>` when a digest is given, else `<repo>:<tag>`. */
export function targetImageRef(repo: string, target: { tag: string; digest?: string }): string {
  return target.digest ? `${repo}@${target.digest}` : `${repo}:${target.tag}`;
}

/**
 * The image to roll back to: the previous digest in the target repository when known, a plain
 * tag in that repository, or a full reference as it was recorded; none when nothing is known.
 */
export function rollbackImageRef(repo: string, previous: { tag: string; digest?: string }, unknown: string): string | undefined {
  if (previous.digest) return `${repo}@${previous.digest}`;
  if (previous.tag === unknown || previous.tag === '') return undefined;
  return /[/:@]/.test(previous.tag) ? previous.tag : `${repo}:${previous.tag}`;
}
