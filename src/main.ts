import { ConfigError, IGNORED_LEGACY_VARIABLES, loadConfig, unguardedIdentityWarning } from './config.js';
import { Engine } from './engine/engine.js';
import { createApp } from './app.js';
import { createListener } from './http/listener.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { openStore } from './store/index.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`dockrev: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config);
  for (const name of IGNORED_LEGACY_VARIABLES) {
    if (process.env[name]) logger.warn({ variable: name }, `${name} is no longer used and is ignored`);
  }
  const unguarded = unguardedIdentityWarning(config.auth);
  if (unguarded) logger.warn({ variable: 'DOCKREV_AUTH_TRUSTED_PROXIES' }, unguarded);

  let store;
  try {
    store = await openStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath });
  } catch (error) {
    process.stderr.write(`dockrev: cannot open the database: ${(error as Error).message}\n`);
    process.exit(1);
  }

  const metrics = new Metrics();
  const engine = await Engine.create({ config, store, logger, registry: { onRequest: metrics.registryRequest } });
  await engine.recoverAfterRestart();
  await engine.startBackground();
  const app = await createApp({ config, store, engine, logger, metrics });
  const server = createListener(app);
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'cannot listen');
    process.stderr.write(`dockrev: cannot listen on ${config.http.host}:${config.http.port}: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(config.http.port, config.http.host, () => {
    logger.info({ host: config.http.host, port: config.http.port, database: config.databaseUrl ? 'postgresql' : 'sqlite', version: config.appVersion }, 'dockrev api listening');
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close(() => {
      engine
        .stop()
        .then(() => store.close())
        .catch(() => undefined)
        .finally(() => process.exit(0));
    });
    server.closeAllConnections();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`dockrev: fatal: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
