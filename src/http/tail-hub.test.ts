import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStreamWriter } from './handler-types.js';
import type { StreamFrame } from './sse.js';
import { TailHub } from './tail-hub.js';

const QUICK_MS = 500;

function recordingWriter(t: TestContext) {
  const frames: { id?: number; event: string }[] = [];
  const listeners: (() => void)[] = [];
  let closed = false;
  const writer: EventStreamWriter = {
    event: (frame) => void frames.push({ id: frame.id, event: frame.event }),
    comment: () => undefined,
    get closed() {
      return closed;
    },
    onClose: (listener) => (closed ? listener() : void listeners.push(listener)),
  };
  const close = () => {
    if (closed) return;
    closed = true;
    for (const listener of listeners) listener();
  };
  t.after(close);
  return { writer, frames, close };
}

/** Rows in memory, counted reads, a wake the test fires, and a switch that makes reads fail. */
function hubOver(rows: StreamFrame[], pollMs = 60_000) {
  const wakes = new Set<() => void>();
  const state = { reads: 0, failing: false, subscribed: 0 };
  const hub = new TailHub({
    read: async (cursor, limit) => {
      state.reads += 1;
      if (state.failing) throw new Error('database gone');
      return rows.filter((row) => row.id > cursor).slice(0, limit);
    },
    tail: async () => rows[rows.length - 1]?.id ?? 0,
    wake: (onWake) => {
      state.subscribed += 1;
      wakes.add(onWake);
      return () => {
        state.subscribed -= 1;
        wakes.delete(onWake);
      };
    },
    errorFrame: (error) => ({ event: 'job_events_error', data: String(error) }),
    pollMs,
    batchSize: 3,
  });
  const add = (id: number) => {
    rows.push({ id, event: 'job_event', data: { id } });
    for (const wake of wakes) wake();
  };
  return { hub, state, add };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > QUICK_MS) assert.fail(`${what}: not within ${QUICK_MS} ms`);
    await sleep(1);
  }
}

const ids = (frames: { id?: number }[]) => frames.map((frame) => frame.id);

describe('TailHub', () => {
  it('gives every subscriber each row once and in order, a resuming one its backlog first, in one read per batch', async (t) => {
    const rows = [1, 2, 3, 4, 5].map((id): StreamFrame => ({ id, event: 'job_event', data: { id } }));
    const { hub, state, add } = hubOver(rows);
    const atTail = Array.from({ length: 50 }, () => recordingWriter(t));
    const resuming = recordingWriter(t);
    const runs = atTail.map(({ writer }) => hub.subscribe(5).run(writer));
    runs.push(hub.subscribe(1).run(resuming.writer));
    await until(() => ids(resuming.frames).length === 4, 'the backlog of the resuming subscriber');
    const before = state.reads;
    add(6);
    add(7);
    await until(() => atTail.every(({ frames }) => frames.length === 2) && resuming.frames.length === 6, 'the new rows everywhere');
    assert.ok(state.reads - before <= 2, `${state.reads - before} reads for 2 rows and 51 subscribers`);
    for (const { frames } of atTail) assert.deepEqual(ids(frames), [6, 7]);
    assert.deepEqual(ids(resuming.frames), [2, 3, 4, 5, 6, 7]);
    for (const { close } of [...atTail, resuming]) close();
    await Promise.all(runs);
    assert.equal(state.subscribed, 0, 'the last one to leave unsubscribes the hub');
  });

  it('still polls for rows nobody announces (another instance appended them)', async (t) => {
    const rows: StreamFrame[] = [];
    const { hub } = hubOver(rows, 20);
    const { writer, frames, close } = recordingWriter(t);
    const run = hub.subscribe(0).run(writer);
    await sleep(30);
    rows.push({ id: 1, event: 'job_event', data: {} });
    await until(() => frames.length === 1, 'the polled row');
    close();
    await run;
  });

  it('sends every member the error frame and ends them when a read fails', async (t) => {
    const rows: StreamFrame[] = [];
    const { hub, state, add } = hubOver(rows);
    const members = [recordingWriter(t), recordingWriter(t)];
    const runs = members.map(({ writer }) => hub.subscribe(0).run(writer));
    await sleep(10);
    state.failing = true;
    add(1);
    await until(() => members.every(({ frames }) => frames.length === 1), 'the error frames');
    await Promise.all(runs);
    for (const { frames } of members) assert.deepEqual(frames, [{ id: undefined, event: 'job_events_error' }]);
  });
});
