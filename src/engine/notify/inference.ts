// What notifications need from version inference (src/engine/inference/, built elsewhere): a way to
// wait until the snapshots of some digests are settled, so a new-version notification can say
// `1.4.2 -> 1.5.0` instead of `latest -> latest`. The resolved tags are then read from the store.
export interface VersionInferenceSettling {
  /** Resolves when no inference task for these digests is queued or running, or after `timeoutMs`. */
  whenSettled(digests: readonly string[], timeoutMs: number): Promise<void>;
}
