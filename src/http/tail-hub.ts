import type { EventStream, EventStreamWriter } from './handler-types.js';
import type { PollingStreamOptions, StreamFrame } from './sse.js';

export interface TailHubOptions {
  /** Rows after `cursor`, at most `limit`, in id order. */
  read: PollingStreamOptions['read'];
  /** The id of the newest row now: where the hub starts reading. */
  tail(): Promise<number>;
  /** Subscribes to "new rows may be there" hints (this process's appends). */
  wake(onWake: () => void): () => void;
  errorFrame: PollingStreamOptions['errorFrame'];
  /** Rows no hint announces (other processes') arrive within this. Default 250 ms. */
  pollMs?: number;
  keepAliveMs?: number;
  batchSize?: number;
}

interface Member {
  writer: EventStreamWriter;
  cursor: number;
  end(): void;
}

/** Woken reads start at least this far apart: a burst of rows costs a few reads, not one per row. */
const MIN_WOKEN_READ_GAP_MS = 5;

/**
 * One reader at the tail of a stream for all of its subscribers. A stream per subscriber reads
 * the store and arms its own timers for every new row: with a thousand subscribers that is a
 * thousand reads and wake-ups per row. Here a subscriber catches up on its own from its resume
 * cursor, then joins the hub, which reads each new batch once and writes it to every member in
 * one pass. Order, resumption by id and the error frame work as in a polling stream.
 */
export class TailHub {
  private readonly members = new Set<Member>();
  /** Subscribers catching up or members: the hub stops when none is left. */
  private active = 0;
  private cursor?: number;
  private starting?: Promise<number>;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private reading = false;
  private woken = false;
  private lastRead = 0;
  private lastWrite = Date.now();
  private readonly pollMs: number;
  private readonly keepAliveMs: number;
  private readonly batchSize: number;

  constructor(private readonly options: TailHubOptions) {
    this.pollMs = options.pollMs ?? 250;
    this.keepAliveMs = options.keepAliveMs ?? 15_000;
    this.batchSize = options.batchSize ?? 200;
  }

  /** A subscriber that receives the rows after `startCursor`. */
  subscribe(startCursor: number): EventStream {
    return {
      run: async (writer) => {
        this.active += 1;
        try {
          let cursor = startCursor;
          try {
            await this.start();
          } catch (error) {
            const frame = this.options.errorFrame(error, startCursor);
            writer.event({ event: frame.event, data: frame.data });
            return;
          }
          // Catch up alone until level with the hub; joining is synchronous with that comparison.
          while (!writer.closed) {
            const level = this.cursor;
            if (level === undefined) {
              await this.start().catch(() => undefined);
              if (this.cursor === undefined) return;
              continue;
            }
            if (cursor >= level) {
              await this.join(writer, cursor);
              return;
            }
            let frames: StreamFrame[];
            try {
              frames = await this.options.read(cursor, this.batchSize);
            } catch (error) {
              const frame = this.options.errorFrame(error, cursor);
              writer.event({ event: frame.event, data: frame.data });
              return;
            }
            for (const frame of frames) writer.event({ id: frame.id, event: frame.event, data: frame.data });
            cursor = frames.length > 0 ? frames[frames.length - 1]!.id : level;
          }
        } finally {
          this.active -= 1;
          if (this.active === 0) this.stop();
        }
      },
    };
  }

  /** Resolves when the member's client goes or the hub ends it. */
  private join(writer: EventStreamWriter, cursor: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const member: Member = { writer, cursor, end: resolve };
      this.members.add(member);
      writer.onClose(() => {
        this.members.delete(member);
        resolve();
      });
    });
  }

  private start(): Promise<number> {
    if (this.cursor !== undefined) return Promise.resolve(this.cursor);
    this.starting ??= this.options.tail().then(
      (tail) => {
        this.cursor = tail;
        this.starting = undefined;
        this.unsubscribe = this.options.wake(() => this.hurry());
        this.schedule(this.pollMs);
        return tail;
      },
      (error: unknown) => {
        this.starting = undefined;
        throw error;
      },
    );
    return this.starting;
  }

  /** Nobody left: forget the tail (a later subscriber starts from the then newest row). */
  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.cursor = undefined;
  }

  private hurry(): void {
    this.woken = true;
    if (!this.reading) this.schedule(this.lastRead + MIN_WOKEN_READ_GAP_MS - Date.now());
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.cursor === undefined) return;
    this.timer = setTimeout(() => void this.poll(), Math.max(0, ms));
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.cursor === undefined || this.reading) return;
    this.reading = true;
    this.woken = false;
    this.lastRead = Date.now();
    let full = false;
    try {
      const frames = await this.options.read(this.cursor, this.batchSize);
      full = frames.length === this.batchSize;
      if (frames.length > 0) this.deliver(frames);
      else if (Date.now() - this.lastWrite >= this.keepAliveMs) this.keepAlive();
    } catch (error) {
      this.fail(error);
    } finally {
      this.reading = false;
    }
    if (this.cursor === undefined) return;
    this.schedule(full ? 0 : this.woken ? this.lastRead + MIN_WOKEN_READ_GAP_MS - Date.now() : this.pollMs);
  }

  private deliver(frames: StreamFrame[]): void {
    for (const member of this.members) {
      for (const frame of frames) {
        if (frame.id <= member.cursor) continue;
        member.writer.event({ id: frame.id, event: frame.event, data: frame.data });
        member.cursor = frame.id;
      }
    }
    this.cursor = frames[frames.length - 1]!.id;
    this.lastWrite = Date.now();
  }

  private keepAlive(): void {
    for (const member of this.members) member.writer.comment('keep-alive');
    this.lastWrite = Date.now();
  }

  /** The read failed: every member gets the error frame and is closed, as a polling stream does. */
  private fail(error: unknown): void {
    const frame = this.options.errorFrame(error, this.cursor ?? 0);
    for (const member of [...this.members]) {
      member.writer.event({ event: frame.event, data: frame.data });
      this.members.delete(member);
      member.end();
    }
  }
}
