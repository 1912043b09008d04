// The snapshot task queue: in memory, one task per key (repository @ digest @ platform), at most
// four running, a bounded queue in priority order (what a user asked for first, start-up warm-up
// last), and an event for each step on the inference event ring.
import type { Logger } from 'pino';
import { errorText } from '../../errors.js';
import type { components } from '../../generated/dockrev.js';
import type { SnapshotKey } from '../../store/index.js';
import { nowIso } from '../../time.js';
import type { InferenceEventRing } from './event-ring.js';

export type TaskReason =
  | 'cache_miss'
  | 'cache_stale'
  | 'all_failed'
  | 'new_version'
  | 'force'
  | 'api_snapshot_read_miss'
  | 'update_digest_changed'
  | 'runtime_scan_digest_changed'
  | 'startup_warmup';

/** A task's progress as the overview and the event stream show it. */
export type TaskProgress = components['schemas']['VersionInferenceProgress'];

export interface InferenceTask extends SnapshotKey {
  key: string;
  status: 'queued' | 'running';
  reason: TaskReason;
  enqueuedAt: string;
  startedAt?: string;
  updatedAt: string;
  progress?: TaskProgress;
}

export type ProgressInput = Omit<TaskProgress, 'percent' | 'assignedPercent' | 'resultPercent' | 'updatedAt'>;

/** What a task run reports back for its `task_finished` event. */
export type TaskRunResult = Record<string, unknown>;

export type TaskRunner = (task: Readonly<InferenceTask>, report: (progress: ProgressInput) => void) => Promise<TaskRunResult>;

export type EnqueueOutcome = 'enqueued' | 'joined' | 'promoted' | 'dropped';

export const MAX_CONCURRENCY = 4;
export const QUEUE_CAPACITY = 1000;
/** Progress events of one task at most this often (the ring holds 2000 events for every task). */
const PROGRESS_EVENT_MS = 600;
/** How long stop() waits for running tasks before leaving them to end on their own. */
const STOP_WAIT_MS = 2000;

const PRIORITY: Record<TaskReason, number> = {
  force: 0,
  api_snapshot_read_miss: 0,
  new_version: 1,
  update_digest_changed: 1,
  runtime_scan_digest_changed: 1,
  cache_miss: 2,
  cache_stale: 2,
  all_failed: 2,
  startup_warmup: 3,
};

/** A user is waiting for these: they are never dropped when the queue is full. */
const USER_REASONS = new Set<TaskReason>(['force', 'api_snapshot_read_miss']);

export function snapshotKeyText(key: SnapshotKey): string {
  return `${key.imageRepo}@${key.digest}@${key.hostPlatform}`;
}

const percent = (current: number, total: number) => (total > 0 ? Math.min(100, Math.floor((current * 100) / total)) : 0);

export class SnapshotWorker {
  private readonly tasks = new Map<string, InferenceTask & { seq: number }>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly changeListeners = new Set<() => void>();
  /** Digests an event subscriber is still deciding about (looking up snapshots before enqueueing). */
  private readonly intake = new Map<string, number>();
  private seq = 0;
  private started = false;
  private stopped = false;
  private droppedCount = 0;
  private lastDroppedAt?: string;

  constructor(
    private readonly run: TaskRunner,
    private readonly ring: InferenceEventRing,
    private readonly logger: Logger,
    readonly maxConcurrency = MAX_CONCURRENCY,
    readonly queueCapacity = QUEUE_CAPACITY,
  ) {}

  /** Starts running queued tasks (the server's background start); until then they only queue. */
  start(): void {
    if (this.stopped) return;
    this.started = true;
    this.dispatch();
  }

  /** Drops the queue and waits a little for running tasks; those still running end without effect. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const [key, task] of this.tasks) if (task.status === 'queued') this.tasks.delete(key);
    this.changed();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.running.values()]), new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  enqueue(key: SnapshotKey, reason: TaskReason): EnqueueOutcome {
    if (this.stopped) return 'dropped';
    const text = snapshotKeyText(key);
    const existing = this.tasks.get(text);
    if (existing) {
      if (reason !== 'force' || existing.reason === 'force') return 'joined';
      existing.reason = 'force';
      existing.updatedAt = nowIso();
      this.changed();
      return 'promoted';
    }
    if (this.queuedCount() >= this.queueCapacity && !USER_REASONS.has(reason)) {
      this.droppedCount += 1;
      this.lastDroppedAt = nowIso();
      this.logger.warn({ key: text, reason }, 'version inference queue full: task dropped');
      return 'dropped';
    }
    const now = nowIso();
    const task = { ...key, key: text, status: 'queued' as const, reason, enqueuedAt: now, updatedAt: now, seq: (this.seq += 1) };
    this.tasks.set(text, task);
    this.ring.push({ type: 'task_enqueued', ...this.eventFields(task) });
    this.changed();
    this.dispatch();
    return 'enqueued';
  }

  task(key: SnapshotKey): InferenceTask | undefined {
    const task = this.tasks.get(snapshotKeyText(key));
    return task ? publicTask(task) : undefined;
  }

  /** Running tasks first, then the queue in the order it will run. */
  list(): InferenceTask[] {
    return [...this.tasks.values()].sort((a, b) => rank(a) - rank(b) || a.seq - b.seq).map(publicTask);
  }

  stats() {
    const queued = this.queuedCount();
    return {
      maxConcurrency: this.maxConcurrency,
      queued,
      running: this.tasks.size - queued,
      inFlight: this.tasks.size,
      queueCapacity: this.queueCapacity,
      dropped: this.droppedCount,
      ...(this.lastDroppedAt ? { lastDroppedAt: this.lastDroppedAt } : {}),
    };
  }

  /**
   * Marks digests as about to be enqueued while the caller looks things up; whenSettled waits for
   * them as for queued tasks. Returns the release function (call it after enqueueing).
   */
  hold(digests: readonly string[]): () => void {
    for (const digest of digests) this.intake.set(digest, (this.intake.get(digest) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const digest of digests) {
        const left = (this.intake.get(digest) ?? 1) - 1;
        if (left > 0) this.intake.set(digest, left);
        else this.intake.delete(digest);
      }
      this.changed();
    };
  }

  /**
   * Resolves once no queued or running task (nor a subscriber about to enqueue one) concerns any
   * of these digests, or after `timeoutMs`; never rejects. It looks one turn of the event loop
   * later, so that subscribers of the event the caller reacts to have had their turn to enqueue.
   */
  async whenSettled(digests: readonly string[], timeoutMs: number): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const wanted = new Set(digests.map((digest) => digest.trim().toLowerCase()));
    // A worker that does not run (stopped, or never started) settles nothing: waiting would only time out.
    if (wanted.size === 0 || !this.started || this.stopped) return;
    await new Promise<void>((resolve) => {
      const check = () => {
        if (!this.concerns(wanted)) finish();
      };
      const finish = () => {
        clearTimeout(timer);
        this.changeListeners.delete(check);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, timeoutMs));
      this.changeListeners.add(check);
      check();
    });
  }

  private concerns(digests: ReadonlySet<string>): boolean {
    for (const digest of digests) if (this.intake.has(digest)) return true;
    for (const task of this.tasks.values()) if (digests.has(task.digest)) return true;
    return false;
  }

  private queuedCount(): number {
    let queued = 0;
    for (const task of this.tasks.values()) if (task.status === 'queued') queued += 1;
    return queued;
  }

  private changed(): void {
    for (const listener of [...this.changeListeners]) listener();
  }

  private dispatch(): void {
    while (this.started && !this.stopped && this.running.size < this.maxConcurrency) {
      let next: (InferenceTask & { seq: number }) | undefined;
      for (const task of this.tasks.values()) {
        if (task.status !== 'queued') continue;
        if (!next || rank(task) < rank(next) || (rank(task) === rank(next) && task.seq < next.seq)) next = task;
      }
      if (!next) return;
      const task = next;
      const done = this.execute(task).finally(() => {
        this.running.delete(task.key);
        this.tasks.delete(task.key);
        this.changed();
        this.dispatch();
      });
      this.running.set(task.key, done);
    }
  }

  private async execute(task: InferenceTask & { seq: number }): Promise<void> {
    const now = nowIso();
    task.status = 'running';
    task.startedAt = now;
    task.updatedAt = now;
    this.ring.push({ type: 'task_started', ...this.eventFields(task) });
    this.changed();
    let lastEventAt = 0;
    let lastPhase = '';
    const report = (input: ProgressInput) => {
      const updatedAt = nowIso();
      task.progress = {
        ...input,
        percent: percent(input.current, input.total),
        assignedPercent: percent(input.assignedCurrent, input.assignedTotal),
        resultPercent: percent(input.resultCurrent, input.resultTotal),
        updatedAt,
      };
      task.updatedAt = updatedAt;
      const at = Date.now();
      if (input.phase !== lastPhase || at - lastEventAt >= PROGRESS_EVENT_MS || (input.total > 0 && input.current === input.total)) {
        lastPhase = input.phase;
        lastEventAt = at;
        this.ring.push({ type: 'task_progress', ...this.eventFields(task), ...task.progress });
      }
    };
    try {
      const result = await this.run(task, report);
      this.ring.push({ type: 'task_finished', ...this.eventFields(task), status: 'success', ...result });
    } catch (error) {
      if (!this.stopped) this.logger.warn({ err: error, key: task.key }, 'version inference task failed');
      this.ring.push({ type: 'task_finished', ...this.eventFields(task), status: 'error', error: errorText(error) });
    }
  }

  private eventFields(task: InferenceTask) {
    return { key: task.key, imageRepo: task.imageRepo, digest: task.digest, hostPlatform: task.hostPlatform, reason: task.reason };
  }
}

function rank(task: InferenceTask): number {
  return (task.status === 'running' ? -10 : 0) + PRIORITY[task.reason];
}

function publicTask(task: InferenceTask & { seq?: number }): InferenceTask {
  const { seq: _seq, ...rest } = task;
  return { ...rest, ...(task.progress ? { progress: { ...task.progress } } : {}) };
}
