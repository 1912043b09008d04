// Many subscribers on the all-jobs event stream: when each event reached the last of them,
// against when it was written (the row's timestamp, same machine clock).
import { Agent, get } from 'node:http';
import { round } from './env.js';

export interface FanoutResult {
  subscribers: number;
  connected: number;
  events: number;
  /** Events every subscriber received. */
  eventsToAll: number;
  /** Write → delivery to the last subscriber, ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Write → delivery to the first subscriber, ms (p50). */
  firstP50Ms: number;
  /** Each event: what it was, write → first and → last subscriber, ms. */
  perEvent: { id: number; what: string; firstMs: number; lastMs: number }[];
}

const SETTLE_MS = 1_000;

interface Subscriber {
  close(): void;
}

/**
 * Opens `count` streams on /api/jobs/events (at the tail), runs `during` and waits until a chunk
 * containing `lastMarker` has reached every subscriber (or `timeoutMs`); `isLast` then names the
 * frame that ends the measured events.
 */
export async function measureFanout(base: string, count: number, during: () => Promise<unknown>, isLast: (data: Record<string, unknown>) => boolean, lastMarker: string, timeoutMs = 120_000): Promise<FanoutResult> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const received: { at: number; text: string }[][] = [];
  let finishedSubscribers = 0;
  let done: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (done = resolve));
  const subscribers: Subscriber[] = [];
  let connected = 0;
  const opened = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<Subscriber>((resolve, reject) => {
        const request = get(`${base}/api/jobs/events`, { agent }, (response) => {
          if (response.statusCode !== 200) reject(new Error(`GET /api/jobs/events: ${response.statusCode}`));
          connected += 1;
          let sawLast = false;
          // Only the arrival time and the bytes here: parsing a thousand streams in this
          // process would delay the later ones, and be measured as delivery time.
          const chunks: { at: number; text: string }[] = [];
          received.push(chunks);
          response.setEncoding('utf8');
          let carry = '';
          response.on('data', (text: string) => {
            chunks.push({ at: Date.now(), text });
            if (sawLast) return;
            // The marker may straddle two chunks.
            const window = carry + text;
            carry = window.slice(-lastMarker.length);
            if (window.includes(lastMarker)) {
              sawLast = true;
              if (++finishedSubscribers === count) done();
            }
          });
          resolve({ close: () => request.destroy() });
        });
        request.on('error', reject);
      }),
    ),
  );
  subscribers.push(...opened);
  try {
    // A thousand connections arriving at once are their own burst; the fan-out is measured after it.
    await new Promise((resolvePromise) => setTimeout(resolvePromise, SETTLE_MS));
    await during();
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([allDone, timer]);
  } finally {
    for (const subscriber of subscribers) subscriber.close();
    agent.destroy();
  }
  // Frames per subscriber, with the arrival time of the chunk that completed each.
  const written = new Map<number, number>();
  const kinds = new Map<number, string>();
  const arrivals = new Map<number, { first: number; last: number; seen: number }>();
  let lastId: number | undefined;
  for (const chunks of received) {
    let pending = '';
    for (const { at, text } of chunks) {
      pending += text;
      let end: number;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const frame = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (id === undefined || data === undefined) continue;
        const eventId = Number(id);
        const parsed = JSON.parse(data) as Record<string, unknown>;
        if (!written.has(eventId) && typeof parsed.ts === 'string') {
          written.set(eventId, Date.parse(parsed.ts));
          kinds.set(eventId, [parsed.type, parsed.phase].filter(Boolean).join(' '));
        }
        const seen = arrivals.get(eventId);
        if (seen) {
          seen.first = Math.min(seen.first, at);
          seen.last = Math.max(seen.last, at);
          seen.seen += 1;
        } else arrivals.set(eventId, { first: at, last: at, seen: 1 });
        if (isLast(parsed)) lastId = lastId === undefined ? eventId : Math.min(lastId, eventId);
      }
    }
  }
  const delays: number[] = [];
  const firsts: number[] = [];
  const perEvent: FanoutResult['perEvent'] = [];
  let toAll = 0;
  for (const [id, seen] of arrivals) {
    if (lastId !== undefined && id > lastId) continue;
    const at = written.get(id);
    if (at === undefined) continue;
    firsts.push(seen.first - at);
    perEvent.push({ id, what: kinds.get(id) ?? '?', firstMs: seen.first - at, lastMs: seen.last - at });
    if (seen.seen < count) continue;
    toAll += 1;
    delays.push(seen.last - at);
  }
  const pct = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  };
  return {
    subscribers: count,
    connected,
    events: arrivals.size,
    eventsToAll: toAll,
    p50Ms: round(pct(delays, 50)),
    p99Ms: round(pct(delays, 99)),
    maxMs: round(Math.max(...delays)),
    firstP50Ms: round(pct(firsts, 50)),
    perEvent: perEvent.sort((a, b) => a.id - b.id),
  };
}
