import { callbackUrl, SOURCE_TOKEN_PLACEMENT, TOKEN_MASK, type PushReceipt, type RegistryWebhookSource } from '../engine/webhooks/index.js';
import type { components } from '../generated/dockrev.js';
import type { HandlerMap } from '../http/handler-types.js';
import { REGISTRY_WEBHOOK_SOURCES, type RegistryDelivery, type RegistryWebhookSettings } from '../store/index.js';

type Schemas = components['schemas'];

type RegistryWebhooksHandlers = Pick<
  HandlerMap,
  | 'receiveDistributionPush'
  | 'receiveHarborPush'
  | 'receiveDockerHubPush'
  | 'receiveQuayPush'
  | 'getRegistryWebhookSettings'
  | 'putRegistryWebhookSettings'
  | 'listRegistryWebhookDeliveries'
  | 'auditQuayNotifications'
  | 'repairQuayNotifications'
>;

function accepted(receipt: PushReceipt) {
  const { matchedServiceIds, ...rest } = receipt;
  return { status: 202 as const, body: { ok: true as const, ...rest, matched: matchedServiceIds.length, matchedServiceIds } };
}

function settingsView({ settings, publicBaseUrl }: { settings: RegistryWebhookSettings; publicBaseUrl: string | null }): Schemas['RegistryWebhookSettings'] {
  const source = (name: RegistryWebhookSource): Schemas['RegistryWebhookSourceView'] => ({
    enabled: settings.sources[name].enabled,
    tokenMasked: settings.sources[name].token ? TOKEN_MASK : null,
    tokenIn: SOURCE_TOKEN_PLACEMENT[name],
    callbackUrl: callbackUrl(publicBaseUrl, name),
  });
  const { quay } = settings;
  return {
    sources: Object.fromEntries(REGISTRY_WEBHOOK_SOURCES.map((name) => [name, source(name)])) as Schemas['RegistryWebhookSettings']['sources'],
    hostAliases: settings.hostAliases,
    quay: { apiBaseUrl: quay.apiBaseUrl, oauthTokenMasked: quay.oauthToken ? TOKEN_MASK : null, registryHost: quay.registryHost, audit: quay.audit },
    publicBaseUrl,
  };
}

function deliveryView(delivery: RegistryDelivery): Schemas['RegistryDelivery'] {
  return { ...delivery, responseStatus: delivery.outcome === 'rejected' ? 400 : 202 };
}

export const registryWebhooksHandlers: RegistryWebhooksHandlers = {
  receiveDistributionPush: async ({ body, rawBody, deps }) => accepted(await deps.engine.registryPushed('distribution', body, rawBody)),
  receiveHarborPush: async ({ body, rawBody, deps }) => accepted(await deps.engine.registryPushed('harbor', body, rawBody)),
  receiveDockerHubPush: async ({ body, rawBody, deps }) => accepted(await deps.engine.registryPushed('dockerhub', body, rawBody)),
  receiveQuayPush: async ({ body, rawBody, deps }) => accepted(await deps.engine.registryPushed('quay', body, rawBody)),

  getRegistryWebhookSettings: async ({ deps }) => ({ status: 200, body: settingsView(await deps.engine.registryWebhooks.settings()) }),

  putRegistryWebhookSettings: async ({ body, deps }) => {
    const revealed = await deps.engine.putRegistryWebhookSettings(body);
    return { status: 200, body: Object.keys(revealed).length > 0 ? { ok: true, revealed } : { ok: true } };
  },

  listRegistryWebhookDeliveries: async ({ query, deps }) => {
    const page = await deps.engine.registryWebhooks.deliveries({ ...query, limit: query.limit ?? 50 });
    return { status: 200, body: { ...page, deliveries: page.deliveries.map(deliveryView) } };
  },

  auditQuayNotifications: async ({ deps, principal }) => {
    const { job, reused } = await deps.engine.registryWebhooks.startQuayNotifications('audit', { createdBy: principal.name, reason: 'ui' });
    return { status: 202, body: { jobId: job.id, reused } };
  },

  repairQuayNotifications: async ({ deps, principal }) => {
    const { job, reused } = await deps.engine.registryWebhooks.startQuayNotifications('repair', { createdBy: principal.name, reason: 'ui' });
    return { status: 202, body: { jobId: job.id, reused } };
  },
};
