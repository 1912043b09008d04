import type { HandlerMap } from '../http/handler-types.js';
import { pollingStream, resumeCursor } from '../http/sse.js';

export const versionInferenceHandlers: Pick<HandlerMap, 'getVersionInferenceOverview' | 'streamVersionInferenceEvents'> = {
  getVersionInferenceOverview: async ({ query, deps }) => ({ status: 200, body: await deps.engine.inference.overview(query) }),

  streamVersionInferenceEvents: async ({ query, headers, deps }) => {
    const { ring } = deps.engine.inference;
    const start = ring.resume(resumeCursor(query.afterId, headers['last-event-id']));
    let resync = start.resync;
    return {
      status: 200,
      body: pollingStream({
        startCursor: start.cursor,
        read: async (cursor, limit) => {
          const frames = ring.after(cursor, limit).map(({ id, event }) => ({ id, event: 'version_inference_event', data: event }));
          if (!resync) return frames;
          // Sent with the id of the newest event, so a reconnect resumes from there.
          const first = { id: cursor, event: 'version_inference_event', data: resync };
          resync = undefined;
          return [first, ...frames];
        },
        wake: (onWake) => ring.onPush(onWake),
        errorFrame: (error) => ({ event: 'version_inference_event', data: { type: 'error', error: String(error) } }),
      }),
    };
  },
};
