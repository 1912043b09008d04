// Prometheus metrics (GET /metrics). One registry per app, so that several apps in one process
// (tests) do not share counters. HTTP series come from the transport; everything else from the
// engine's events and the registry client's request hook: nothing on the check or update path
// calls this module.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { EngineEvents } from './engine/events.js';
import type { RegistryRequestEvent } from './engine/registry/http.js';
import type { AnsweredRequest } from './http/server.js';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_SECONDS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];

export class Metrics {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({ name: 'dockrev_http_requests_total', help: 'HTTP requests answered, by operation and status', labelNames: ['operation_id', 'method', 'status'], registers: [this.registry] });
  private readonly httpSeconds = new Histogram({ name: 'dockrev_http_request_duration_seconds', help: 'Time to answer an HTTP request (until the answer is handed to the socket; streams: until they open)', labelNames: ['operation_id', 'method', 'status'], buckets: SECONDS, registers: [this.registry] });
  private readonly jobsFinished = new Counter({ name: 'dockrev_jobs_finished_total', help: 'Finished jobs by type and result', labelNames: ['type', 'status'], registers: [this.registry] });
  private readonly jobSeconds = new Histogram({ name: 'dockrev_job_duration_seconds', help: 'Job run time, creation to end, by type and result', labelNames: ['type', 'status'], buckets: JOB_SECONDS, registers: [this.registry] });
  private readonly checkSeconds = new Histogram({ name: 'dockrev_check_duration_seconds', help: 'Registry check run time by scope and result', labelNames: ['scope', 'status'], buckets: JOB_SECONDS, registers: [this.registry] });
  private readonly registryRequests = new Counter({ name: 'dockrev_registry_requests_total', help: 'Registry requests by host, kind, method and status (0: no answer)', labelNames: ['host', 'kind', 'method', 'status'], registers: [this.registry] });
  private readonly registrySeconds = new Histogram({ name: 'dockrev_registry_request_duration_seconds', help: 'Registry request time by host and kind', labelNames: ['host', 'kind'], buckets: SECONDS, registers: [this.registry] });
  private readonly updates = new Counter({ name: 'dockrev_updates_total', help: 'Finished update jobs by mode and result', labelNames: ['mode', 'status'], registers: [this.registry] });
  private readonly updatedServices = new Counter({ name: 'dockrev_update_services_total', help: 'Services an update changed, rolled back or failed', labelNames: ['outcome'], registers: [this.registry] });
  private readonly notifications = new Counter({ name: 'dockrev_notification_deliveries_total', help: 'Notification send attempts by channel, kind and result (pending: a retry follows)', labelNames: ['channel', 'kind', 'status'], registers: [this.registry] });

  constructor({ processMetrics = true }: { processMetrics?: boolean } = {}) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'dockrev_' });
  }

  /** For the transport's `onAnswered`. */
  readonly answered = (request: AnsweredRequest): void => {
    const labels = { operation_id: request.operationId ?? 'unmatched', method: request.method, status: String(request.status) };
    this.httpRequests.inc(labels);
    this.httpSeconds.observe(labels, request.seconds);
  };

  /** For the registry client's `onRequest`. */
  readonly registryRequest = (event: RegistryRequestEvent): void => {
    this.registryRequests.inc({ host: event.host, kind: event.kind, method: event.method, status: String(event.status) });
    this.registrySeconds.observe({ host: event.host, kind: event.kind }, event.ms / 1000);
  };

  subscribe(events: EngineEvents): void {
    events.on('job.finished', (job) => {
      const seconds = Math.max(0, (Date.parse(job.finishedAt) - Date.parse(job.createdAt)) / 1000);
      this.jobsFinished.inc({ type: job.type, status: job.status });
      this.jobSeconds.observe({ type: job.type, status: job.status }, seconds);
      if (job.type === 'check') this.checkSeconds.observe({ scope: job.scope, status: job.status }, seconds);
    });
    events.on('update.finished', (update) => {
      this.updates.inc({ mode: update.mode, status: update.status });
      for (const stack of update.stacks) {
        for (const [outcome, services] of [['changed', stack.changed], ['rolled_back', stack.rolledBack], ['failed', stack.failed]] as const) {
          if (services.length > 0) this.updatedServices.inc({ outcome }, services.length);
        }
      }
    });
    events.on('notification.attempted', (attempt) => this.notifications.inc({ channel: attempt.channel, kind: attempt.kind, status: attempt.status }));
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
