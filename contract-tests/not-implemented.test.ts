import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handlers } from '../src/handlers/index.js';
import { NOT_IMPLEMENTED } from '../src/handlers/not-implemented.js';
import { SUPERVISOR_NOT_IMPLEMENTED, supervisorHandlers } from '../src/supervisor/handlers.js';
import { loadContract } from './contract.js';

// The 501 list in code and the 501 responses in the spec must agree, so that building an
// operation means removing it from both and nothing answers 501 by accident.
for (const [name, list, handlerMap] of [
  ['dockrev', NOT_IMPLEMENTED, handlers],
  ['supervisor', SUPERVISOR_NOT_IMPLEMENTED, supervisorHandlers],
] as const) {
  describe(`${name}: not-implemented operations`, () => {
    const contract = loadContract(name);

    it('has a handler for every operation and an operation for every handler', () => {
      assert.deepEqual(Object.keys(handlerMap).sort(), [...contract.operations.keys()].sort());
    });

    it('documents 501 exactly on the operations listed as not implemented', () => {
      const documented = [...contract.operations.values()].filter((op) => '501' in op.responses).map((op) => op.operationId);
      assert.deepEqual(documented.sort(), [...list].sort());
    });
  });
}

describe('operation count', () => {
  it('is the 56 API routes, the notification and GitHub delivery lists, the 9 registry webhook operations, readiness, metrics, the served document and its docs page, and the 8 supervisor routes (its document included)', () => {
    assert.equal(loadContract('dockrev').operations.size, 71);
    assert.equal(loadContract('supervisor').operations.size, 8);
  });
});
