import { envelope, notFound } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import { stackDetailView, stackListItemView, viewOnce } from './views.js';

type StackHandlers = Pick<HandlerMap, 'listStacks' | 'createStack' | 'getStack' | 'archiveStack' | 'restoreStack'>;

export const stacksHandlers: StackHandlers = {
  listStacks: async ({ query, deps }) => {
    const overview = await deps.engine.stackOverview(query.archived ?? 'exclude');
    return { status: 200, body: viewOnce(overview, () => ({ stacks: overview.map(({ stack, status }) => stackListItemView(stack, status)) })) };
  },

  createStack: async () => ({
    status: 405,
    body: envelope('method_not_allowed', 'manual stack registration is disabled; use auto-discovery instead'),
  }),

  getStack: async ({ params, deps }) => {
    const detail = await deps.engine.stackDetail(params.stackId);
    if (!detail) return notFound('stack not found');
    return { status: 200, body: { stack: stackDetailView(detail.stack, detail.stack.services, detail.inference) } };
  },

  archiveStack: async ({ params, deps }) =>
    (await deps.store.stacks.setArchived(params.stackId, true)) ? { status: 200, body: { ok: true } } : notFound('stack not found'),

  restoreStack: async ({ params, deps }) =>
    (await deps.store.stacks.setArchived(params.stackId, false)) ? { status: 200, body: { ok: true } } : notFound('stack not found'),
};
