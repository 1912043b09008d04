import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { idleState, parseState, StateFile } from './state.js';

describe('self-upgrade state file', () => {
  let dir: string;
  after(() => rm(dir, { recursive: true, force: true }));

  it('replaces the document whole and leaves no temporary files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dockrev-state-'));
    const file = new StateFile(join(dir, 'nested', 'self-upgrade.json'));
    const writes = Array.from({ length: 20 }, (_, i) => file.save({ ...idleState(), opId: `sup_${i}` }));
    await Promise.all(writes);
    assert.equal(JSON.parse(await readFile(file.path, 'utf8')).opId, 'sup_19', 'the last write wins');
    assert.deepEqual(await readdir(join(dir, 'nested')), ['self-upgrade.json']);
    assert.deepEqual((await file.load()).state.opId, 'sup_19');
  });

  it('rejects documents of another schema or with fields of the wrong type', () => {
    assert.equal(parseState(JSON.stringify({ ...idleState(), schemaVersion: 2 })).ok, false);
    assert.equal(parseState(JSON.stringify({ ...idleState(), state: 'sleeping' })).ok, false);
    assert.equal(parseState(JSON.stringify({ ...idleState(), logs: [{ ts: 1 }] })).ok, false);
    assert.equal(parseState('[]').ok, false);
    const roundTrip = parseState(JSON.stringify({ ...idleState(), request: { mode: 'apply', rollbackOnFailure: false }, extra: 1 }));
    assert.ok(roundTrip.ok);
    assert.deepEqual(roundTrip.state, { ...idleState(), request: { mode: 'apply', rollbackOnFailure: false } });
  });
});
