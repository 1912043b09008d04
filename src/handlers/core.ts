import type { HandlerMap } from '../http/handler-types.js';
import { readiness } from '../engine/readiness.js';
import { apiDocsHtml, publishedSpec } from '../spec.js';

type CoreHandlers = Pick<HandlerMap, 'getHealth' | 'getVersion' | 'getReadiness' | 'getOpenApiDocument' | 'getApiDocs' | 'getMetrics'>;

export const coreHandlers: CoreHandlers = {
  getHealth: async () => ({ status: 200, body: 'ok' }),
  getVersion: async ({ deps }) => ({ status: 200, body: { version: deps.config.appVersion, selfUpgradeUrl: deps.config.selfUpgradeUrl } }),
  getReadiness: async ({ deps }) => {
    const ready = await readiness({ store: deps.store, docker: deps.engine.docker });
    if (ready.ready) return { status: 200, body: { ready: true, checks: ready.checks } };
    const down = [!ready.checks.database.ok && 'the database', !ready.checks.docker.ok && 'the Docker engine'].filter(Boolean).join(' and ');
    return { status: 503, body: { error: { code: 'not_ready', message: `${down} does not answer`, details: { checks: ready.checks } } } };
  },
  getOpenApiDocument: async () => ({ status: 200, body: publishedSpec('dockrev') as { openapi: string; info: Record<string, never>; paths: Record<string, never> } }),
  getApiDocs: async () => ({ status: 200, body: apiDocsHtml() }),
  getMetrics: async ({ deps }) => ({ status: 200, body: (await deps.metrics.exposition()).text }),
};
