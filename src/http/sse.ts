import type { EventStream } from './handler-types.js';

export interface StreamFrame {
  id: number;
  event: string;
  data: unknown;
  /** Close the stream after sending this frame. */
  final?: boolean;
}

export interface PollingStreamOptions {
  /** Rows after `cursor`, at most `limit`, in id order. */
  read(cursor: number, limit: number): Promise<StreamFrame[]>;
  startCursor: number;
  /**
   * Asked after each empty poll (`idlePolls` counts consecutive ones): true closes the stream, a
   * frame is sent last and then closes it.
   */
  shouldClose?(idlePolls: number): Promise<boolean | { event: string; data: unknown }>;
  /** The frame to send when reading fails; the stream closes after it. */
  errorFrame(error: unknown, cursor: number): { event: string; data: unknown };
  /**
   * Subscribes to "new rows may be there" hints and returns the unsubscribe function. A hint ends
   * the wait for the next poll; `pollMs` still bounds the wait for rows no hint announces.
   */
  wake?(onWake: () => void): () => void;
  pollMs?: number;
  keepAliveMs?: number;
  batchSize?: number;
}

/** Woken reads of a stream start at least this far apart: a burst of rows costs a few reads, not one per row. */
const MIN_WOKEN_READ_GAP_MS = 5;

/** The resume point of an SSE request: the larger of `afterId` and `Last-Event-ID`, never negative. */
export function resumeCursor(afterId: number | undefined, lastEventId: string | string[] | undefined): number {
  const header = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  const fromHeader = header && /^\d{1,18}$/.test(header.trim()) ? Number(header.trim()) : 0;
  return Math.max(0, afterId ?? 0, fromHeader);
}

/**
 * An SSE stream fed by polling the store, and by reading early when woken: rows carry increasing
 * ids, so a client that reconnects with the last id it saw misses nothing and sees nothing twice.
 */
export function pollingStream(options: PollingStreamOptions): EventStream {
  const pollMs = options.pollMs ?? 250;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const batchSize = options.batchSize ?? 200;
  return {
    async run(writer) {
      let cursor = options.startCursor;
      let idlePolls = 0;
      let lastWrite = Date.now();
      // Set by a wake and cleared just before each read, so a wake that comes during a read (which
      // may have missed its row) makes the next wait end at once instead of being lost.
      let woken = false;
      let lastRead = 0;
      let endWait: (() => void) | undefined;
      let hurry: (() => void) | undefined;
      // One close listener for the whole stream rather than one per wait.
      writer.onClose(() => endWait?.());
      const unsubscribe = options.wake?.(() => {
        woken = true;
        hurry?.();
      });
      const wait = () =>
        new Promise<void>((resolve) => {
          let timer: NodeJS.Timeout | undefined;
          endWait = () => {
            clearTimeout(timer);
            endWait = hurry = undefined;
            resolve();
          };
          const endIn = (ms: number) => {
            clearTimeout(timer);
            if (ms <= 0 || writer.closed) endWait?.();
            else timer = setTimeout(() => endWait?.(), ms);
          };
          hurry = () => endIn(lastRead + MIN_WOKEN_READ_GAP_MS - Date.now());
          if (woken) hurry();
          else endIn(pollMs);
        });
      try {
        while (!writer.closed) {
          woken = false;
          lastRead = Date.now();
          let frames: StreamFrame[];
          try {
            frames = await options.read(cursor, batchSize);
          } catch (error) {
            const frame = options.errorFrame(error, cursor);
            writer.event({ event: frame.event, data: frame.data });
            return;
          }
          for (const frame of frames) {
            writer.event({ id: frame.id, event: frame.event, data: frame.data });
            cursor = frame.id;
            if (frame.final) return;
          }
          if (frames.length > 0) lastWrite = Date.now();
          if (frames.length === batchSize) continue;
          idlePolls = frames.length === 0 ? idlePolls + 1 : 0;
          if (idlePolls > 0 && options.shouldClose) {
            const closing = await options.shouldClose(idlePolls);
            if (closing && typeof closing === 'object') writer.event(closing);
            if (closing) return;
          }
          if (Date.now() - lastWrite >= keepAliveMs) {
            writer.comment('keep-alive');
            lastWrite = Date.now();
          }
          await wait();
        }
      } finally {
        unsubscribe?.();
      }
    },
  };
}

