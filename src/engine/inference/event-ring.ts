// The version-inference event stream's memory: the last N events with increasing ids (from 1,
// restarting with the process). A client resumes after the id it saw last; when that range has
// already been overwritten it is told to reload instead (`resync_required`).
import { nowIso } from '../../time.js';

export interface InferenceEvent {
  type: string;
  ts: string;
  [field: string]: unknown;
}

export interface StoredInferenceEvent {
  id: number;
  event: InferenceEvent;
}

export const EVENT_RING_SIZE = 2000;

export class InferenceEventRing {
  private readonly events: StoredInferenceEvent[] = [];
  private lastId = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly capacity = EVENT_RING_SIZE) {}

  push(event: Omit<InferenceEvent, 'ts'> & { ts?: string }): void {
    this.lastId += 1;
    this.events.push({ id: this.lastId, event: { ...event, ts: event.ts ?? nowIso() } as InferenceEvent });
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    for (const listener of this.listeners) listener();
  }

  /** The id of the newest event (0 before the first). */
  get latestId(): number {
    return this.lastId;
  }

  /** The id of the oldest event still held (latestId + 1 while empty). */
  get oldestId(): number {
    return this.events[0]?.id ?? this.lastId + 1;
  }

  /** Events after `afterId`, oldest first, at most `limit`. */
  after(afterId: number, limit: number): StoredInferenceEvent[] {
    // Ids are consecutive, so the position of the first one after `afterId` is arithmetic.
    const start = Math.max(0, afterId + 1 - this.oldestId);
    return this.events.slice(start, start + limit);
  }

  /** Whether events after `afterId` were dropped before anyone read them. */
  lost(afterId: number): boolean {
    return afterId > 0 && afterId < this.oldestId - 1;
  }

  /**
   * Where a stream asking to resume after `afterId` (0: none) starts: at the tail without a cursor;
   * after the cursor while the ring still holds what follows it; otherwise at the tail with a
   * `resync_required` event first, telling the client to reload instead of trusting a gap.
   */
  resume(afterId: number): { cursor: number; resync?: InferenceEvent } {
    if (afterId === 0) return { cursor: this.lastId };
    if (!this.lost(afterId)) return { cursor: afterId };
    const resync = { type: 'resync_required', ts: nowIso(), requestedAfterId: afterId, oldestAvailableId: this.oldestId, latestEventId: this.lastId, reason: 'buffer_overflow' };
    return { cursor: this.lastId, resync };
  }

  /** Calls `listener` after each new event; returns the unsubscribe function. */
  onPush(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
