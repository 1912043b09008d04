// Whether the API answers. A failed request marks it unreachable; from then on /api/health is
// polled until it answers, and then every query is refetched, so the UI recovers by itself.
import { useSyncExternalStore } from 'react';

type Listener = () => void;

const RETRY_MS = 2000;

let reachable = true;
let probe: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<Listener>();
const recoveredListeners = new Set<Listener>();

function set(next: boolean): void {
  if (reachable === next) return;
  reachable = next;
  for (const listener of listeners) listener();
  if (next) for (const listener of recoveredListeners) listener();
}

async function probeHealth(): Promise<void> {
  probe = undefined;
  try {
    const response = await fetch('/api/health', { cache: 'no-store' });
    if (response.ok) {
      set(true);
      return;
    }
  } catch {
    // still unreachable
  }
  probe = setTimeout(probeHealth, RETRY_MS);
}

export function markUnreachable(): void {
  set(false);
  probe ??= setTimeout(probeHealth, RETRY_MS);
}

export function markReachable(): void {
  set(true);
}

/** Runs `listener` each time the API becomes reachable again. */
export function onRecovered(listener: Listener): () => void {
  recoveredListeners.add(listener);
  return () => recoveredListeners.delete(listener);
}

export function useApiReachable(): boolean {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => reachable,
  );
}
