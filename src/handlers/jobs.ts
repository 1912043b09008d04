import { notFound } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import { pollingStream, resumeCursor, type StreamFrame } from '../http/sse.js';
import { TailHub } from '../http/tail-hub.js';
import type { JobLog, Store } from '../store/index.js';
import { jobDetailView, jobListItemView } from './views.js';
import { decodeJobEvent, jobLogEvent } from '../engine/jobs/event-codec.js';
import { errorText } from '../errors.js';

/** An idle, finished job's stream closes after this many empty polls (about 5 s). */
const IDLE_POLLS_BEFORE_CLOSE = 20;

/** All jobs' structured events, each as `job_event`. */
function allJobsFrame(log: JobLog): StreamFrame {
  const event = decodeJobEvent(log);
  const data = event ? { jobId: log.jobId, ts: log.ts, ...event } : { type: 'job_event', jobId: log.jobId, ts: log.ts, raw: log.msg };
  return { id: log.id, event: 'job_event', data };
}

/** One job's rows: plain logs as `job_log`, structured events under their own type. */
function oneJobFrame(log: JobLog): StreamFrame {
  const { event, data } = jobLogEvent(log);
  return { id: log.id, event, data, final: event === 'runtime_scan_finished' };
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

async function jobIsOver(store: Store, jobId: string): Promise<boolean> {
  const job = await store.jobs.get(jobId);
  return !job || (job.status !== 'running' && job.status !== 'queued');
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
        wake: (onWake) => {
          const offLogs = deps.store.jobs.onLogAppended((jobId) => {
            if (jobId === job.id) onWake();
          });
          // The end of the job is read at once, so the idle countdown to closing starts there.
          const offFinished = deps.engine.events.on('job.finished', (event) => {
            if (event.jobId === job.id) onWake();
          });
          return () => {
            offLogs();
            offFinished();
          };
        },
        shouldClose: async (idlePolls) => idlePolls >= IDLE_POLLS_BEFORE_CLOSE && (await jobIsOver(deps.store, job.id)),
        errorFrame,
      }),
    };
  },
};
