import type { operations } from '../generated/dockrev.js';
import type { AppDeps } from '../http/deps.js';
import type { OperationId } from '../http/handler-types.js';
import { notImplementedFor } from '../http/not-implemented.js';

/**
 * Operations that are in the contract but not built yet. Each documents a 501 response, and the
 * contract tests fail when this list and the spec's 501s disagree, so the list only shrinks.
 */
export const NOT_IMPLEMENTED = [
] as const satisfies readonly OperationId[];

/** A handler answering 501; only compiles for operations whose spec documents the 501. */
export const notImplemented = notImplementedFor<operations, (typeof NOT_IMPLEMENTED)[number], AppDeps>();
