// Compile-time promises of the contract, proved by the compiler: each line under an
// expect-error mark must fail to compile. Should the handler types ever degrade to `any`, the
// marks become unused and the build fails. Nothing here runs.
import type { operations } from '../generated/dockrev.js';
import type { AppDeps } from '../http/deps.js';
import type { HandlerMap } from '../http/handler-types.js';
import { notImplementedFor } from '../http/not-implemented.js';
import { handlers } from './index.js';

// A status the spec does not document for the operation.
// @ts-expect-error getHealth documents 200 (and 500), not 418
export const undocumentedStatus: HandlerMap['getHealth'] = async () => ({ status: 418, body: 'ok' });

// A body that does not fit the documented schema.
// @ts-expect-error getVersion's 200 body is { version }
export const wrongBody: HandlerMap['getVersion'] = async () => ({ status: 200, body: { release: '1.0.0' } });

// A handler map without one of the contract's operations.
const { createStack: _left, ...withoutCreateStack } = handlers;
// @ts-expect-error createStack is missing
export const missingOperation: HandlerMap = withoutCreateStack;

// A 501 for an operation whose spec documents none.
const anyOperation = notImplementedFor<operations, keyof operations, AppDeps>();
// @ts-expect-error getHealth documents no 501
export const undocumented501 = anyOperation('getHealth');

// And the valid form compiles, so the marks above fail for the reason they name. (No operation
// documents a 501 any more, so the 501 mark has no positive twin.)
export const documentedStatus: HandlerMap['getHealth'] = async () => ({ status: 200, body: 'ok' });
