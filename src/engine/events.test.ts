import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { EngineEvents, pendingEvent, type DiscoveryFinishedEvent } from './events.js';

const scan = { startedAt: '2026-12-01T00:00:00.000Z', durationMs: 1, summary: { projectsSeen: 0, stacksCreated: 0, stacksUpdated: 0, stacksSkipped: 0, stacksFailed: 0, stacksMarkedMissing: 0 }, actions: [] };

describe('EngineEvents', () => {
  it('delivers after the publisher has moved on, to every subscriber of the name', async () => {
    const events = new EngineEvents();
    const seen: string[] = [];
    events.on('discovery.finished', (event) => void seen.push(`a:${event.jobId}`));
    events.on('discovery.finished', (event) => void seen.push(`b:${event.jobId}`));
    events.on('job.finished', () => void seen.push('other'));
    events.publish('discovery.finished', { jobId: 'dsc_1', scan });
    assert.deepEqual(seen, [], 'nothing runs inside publish');
    await events.drain();
    assert.deepEqual(seen, ['a:dsc_1', 'b:dsc_1']);
  });

  it('logs a subscriber that throws or rejects and still delivers to the others', async () => {
    const warnings: unknown[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const events = new EngineEvents(logger);
    const seen: Readonly<DiscoveryFinishedEvent>[] = [];
    events.on('discovery.finished', () => {
      throw new Error('sync failure');
    });
    events.on('discovery.finished', async () => {
      throw new Error('async failure');
    });
    events.on('discovery.finished', (event) => void seen.push(event));
    events.publishAll([pendingEvent('discovery.finished', { scan })]);
    await events.drain();
    assert.equal(seen.length, 1);
    assert.equal(warnings.length, 2);
    assert.ok(warnings.every((line) => (line as { msg: string }).msg === 'engine event subscriber failed'));
  });

  it('stops delivering to a subscriber that unsubscribed, and resolves next() on the first match', async () => {
    const events = new EngineEvents();
    let calls = 0;
    const off = events.on('discovery.finished', () => void calls++);
    off();
    const second = events.next('discovery.finished', (event) => event.jobId === 'dsc_2');
    events.publish('discovery.finished', { jobId: 'dsc_1', scan });
    events.publish('discovery.finished', { jobId: 'dsc_2', scan });
    assert.equal((await second).jobId, 'dsc_2');
    await events.drain();
    assert.equal(calls, 0);
  });
});
