import { dirname, resolve } from 'node:path';
import { ConfigError, unguardedIdentityWarning } from '../config.js';
import { createListener } from '../http/listener.js';
import { createLogger } from '../logger.js';
import { createSupervisorApp } from './app.js';
import { loadSupervisorConfig } from './config.js';
import { DockerTarget } from './docker-target.js';
import { StateFile } from './state.js';
import { SelfUpgrade } from './upgrade.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadSupervisorConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`dockrev-supervisor: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config).child({ service: 'dockrev-supervisor' });
  const unguarded = unguardedIdentityWarning(config.auth);
  if (unguarded) logger.warn({ variable: 'DOCKREV_AUTH_TRUSTED_PROXIES' }, unguarded);
  const statePath = resolve(config.statePath);
  const runtime = new DockerTarget({
    target: config.target,
    dockerBin: config.dockerBin,
    dockerHost: config.dockerHost,
    composeBin: config.composeBin,
    // Beside the state, so that it survives with it; Compose records it in the target's labels.
    overridePath: resolve(dirname(statePath), 'compose.override.yml'),
  });
  const upgrade = await SelfUpgrade.open({
    file: new StateFile(statePath),
    runtime,
    imageRepo: config.target.imageRepo,
    healthTimeoutMs: config.healthTimeoutSeconds * 1000,
    logger,
  });
  const app = await createSupervisorApp({ config, logger, upgrade });
  const server = createListener(app);
  server.on('error', (error) => {
    process.stderr.write(`dockrev-supervisor: cannot listen on ${config.http.host}:${config.http.port}: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(config.http.port, config.http.host, () => {
    logger.info({ host: config.http.host, port: config.http.port, basePath: config.basePath }, 'dockrev supervisor listening');
  });
  // A running operation is not waited for: the state file says how far it got and the next
  // start recovers it.
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`dockrev-supervisor: fatal: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
