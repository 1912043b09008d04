import { createServer } from 'node:http';
import { ConfigError } from '../config.js';
import { createLogger } from '../logger.js';
import { createSupervisorApp } from './app.js';
import { loadSupervisorConfig } from './config.js';

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
  const app = await createSupervisorApp({ config, logger });
  const server = createServer(app);
  server.on('error', (error) => {
    process.stderr.write(`dockrev-supervisor: cannot listen on ${config.http.host}:${config.http.port}: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(config.http.port, config.http.host, () => {
    logger.info({ host: config.http.host, port: config.http.port, basePath: config.basePath }, 'dockrev supervisor listening');
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`dockrev-supervisor: fatal: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
