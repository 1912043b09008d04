import { envelope, notFound } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import { InvalidJobsCursorError, type JobLog } from '../store/index.js';
import { notImplemented } from './not-implemented.js';
import { jobDetailView, jobListItemView } from './views.js';

type JobHandlers = Pick<HandlerMap, 'listJobs' | 'getJob' | 'streamJobEvents' | 'streamJobEventsById'>;

export const jobsHandlers: JobHandlers = {
  listJobs: async ({ query, deps }) => {
    try {
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
    } catch (error) {
      if (error instanceof InvalidJobsCursorError) {
        return { status: 400, body: envelope('invalid_jobs_cursor', 'invalid jobs cursor') };
      }
      throw error;
    }
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

  streamJobEvents: notImplemented('streamJobEvents'),
  streamJobEventsById: notImplemented('streamJobEventsById'),
};
