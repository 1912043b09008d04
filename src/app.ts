// The composition root of the API: the contract, the handlers and the transport meet here, so
// that src/http never imports a handler.
import type express from 'express';
import type { Context } from 'openapi-backend';
import { join } from 'node:path';
import { handlers } from './handlers/index.js';
import { loadSpec, projectRoot } from './spec.js';
import { secretsEqual, type Principal } from './http/auth.js';
import type { AppDeps } from './http/deps.js';
import { envelope } from './http/errors.js';
import { bindHandlers, createHttpServer, forwardAuthFor } from './http/server.js';
import { serveWebUi } from './http/web-ui.js';

const PUBLIC_PRINCIPAL: Principal = { name: 'anonymous' };
const WEBHOOK_PRINCIPAL: Principal = { name: 'webhook' };
const GITHUB_PRINCIPAL: Principal = { name: 'github' };

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function securitySchemesOf(context: Context): string[] {
  const requirements = (context.operation.security ?? []) as Record<string, unknown>[];
  return requirements.flatMap((requirement) => Object.keys(requirement));
}

/** `webDir`: the built UI (default `dist/web` of the project). */
export async function createApp(deps: AppDeps, { webDir = join(projectRoot(), 'dist', 'web') }: { webDir?: string } = {}): Promise<express.Express> {
  const { config } = deps;
  const forwardAuth = forwardAuthFor(config.auth);

  const principalOf = (context: Context): Principal => {
    const results = context.security ?? {};
    for (const scheme of ['forwardAuth', 'forwardAuthGroup', 'webhookSecret', 'githubSignature']) {
      const value = results[scheme] as Principal | false | undefined;
      if (value) return value;
    }
    return PUBLIC_PRINCIPAL;
  };

  const bound = bindHandlers(handlers, deps, { principal: principalOf, identity: forwardAuth.identity });

  return createHttpServer({
    document: loadSpec('dockrev'),
    logger: deps.logger,
    handlers: bound,
    security: {
      forwardAuth: forwardAuth.check,
      forwardAuthGroup: forwardAuth.check,
      webhookSecret: (transport) => {
        const provided = headerText(transport.req.headers['x-dockrev-webhook-secret']);
        return config.webhookSecret && provided !== undefined && secretsEqual(provided, config.webhookSecret)
          ? WEBHOOK_PRINCIPAL
          : false;
      },
      // The GitHub signature is checked by the handler: its key lives in the database and the
      // documented order puts header and integration checks first.
      githubSignature: () => GITHUB_PRINCIPAL,
    },
    unauthorized: (context, transport) => {
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
