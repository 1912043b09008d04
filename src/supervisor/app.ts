import type express from 'express';
import type { Principal } from '../http/auth.js';
import { bindHandlers, createHttpServer, forwardAuthFor } from '../http/server.js';
import { loadSpec } from '../spec.js';
import { supervisorHandlers, type SupervisorDeps } from './handlers.js';

const SPEC_BASE_PATH = '/supervisor';

export async function createSupervisorApp(deps: SupervisorDeps): Promise<express.Express> {
  const { config } = deps;
  const forwardAuth = forwardAuthFor(config.auth);

  return createHttpServer({
    document: loadSpec('supervisor'),
    logger: deps.logger,
    handlers: bindHandlers(supervisorHandlers, deps, {
      principal: (context) => (context.security?.forwardAuth || context.security?.forwardAuthGroup || { name: 'anonymous' }) as Principal,
      identity: forwardAuth.identity,
    }),
    security: { forwardAuth: forwardAuth.check, forwardAuthGroup: forwardAuth.check },
    // The supervisor's 401 carries no details (unlike the API's).
    unauthorized: (_context, transport) => {
      const decision = forwardAuth.decision(transport);
      const message = decision.ok ? 'authentication required' : decision.details.message;
      return { status: 401, body: { error: { code: 'auth_required', message, details: {} } } };
    },
    before: (app) => {
      // The contract says /supervisor; a deployment may mount it elsewhere.
      if (config.basePath !== SPEC_BASE_PATH) {
        app.use((req, _res, next) => {
          if (req.url === config.basePath || req.url.startsWith(`${config.basePath}/`) || req.url.startsWith(`${config.basePath}?`)) {
            req.url = SPEC_BASE_PATH + req.url.slice(config.basePath.length);
          } else if (req.url.startsWith(SPEC_BASE_PATH)) {
            req.url = `/__unmounted${req.url}`;
          }
          next();
        });
      }
    },
  });
}
