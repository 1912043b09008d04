// The one place where the self-upgrade engine's refusals become HTTP statuses.
import type { UpgradeFailureKind } from './upgrade.js';

const STATUS = { invalid_argument: 400, conflict: 409 } as const satisfies Record<UpgradeFailureKind, number>;

/** The documented status and error envelope (the supervisor's details are always empty). */
export function refusal<K extends UpgradeFailureKind>(failure: { kind: K; message: string }) {
  return {
    status: STATUS[failure.kind] as (typeof STATUS)[K],
    body: { error: { code: failure.kind, message: failure.message, details: {} } },
  };
}
