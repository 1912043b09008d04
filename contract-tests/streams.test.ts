import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../src/ids.js';
import { contract, recordCoverage, startApi, type Api } from './harness.js';
import { openSse, type SseConnection } from './sse-client.js';

function checkFrames(operationId: string, frames: SseConnection['frames']) {
  assert.deepEqual(contract.checkFrames(operationId, frames), []);
}

const progressRow = (jobId: string, fields: Record<string, unknown> = {}) => {
  const ts = new Date().toISOString();
  return JSON.stringify({ type: 'job_progress', jobId, ts, phase: 'scanning', message: 'checking services (1/2)', current: 1, total: 2, percent: 50, plannedCurrent: 2, plannedTotal: 2, plannedPercent: 100, updatedAt: ts, ...fields });
};

function checkStreamAnswer(operationId: string, connection: SseConnection) {
  recordCoverage('dockrev', operationId, connection.status);
  const body = connection.headers['content-type']?.startsWith('application/json') ? JSON.parse(connection.body || '{}') : connection.body;
  assert.deepEqual(contract.checkResponse(operationId, connection.status, connection.headers['content-type'], body), []);
  if (connection.status === 200) {
    assert.equal(connection.headers['cache-control'], 'no-cache');
    assert.equal(connection.headers['x-accel-buffering'], 'no');
    assert.equal(connection.comments[0], 'keep-alive', 'the first frame is a keep-alive comment');
  }
}

describe('job event streams (SSE)', () => {
  let api: Api;
  let baseUrl: string;
  const auth = { 'X-Forwarded-User': 'ops' };
  before(async () => {
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops' } });
    baseUrl = await api.listen();
  });
  after(() => api.close());

  async function seedJob(status: 'running' | 'success') {
    const id = newId('chk');
    await api.store.jobs.create({ id, type: 'check', scope: 'all', status, createdBy: 'ops', reason: 'ui' });
    const ids = [
      await api.store.jobs.appendLog(id, 'info', 'check started'),
      await api.store.jobs.appendLog(id, 'event', progressRow(id)),
      await api.store.jobs.appendLog(id, 'info', 'check finished'),
    ];
    return { id, ids };
  }

  it('replays one job from the start, names events by type, and ends at once with job_finished when the job is over', async () => {
    const { id, ids } = await seedJob('success');
    const started = Date.now();
    const stream = await openSse(baseUrl, `/api/jobs/${id}/events`, auth);
    await stream.ended;
    checkStreamAnswer('streamJobEventsById', stream);
    checkFrames('streamJobEventsById', stream.frames);
    assert.deepEqual(stream.frames.map((frame) => [frame.id, frame.event]), [
      [ids[0], 'job_log'],
      [ids[1], 'job_progress'],
      [ids[2], 'job_log'],
      // Seeded without a row of its own: the stream still ends on one (without an id).
      [undefined, 'job_finished'],
    ]);
    assert.deepEqual(stream.frames[0]!.data, { type: 'job_log', jobId: id, ts: stream.frames[0]!.data.ts, level: 'info', msg: 'check started' });
    const progress = stream.frames[1]!.data;
    for (const field of ['plannedCurrent', 'plannedTotal', 'plannedPercent']) assert.equal(typeof progress[field], 'number', field);
    assert.deepEqual([stream.frames[3]!.data.status, stream.frames[3]!.data.jobType], ['success', 'check']);
    assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms, not after an idle wait`);
  });

  it('ends a live job\'s stream on the job_finished the runner writes', async () => {
    let finish!: () => void;
    const job = await api.engine.jobs.start(
      { prefix: 'chk', type: 'check', scope: 'all', createdBy: 'ops', reason: 'ui', startMessage: 'check started', failureMessage: 'check failed' },
      () => new Promise((resolve) => (finish = () => resolve({ summary: { servicesChecked: 0 } }))),
    );
    const stream = await openSse(baseUrl, `/api/jobs/${job.id}/events`, auth);
    await stream.waitFor(1);
    const started = Date.now();
    finish();
    await stream.ended;
    checkFrames('streamJobEventsById', stream.frames);
    const last = stream.frames.at(-1)!;
    assert.equal(last.event, 'job_finished');
    assert.equal(typeof last.id, 'number', 'the runner\'s own row, resumable by id');
    assert.deepEqual([last.data.jobId, last.data.status, last.data.jobType], [job.id, 'success', 'check']);
    assert.ok(Date.now() - started < 2000, `closed ${Date.now() - started} ms after the job ended`);
  });

  it('resumes after Last-Event-ID or afterId, whichever is larger', async () => {
    const { id, ids } = await seedJob('running');
    const byHeader = await openSse(baseUrl, `/api/jobs/${id}/events`, { ...auth, 'Last-Event-ID': String(ids[0]) });
    assert.deepEqual((await byHeader.waitFor(2)).map((frame) => frame.id), [ids[1], ids[2]]);
    byHeader.close();
    const byMax = await openSse(baseUrl, `/api/jobs/${id}/events?afterId=${ids[1]}`, { ...auth, 'Last-Event-ID': String(ids[0]) });
    assert.deepEqual((await byMax.waitFor(1)).map((frame) => frame.id), [ids[2]]);
    // A row written while the client listens arrives live.
    const late = await api.store.jobs.appendLog(id, 'warn', 'late line');
    const frames = await byMax.waitFor(2);
    checkFrames('streamJobEventsById', frames);
    assert.deepEqual(frames.map((frame) => [frame.id, frame.event, frame.data.msg]), [
      [ids[2], 'job_log', 'check finished'],
      [late, 'job_log', 'late line'],
    ]);
    byMax.close();
  });

  it('answers 404 for an unknown job and 401 without identity, before streaming', async () => {
    const missing = await openSse(baseUrl, '/api/jobs/job_unknown/events', auth);
    await missing.ended;
    checkStreamAnswer('streamJobEventsById', missing);
    assert.equal(missing.status, 404);
    const anonymous = await openSse(baseUrl, '/api/jobs/events');
    await anonymous.ended;
    checkStreamAnswer('streamJobEvents', anonymous);
    assert.equal(anonymous.status, 401);
  });

  it('streams all jobs’ structured events from the tail, or from a cursor', async () => {
    const before = await seedJob('running');
    const live = await openSse(baseUrl, '/api/jobs/events', auth);
    checkStreamAnswer('streamJobEvents', live);
    const other = newId('dsc');
    await api.store.jobs.create({ id: other, type: 'discovery', scope: 'all', status: 'running', createdBy: 'ops', reason: 'ui' });
    await api.store.jobs.appendLog(other, 'info', 'not an event');
    const eventId = await api.store.jobs.appendLog(other, 'event', progressRow(other, { jobId: undefined }));
    const rawId = await api.store.jobs.appendLog(other, 'event', 'not json');
    const frames = await live.waitFor(2);
    live.close();
    checkFrames('streamJobEvents', frames);
    assert.deepEqual(frames.map((frame) => [frame.id, frame.event]), [
      [eventId, 'job_event'],
      [rawId, 'job_event'],
    ], 'no replay of older events, no plain log rows');
    assert.equal(frames[0]!.data.jobId, other, 'jobId is added when the stored event lacks it');
    assert.equal(frames[0]!.data.type, 'job_progress');
    assert.deepEqual(frames[1]!.data, { type: 'job_event', jobId: other, ts: frames[1]!.data.ts, raw: 'not json' });

    const replay = await openSse(baseUrl, `/api/jobs/events?afterId=${before.ids[0]}`, auth);
    const replayed = await replay.waitFor(3);
    replay.close();
    assert.deepEqual(replayed.map((frame) => frame.id), [before.ids[1], eventId, rawId]);
  });

  it('delivers rows this process appends at once, not at the next poll', async (t) => {
    const { id, ids } = await seedJob('running');
    const oneJob = await openSse(baseUrl, `/api/jobs/${id}/events`, auth);
    const allJobs = await openSse(baseUrl, '/api/jobs/events', auth);
    assert.equal((await oneJob.waitFor(ids.length)).length, ids.length);
    // Each row is appended 50 ms after the stream delivered the previous one from a read, so a
    // stream that only polled (every 250 ms here, the default) would show it about 200 ms later.
    const latencies: { oneJob: number[]; allJobs: number[] } = { oneJob: [], allJobs: [] };
    const arrival = (stream: SseConnection, count: number, started: number) =>
      stream.waitFor(count, 2000).then((frames) => ({ frames, ms: performance.now() - started }));
    for (let i = 1; i <= 10; i += 1) {
      await sleep(50);
      const started = performance.now();
      const logId = await api.store.jobs.appendLog(id, 'event', progressRow(id, { current: i }));
      const [one, all] = await Promise.all([arrival(oneJob, ids.length + i, started), arrival(allJobs, i, started)]);
      assert.equal(one.frames.at(-1)?.id, logId);
      assert.equal(all.frames.at(-1)?.id, logId);
      latencies.oneJob.push(one.ms);
      latencies.allJobs.push(all.ms);
    }
    oneJob.close();
    allJobs.close();
    checkFrames('streamJobEventsById', oneJob.frames);
    checkFrames('streamJobEvents', allJobs.frames);
    for (const [stream, values] of Object.entries(latencies)) {
      const sorted = [...values].sort((a, b) => a - b);
      t.diagnostic(`${stream}: appendLog to frame ${sorted[0]!.toFixed(1)}–${sorted.at(-1)!.toFixed(1)} ms, median ${sorted[sorted.length >> 1]!.toFixed(1)} ms`);
      assert.ok(sorted.at(-1)! < 125, `${stream}: every frame well before the next poll (${sorted.map((ms) => ms.toFixed(0)).join(', ')} ms)`);
    }
  });

  it('rejects a malformed Last-Event-ID', async () => {
    const response = await openSse(baseUrl, '/api/jobs/events', { ...auth, 'Last-Event-ID': 'yesterday' });
    await response.ended;
    checkStreamAnswer('streamJobEvents', response);
    assert.equal(response.status, 400);
  });
});
