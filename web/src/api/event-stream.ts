// A live list's SSE stream (version-inference events, GitHub deliveries): named events with
// integer ids. A drop reconnects from the last id seen (`afterId`), frames at or below it are
// dropped, and the page is told when the stream started afresh so it can reload what it shows.
import { useEffect, useRef, useState } from 'react';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

export interface EventStreamOptions {
  /** The stream's path; `afterId` is appended once an id is known. */
  path: string;
  /** The event names to listen to. */
  events: string[];
  /** Returning `forget` drops the cursor: the next connection starts at the tail (and is fresh). */
  onEvent(name: string, data: unknown, id: number): void | 'forget';
  /** The stream (re)opened from the tail, not from an id: whatever was missed must be reloaded. */
  onFresh?(): void;
}

/** Keeps one stream open while mounted; returns whether it is connected. */
export function useEventStream(options: EventStreamOptions, enabled = true): boolean {
  const [connected, setConnected] = useState(false);
  // The handlers change every render; the connection must not.
  const latest = useRef(options);
  latest.current = options;
  useEffect(() => {
    if (!enabled) return;
    let lastId = 0;
    let retryMs = FIRST_RETRY_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let source: EventSource | undefined;
    let stopped = false;
    const connect = () => {
      if (stopped) return;
      const resumed = lastId > 0;
      const opened = new EventSource(resumed ? `${latest.current.path}?afterId=${lastId}` : latest.current.path);
      source = opened;
      opened.onopen = () => {
        retryMs = FIRST_RETRY_MS;
        setConnected(true);
        if (!resumed) latest.current.onFresh?.();
      };
      for (const name of latest.current.events) {
        opened.addEventListener(name, (event) => {
          const id = Number((event as MessageEvent).lastEventId);
          if (Number.isFinite(id) && id > 0) {
            if (id <= lastId) return;
            lastId = id;
          }
          let data: unknown;
          try {
            data = JSON.parse((event as MessageEvent).data as string);
          } catch {
            return;
          }
          if (latest.current.onEvent(name, data, id) === 'forget') lastId = 0;
        });
      }
      opened.onerror = () => {
        opened.close();
        if (stopped) return;
        setConnected(false);
        timer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [enabled, options.path]);
  return connected;
}
