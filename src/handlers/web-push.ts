import type { HandlerMap } from '../http/handler-types.js';

type WebPushHandlers = Pick<HandlerMap, 'createWebPushSubscription' | 'deleteWebPushSubscription'>;

export const webPushHandlers: WebPushHandlers = {
  createWebPushSubscription: async ({ body, deps }) => {
    await deps.store.notifications.upsertSubscription({ endpoint: body.endpoint, keys: body.keys });
    return { status: 200, body: { ok: true } };
  },

  deleteWebPushSubscription: async ({ body, deps }) => ({
    status: 200,
    body: { ok: await deps.store.notifications.deleteSubscription(body.endpoint) },
  }),
};
