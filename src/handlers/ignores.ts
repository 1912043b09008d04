import { badRequest } from '../http/errors.js';
import type { HandlerMap } from '../http/handler-types.js';
import { ignoreRuleView } from './views.js';

type IgnoreHandlers = Pick<HandlerMap, 'listIgnoreRules' | 'createIgnoreRule' | 'deleteIgnoreRule'>;

export const ignoresHandlers: IgnoreHandlers = {
  listIgnoreRules: async ({ deps }) => {
    const rules = await deps.store.ignoreRules.list();
    return { status: 200, body: { rules: rules.map(ignoreRuleView) } };
  },

  // The service need not exist yet: rules are keyed by id and simply never match otherwise.
  createIgnoreRule: async ({ body, deps }) => {
    const serviceId = body.scope.serviceId.trim();
    if (!serviceId) return badRequest('scope.serviceId must not be empty');
    const rule = await deps.store.ignoreRules.create({
      enabled: body.enabled ?? true,
      scope: { type: 'service', serviceId },
      match: { kind: body.match.kind, value: body.match.value },
      note: body.note ?? null,
    });
    return { status: 200, body: { ruleId: rule.id } };
  },

  deleteIgnoreRule: async ({ body, deps }) => {
    const deleted = await deps.store.ignoreRules.delete(body.ruleId);
    return { status: 200, body: { deleted } };
  },
};
