import { notFound } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import { pollingStream, resumeCursor, type StreamFrame } from '../http/sse.js';
import { TailHub } from '../http/tail-hub.js';
import type { JobLog, Store } from '../store/index.js';
import { jobDetailView, jobListItemView } from './views.js';
import { decodeJobEvent, jobLogEvent } from '../engine/jobs/event-codec.js';
import { errorText } from '../errors.js';

/** All jobs' structured events, each as `job_event`. */
function allJobsFrame(log: JobLog): StreamFrame {
  const event = decodeJobEvent(log);
  const data = event ? { jobId: log.jobId, ts: log.ts, ...event } : { type: 'job_event', jobId: log.jobId, ts: log.ts, raw: log.msg };
  return { id: log.id, event: 'job_event', data };
}

/** One job's rows: plain logs as `job_log`, structured events under their own type. */
function oneJobFrame(log: JobLog): StreamFrame {
  const { event, data } = jobLogEvent(log);
  return { id: log.id, event, data, final: event === 'job_finished' };
}

function errorFrame(error: unknown) {
  return { event: 'job_events_error', data: { type: 'job_events_error', error: errorText(error) } };
}

/** The all-jobs stream's tail reader, shared by its subscribers: one per store (per app). */
const allJobsHubs = new WeakMap<Store['jobs'], TailHub>();

function allJobsHub(jobs: Store['jobs']): TailHub {
  let hub = allJobsHubs.get(jobs);
  if (!hub) {
    hub = new TailHub({
      read: async (cursor, limit) => (await jobs.listEventLogsAfter(cursor, limit)).map(allJobsFrame),
      tail: () => jobs.globalLastLogId(),
      // Only event rows are on this stream; the others would wake it for an empty read.
      wake: (onWake) => jobs.onLogAppended((_jobId, _logId, level) => (level === 'event' ? onWake() : undefined)),
      errorFrame,
    });
    allJobsHubs.set(jobs, hub);
  }
  return hub;
}

/**
 * Once the stored rows are read: a job that is over without a `job_finished` row of its own (it
 * was ended at a restart or by the reconciler) still ends its stream with one, without an id.
 */
async function finishedFrame(store: Store, jobId: string): Promise<{ event: string; data: unknown } | false> {
  const job = await store.jobs.get(jobId);
  if (job && (job.status === 'running' || job.status === 'queued')) return false;
  const finishedAt = job?.finishedAt ?? job?.updatedAt ?? new Date().toISOString();
  const status = job?.status ?? 'failed';
  return { event: 'job_finished', data: { type: 'job_finished', jobId, ts: finishedAt, status, jobType: job?.type, finishedAt } };
}

type JobHandlers = Pick<HandlerMap, 'listJobs' | 'getJob' | 'streamJobEvents' | 'streamJobEventsById'>;

export const jobsHandlers: JobHandlers = {
  listJobs: async ({ query, deps }) => {
    const page = await deps.store.jobs.list({
      limit: query.limit ?? 100,
      cursor: query.cursor,
      types: query.type
        ?.split(',')
        .map((type) => type.trim())
        .filter(Boolean),
      status: query.status,
      stackId: query.stackId,
      serviceId: query.serviceId,
    });
    const body: { jobs: ReturnType<typeof jobListItemView>[]; nextCursor?: string } = { jobs: page.jobs.map(jobListItemView) };
    if (page.nextCursor) body.nextCursor = page.nextCursor;
    return { status: 200, body };
  },

  getJob: async ({ params, deps }) => {
    const job = await deps.store.jobs.get(params.jobId);
    if (!job) return notFound('job not found');
    const logs: JobLog[] = [];
    for (let afterId = 0; ; ) {
      const batch = await deps.store.jobs.listLogs(job.id, afterId);
      logs.push(...batch);
      if (batch.length === 0) break;
      afterId = batch[batch.length - 1]!.id;
    }
    const logsLastId = logs.length > 0 ? logs[logs.length - 1]!.id : 0;
    return { status: 200, body: { job: jobDetailView(job, logs, logsLastId) } };
  },

  streamJobEvents: async ({ query, headers, deps }) => {
    const requested = resumeCursor(query.afterId, headers['last-event-id']);
    // Without a cursor the stream starts at the tail: live events only, no replay.
    const startCursor = requested > 0 ? requested : await deps.store.jobs.globalLastLogId();
    return { status: 200, body: allJobsHub(deps.store.jobs).subscribe(startCursor) };
  },

  streamJobEventsById: async ({ params, query, headers, deps }) => {
    const job = await deps.store.jobs.get(params.jobId);
    if (!job) return notFound('job not found');
    return {
      status: 200,
      body: pollingStream({
        startCursor: resumeCursor(query.afterId, headers['last-event-id']),
        read: async (cursor, limit) => (await deps.store.jobs.listLogs(job.id, cursor, limit)).map(oneJobFrame),
        wake: (onWake) =>
          deps.store.jobs.onLogAppended((jobId) => {
            if (jobId === job.id) onWake();
          }),
        shouldClose: () => finishedFrame(deps.store, job.id),
        errorFrame,
      }),
    };
  },
};
