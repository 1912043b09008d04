// The composition root of the API: the contract, the handlers and the transport meet here, so
// that src/http never imports a handler.
import type express from 'express';
import type { Context } from 'openapi-backend';
import { join } from 'node:path';
import type { RegistryWebhookSource } from './engine/webhooks/index.js';
import { handlers } from './handlers/index.js';
import { loadSpec, projectRoot } from './spec.js';
import { firstText, secretsEqual, type Principal } from './http/auth.js';
import type { AppDeps } from './http/deps.js';
import { envelope } from './http/errors.js';
import { bindHandlers, createHttpServer, forwardAuthFor, type Transport } from './http/server.js';
import { serveWebUi } from './http/web-ui.js';
import { Metrics } from './metrics.js';

const PUBLIC_PRINCIPAL: Principal = { name: 'anonymous' };
const WEBHOOK_PRINCIPAL: Principal = { name: 'webhook' };
const GITHUB_PRINCIPAL: Principal = { name: 'github' };
const REGISTRY_PRINCIPAL: Principal = { name: 'registry' };

function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** Where each registry source's token travels: a header where the registry can send one, else the URL. */
const REGISTRY_SCHEMES: Record<string, { source: RegistryWebhookSource; presented(transport: Transport): string | undefined }> = {
  registryDistributionToken: { source: 'distribution', presented: ({ req }) => bearerToken(firstText(req.headers.authorization)) },
  // Harbor sends its "Auth Header" verbatim: the token alone, or with a scheme.
  registryHarborToken: {
    source: 'harbor',
    presented: ({ req }) => {
      const header = firstText(req.headers.authorization)?.trim();
      return bearerToken(header) ?? (header || undefined);
    },
  },
  registryDockerHubToken: { source: 'dockerhub', presented: ({ req }) => firstText(req.query.token) },
  registryQuayToken: { source: 'quay', presented: ({ req }) => firstText(req.query.token) },
};

type RegistryTokenRejection = { error: 'source_disabled' | 'invalid_token' } | { error: 'lookup_failed'; cause: unknown };

function securitySchemesOf(context: Context): string[] {
  const requirements = (context.operation.security ?? []) as Record<string, unknown>[];
  return requirements.flatMap((requirement) => Object.keys(requirement));
}

/**
 * `webDir`: the built UI (default `dist/web` of the project). Without `metrics` the app keeps its
 * own (the caller that wants registry requests counted passes the one its engine reports to).
 */
export async function createApp(
  base: Omit<AppDeps, 'metrics'> & { metrics?: Metrics },
  { webDir = join(projectRoot(), 'dist', 'web') }: { webDir?: string } = {},
): Promise<express.Express> {
  const deps: AppDeps = { ...base, metrics: base.metrics ?? new Metrics() };
  deps.metrics.subscribe(deps.engine.events);
  const { config } = deps;
  const forwardAuth = forwardAuthFor(config.auth);

  const principalOf = (context: Context): Principal => {
    const results = context.security ?? {};
    for (const scheme of ['forwardAuth', 'forwardAuthGroup', 'webhookSecret', 'githubSignature', ...Object.keys(REGISTRY_SCHEMES)]) {
      const value = results[scheme] as Principal | RegistryTokenRejection | false | undefined;
      if (value && !('error' in value)) return value;
    }
    return PUBLIC_PRINCIPAL;
  };

  const bound = bindHandlers(handlers, deps, { principal: principalOf, identity: forwardAuth.identity });

  return createHttpServer({
    document: loadSpec('dockrev'),
    logger: deps.logger,
    handlers: bound,
    onAnswered: deps.metrics.answered,
    isUnavailable: deps.store.isUnavailable,
    security: {
      // DOCKREV_METRICS_PUBLIC opens GET /metrics to scrapers that send no identity.
      forwardAuth: (transport, context) => (config.metricsPublic && context.operation.operationId === 'getMetrics' ? PUBLIC_PRINCIPAL : forwardAuth.check(transport)),
      forwardAuthGroup: forwardAuth.check,
      webhookSecret: (transport) => {
        const provided = firstText(transport.req.headers['x-dockrev-webhook-secret']);
        return config.webhookSecret && provided !== undefined && secretsEqual(provided, config.webhookSecret)
          ? WEBHOOK_PRINCIPAL
          : false;
      },
      // The GitHub signature is checked by the handler: its key lives in the database and the
      // documented order puts header and integration checks first.
      githubSignature: () => GITHUB_PRINCIPAL,
      // Registry tokens live in the database: a disabled source accepts none.
      ...Object.fromEntries(
        Object.entries(REGISTRY_SCHEMES).map(([scheme, { source, presented }]) => [
          scheme,
          async (transport: Transport): Promise<Principal | RegistryTokenRejection> => {
            let expected: string | undefined;
            try {
              expected = await deps.engine.registryWebhooks.acceptedToken(source);
            } catch (cause) {
              // The database failing is not the caller's fault: a 500, not a 401.
              return { error: 'lookup_failed', cause };
            }
            if (!expected) return { error: 'source_disabled' };
            const given = presented(transport);
            return given !== undefined && secretsEqual(given, expected) ? REGISTRY_PRINCIPAL : { error: 'invalid_token' };
          },
        ]),
      ),
    },
    unauthorized: (context, transport) => {
      const registryScheme = securitySchemesOf(context).find((scheme) => scheme in REGISTRY_SCHEMES);
      if (registryScheme) {
        const { source } = REGISTRY_SCHEMES[registryScheme]!;
        const rejection = context.security?.[registryScheme] as RegistryTokenRejection | undefined;
        if (rejection?.error === 'lookup_failed') throw rejection.cause;
        return rejection?.error === 'source_disabled'
          ? { status: 401, body: envelope('unauthorized', `the ${source} registry webhook source is disabled`, { reason: 'source_disabled', source }) }
          : { status: 401, body: envelope('unauthorized', 'invalid registry webhook token', { reason: 'invalid_token', source }) };
      }
      if (securitySchemesOf(context).includes('webhookSecret')) {
        const details = config.webhookSecret ? {} : { reason: 'webhook_secret_not_configured' };
        const message = config.webhookSecret ? 'invalid webhook secret' : 'webhook secret is not configured';
        return { status: 401, body: envelope('unauthorized', message, details) };
      }
      const decision = forwardAuth.decision(transport);
      const details = decision.ok ? {} : decision.details;
      const message = decision.ok ? 'authentication required' : decision.details.message;
      return { status: 401, body: envelope('auth_required', message, { ...details }) };
    },
    before: (app) => {
      // A reverse proxy that sends /supervisor/* here instead of to the supervisor process.
      app.get(['/supervisor', '/supervisor/'], (_req, res) => {
        res
          .status(200)
          .type('text/html')
          .send(
            '<!doctype html><html><head><meta charset="utf-8"><title>Dockrev supervisor misrouted</title></head>' +
              '<body><h1>Supervisor is not served here</h1><p>This is the Dockrev API (port 50883). ' +
              'Route <code>/supervisor/*</code> to the supervisor process (port 50884) in your reverse proxy.</p></body></html>',
          );
      });
      app.all('/supervisor/{*rest}', (_req, res) => {
        res.status(502).json(
          envelope('supervisor_misrouted', 'supervisor request reached the API server; route /supervisor/* to the supervisor', {}),
        );
      });
      serveWebUi(app, webDir);
    },
  });
}
