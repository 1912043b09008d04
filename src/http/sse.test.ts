import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStreamWriter } from './handler-types.js';
import { pollingStream, type PollingStreamOptions, type StreamFrame } from './sse.js';

/** Far longer than any test waits: a frame that arrives in time was not brought by a poll. */
const SLOW_POLL_MS = 10_000;
const QUICK_MS = 200;

/** A writer like the server's, recording what the stream sends; closed when the test ends, pass or fail. */
function recordingWriter(t: TestContext) {
  const frames: { id?: number; event: string }[] = [];
  const frameTimes: number[] = [];
  const closeListeners: (() => void)[] = [];
  let closed = false;
  const writer: EventStreamWriter = {
    event(frame) {
      frames.push({ id: frame.id, event: frame.event });
      frameTimes.push(performance.now());
    },
    comment: () => undefined,
    get closed() {
      return closed;
    },
    onClose(listener) {
      if (closed) listener();
      else closeListeners.push(listener);
    },
  };
  const close = () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  };
  t.after(close);
  return { writer, frames, frameTimes, closeListeners, close };
}

/** Rows in memory, a read counter, and wake subscriptions the test can fire. */
function rowSource() {
  const rows: StreamFrame[] = [];
  const wakes = new Set<() => void>();
  const source = {
    rows,
    reads: 0,
    /** Replaces the next read: it starts, then waits for `release` before answering. */
    heldRead: undefined as { started: () => void; release: Promise<void> } | undefined,
    subscriptions: 0,
    unsubscriptions: 0,
    add(id: number) {
      rows.push({ id, event: 'job_log', data: { id } });
    },
    wake() {
      for (const wake of wakes) wake();
    },
    options(overrides: Partial<PollingStreamOptions> = {}): PollingStreamOptions {
      return {
        startCursor: 0,
        read: async (cursor, limit) => {
          source.reads += 1;
          const answer = rows.filter((row) => row.id > cursor).slice(0, limit);
          const held = source.heldRead;
          if (held) {
            source.heldRead = undefined;
            held.started();
            await held.release;
          }
          return answer;
        },
        errorFrame: (error) => ({ event: 'error', data: String(error) }),
        wake: (onWake) => {
          source.subscriptions += 1;
          wakes.add(onWake);
          return () => {
            source.unsubscriptions += 1;
            wakes.delete(onWake);
          };
        },
        pollMs: SLOW_POLL_MS,
        ...overrides,
      };
    },
  };
  return source;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(1);
  }
  return performance.now() - started;
}

describe('pollingStream', () => {
  it('reads at once when woken instead of waiting for the next poll', async (t) => {
    const source = rowSource();
    const { writer, frames, frameTimes, close } = recordingWriter(t);
    const run = pollingStream(source.options()).run(writer);
    await until(() => source.reads === 1, QUICK_MS, 'first read');
    await sleep(30); // past the gap woken reads keep after a read
    source.add(1);
    const wokenAt = performance.now();
    source.wake();
    await until(() => frames.length === 1, QUICK_MS, 'woken frame');
    t.diagnostic(`frame ${(frameTimes[0]! - wokenAt).toFixed(2)} ms after the wake (poll interval ${SLOW_POLL_MS} ms)`);
    assert.deepEqual(frames, [{ id: 1, event: 'job_log' }]);
    close();
    await run;
  });

  it('keeps a wake that comes while a read is running', async (t) => {
    const source = rowSource();
    const { writer, frames, close } = recordingWriter(t);
    let release!: () => void;
    let started!: () => void;
    const readStarted = new Promise<void>((resolve) => (started = resolve));
    source.heldRead = { started, release: new Promise<void>((resolve) => (release = resolve)) };
    const run = pollingStream(source.options()).run(writer);
    await readStarted;
    // The held read has already looked at the rows, so it answers without this one.
    source.add(1);
    source.wake();
    release();
    await until(() => frames.length === 1, QUICK_MS, 'frame of the row woken during the read');
    assert.equal(source.reads, 2);
    close();
    await run;
  });

  it('reads a burst of woken rows in a few reads, not one per row', async (t) => {
    const source = rowSource();
    const { writer, frames } = recordingWriter(t);
    void pollingStream(source.options()).run(writer);
    await until(() => source.reads === 1, QUICK_MS, 'first read');
    const started = performance.now();
    for (let id = 1; id <= 50; id += 1) {
      source.add(id);
      source.wake();
      await new Promise(setImmediate);
    }
    const burstMs = performance.now() - started;
    await until(() => frames.length === 50, QUICK_MS, 'all rows of the burst');
    // Woken reads start at least 5 ms apart; one read per row would be about 50.
    assert.ok(source.reads - 1 <= Math.ceil(burstMs / 5) + 1, `${source.reads - 1} reads for a burst of ${burstMs.toFixed(1)} ms`);
  });

  it('still polls: rows nobody announces arrive after the poll interval', async (t) => {
    const source = rowSource();
    const { writer, frames, close } = recordingWriter(t);
    const run = pollingStream(source.options({ pollMs: 20 })).run(writer);
    await until(() => source.reads === 1, QUICK_MS, 'first read');
    source.add(1);
    await until(() => frames.length === 1, QUICK_MS, 'polled frame');
    close();
    await run;
  });

  it('returns at once and unsubscribes when the client goes', async (t) => {
    const source = rowSource();
    const { writer, close } = recordingWriter(t);
    let ended = false;
    const run = pollingStream(source.options()).run(writer).then(() => (ended = true));
    await until(() => source.reads === 1, QUICK_MS, 'first read');
    assert.deepEqual([source.subscriptions, source.unsubscriptions], [1, 0]);
    close();
    await until(() => ended, QUICK_MS, 'end after the client went');
    await run;
    assert.equal(source.unsubscriptions, 1);
  });

  it('adds one close listener to the writer however many times it waits', async (t) => {
    const source = rowSource();
    const { writer, closeListeners, close } = recordingWriter(t);
    const run = pollingStream(source.options({ pollMs: 1 })).run(writer);
    await until(() => source.reads >= 20, QUICK_MS * 5, 'twenty polls');
    assert.equal(closeListeners.length, 1);
    close();
    await run;
  });

  it('unsubscribes when it ends by itself', async (t) => {
    const source = rowSource();
    const { writer } = recordingWriter(t);
    source.rows.push({ id: 1, event: 'done', data: {}, final: true });
    await pollingStream(source.options()).run(writer);
    const idle = rowSource();
    await pollingStream(idle.options({ pollMs: 1, shouldClose: async (idlePolls) => idlePolls >= 3 })).run(recordingWriter(t).writer);
    assert.deepEqual([source.subscriptions, source.unsubscriptions, idle.subscriptions, idle.unsubscriptions], [1, 1, 1, 1]);
  });
});

