import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inferState, operationsOf, trimLogs } from './history.js';
import { idleState, type LogLine } from './state.js';

const line = (n: number, msg: string, opId?: string, level: LogLine['level'] = 'INFO'): LogLine => ({
  ts: `2026-03-05T08:00:${String(n).padStart(2, '0')}.000Z`,
  level,
  msg,
  ...(opId ? { opId } : {}),
});

describe('operations history', () => {
  it('infers each finished operation from its last marker', () => {
    assert.equal(inferState([line(1, 'self-upgrade requested'), line(2, 'succeeded')]), 'succeeded');
    assert.equal(inferState([line(1, 'dry-run done')]), 'succeeded');
    assert.equal(inferState([line(1, 'succeeded'), line(2, 'failed: boom', undefined, 'ERROR')]), 'failed');
    assert.equal(inferState([line(1, 'failed: boom', undefined, 'ERROR'), line(2, 'rolled back', undefined, 'WARN')]), 'rolled_back');
    assert.equal(inferState([line(1, 'self-upgrade requested')]), 'unknown');
  });

  it('lists operations newest first, the current one with its live state', () => {
    const state = {
      ...idleState(),
      state: 'running' as const,
      opId: 'sup_B',
      logs: [line(1, 'self-upgrade requested', 'sup_A'), line(2, 'succeeded', 'sup_A'), line(3, 'self-upgrade requested', 'sup_B')],
    };
    const operations = operationsOf(state);
    assert.deepEqual(operations.map((op) => [op.opId, op.state]), [['sup_B', 'running'], ['sup_A', 'succeeded']]);
    assert.equal(operations[1]!.startedAt, line(1, '').ts);
    assert.equal(operations[1]!.updatedAt, line(2, '').ts);
  });

  it('groups legacy lines without an opId at each request line', () => {
    const logs = [line(1, 'self-upgrade requested'), line(2, 'succeeded'), line(3, 'self-upgrade requested'), line(4, 'x', undefined, 'ERROR')];
    const operations = operationsOf({ ...idleState(), logs });
    assert.deepEqual(operations.map((op) => [op.opId, op.state]), [
      ['legacy-2026_03_05t08_00_03_000z', 'failed'],
      ['legacy-2026_03_05t08_00_01_000z', 'succeeded'],
    ]);
  });

  it('keeps the lines of the 30 most recent operations only', () => {
    const logs = Array.from({ length: 35 }, (_, i) => [line(i, 'self-upgrade requested', `sup_${i}`), line(i, 'succeeded', `sup_${i}`)]).flat();
    const kept = trimLogs(logs);
    assert.equal(kept.length, 60);
    assert.equal(kept[0]!.opId, 'sup_5');
    assert.equal(operationsOf({ ...idleState(), logs }).length, 30);
  });
});
