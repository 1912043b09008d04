import type { Handler } from './handler-types.js';
import { envelope } from './errors.js';

type ResponsesOf<Op> = Op extends { responses: infer R } ? R : never;

/**
 * The 501 handler of a contract (`Operations` is a generated `operations` type) for operations
 * in `Listed`; it compiles only for an operation whose spec documents the 501.
 */
export function notImplementedFor<Operations, Listed extends keyof Operations, Deps>() {
  return <K extends Listed>(operationId: K & (501 extends keyof ResponsesOf<Operations[K]> ? K : never)): Handler<Operations[K], Deps> => {
    const handler = async () => ({
      status: 501 as const,
      body: envelope('not_implemented', `${String(operationId)} is not implemented yet`, { operationId }),
    });
    return handler as unknown as Handler<Operations[K], Deps>;
  };
}
