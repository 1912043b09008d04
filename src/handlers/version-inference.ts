import type { HandlerMap } from '../http/handler-types.js';
import { pollingStream, resumeCursor } from '../http/sse.js';

export const versionInferenceHandlers: Pick<HandlerMap, 'getVersionInferenceOverview' | 'streamVersionInferenceEvents'> = {
  getVersionInferenceOverview: async ({ query, deps }) => ({ status: 200, body: await deps.engine.inference.overview(query) }),

  streamVersionInferenceEvents: async ({ query, headers, deps }) => {
    const { ring } = deps.engine.inference;
    const requested = resumeCursor(query.afterId, headers['last-event-id']);
    // The events live in memory: a range already overwritten cannot be replayed, so the client is
    // told to reload the overview and the stream goes on from the newest event.
    const resync = ring.lost(requested)
      ? { type: 'resync_required', ts: new Date().toISOString(), requestedAfterId: requested, oldestAvailableId: ring.oldestId, latestEventId: ring.latestId, reason: 'buffer_overflow' }
      : undefined;
    let pendingResync = resync;
    return {
      status: 200,
      body: pollingStream({
        // Without a cursor the stream starts at the tail: live events only, no replay.
        startCursor: resync || requested === 0 ? ring.latestId : requested,
        read: async (cursor, limit) => {
          const frames = ring.after(cursor, limit).map(({ id, event }) => ({ id, event: 'version_inference_event', data: event }));
          if (!pendingResync) return frames;
          const first = { id: cursor, event: 'version_inference_event', data: pendingResync };
          pendingResync = undefined;
          return [first, ...frames];
        },
        wake: (onWake) => ring.onPush(onWake),
        errorFrame: (error) => ({ event: 'version_inference_event', data: { type: 'error', error: String(error) } }),
      }),
    };
  },
};
