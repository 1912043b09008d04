// One job's log over SSE (GET /api/jobs/{id}/events). When the connection drops it reconnects
// from the last event id it saw (`afterId`; the server also honours Last-Event-ID), and drops any
// frame at or below that id, so a resumed stream never repeats a line.
import type { JobLog, JobProgress } from '../api/queries';

export interface JobStreamHandlers {
  onLog(log: JobLog): void;
  onProgress(progress: JobProgress): void;
  /** `connected` false while reconnecting. */
  onConnection(connected: boolean): void;
  /** The job is over (`job_finished`, the stream's last frame). */
  onFinished?(status: string): void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;

export class JobStream {
  private source: EventSource | undefined;
  private retryMs = FIRST_RETRY_MS;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly jobId: string,
    private lastId: number,
    private readonly handlers: JobStreamHandlers,
  ) {
    this.connect();
  }

  get lastEventId(): number {
    return this.lastId;
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.source?.close();
  }

  private connect(): void {
    if (this.stopped) return;
    const source = new EventSource(`/api/jobs/${encodeURIComponent(this.jobId)}/events?afterId=${this.lastId}`);
    this.source = source;
    source.onopen = () => {
      this.retryMs = FIRST_RETRY_MS;
      this.handlers.onConnection(true);
    };
    source.addEventListener('job_log', (event) => {
      const id = this.accept(event);
      if (id === undefined) return;
      const data = JSON.parse(event.data) as Omit<JobLog, 'id'>;
      this.handlers.onLog({ id, ts: data.ts, level: data.level, msg: data.msg });
    });
    source.addEventListener('job_progress', (event) => {
      if (this.accept(event) === undefined) return;
      this.handlers.onProgress(JSON.parse(event.data) as JobProgress);
    });
    // The job's last frame: the server closes the stream after it, so no reconnect follows.
    source.addEventListener('job_finished', (event) => {
      this.accept(event);
      this.close();
      this.handlers.onFinished?.((JSON.parse(event.data) as { status: string }).status);
    });
    // Any other end is a drop: reconnect ourselves (EventSource would resend the same URL).
    source.onerror = () => {
      source.close();
      if (this.stopped) return;
      this.handlers.onConnection(false);
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
  }

  /** The frame's id when it is new, else undefined (already seen before a reconnect). */
  private accept(event: MessageEvent): number | undefined {
    const id = Number(event.lastEventId);
    if (!Number.isFinite(id) || id <= this.lastId) return undefined;
    this.lastId = id;
    return id;
  }
}
