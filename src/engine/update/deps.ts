// The one place the update executor's dependencies are built from the configuration; update jobs
// and start-up recovery both take them from here.
import type { Config } from '../../config.js';
import type { Store } from '../../store/index.js';
import { createBackupDocker } from '../backup/helper.js';
import { preUpdateBackup } from '../backup/pre-update.js';
import type { DockerEngine } from '../docker/engine.js';
import type { CommandDeps } from './commands.js';
import type { BackupCallback } from './plan.js';

export interface UpdateDeps extends CommandDeps {
  store: Store;
  docker: DockerEngine;
  /** Default 90 000. */
  healthTimeoutMs?: number;
  /** Default 2000. */
  healthPollMs?: number;
  /** Runs the pre-update backup of a stack; without it backups are reported as not configured. */
  backup?: BackupCallback;
}

export function executorDeps(config: Config, store: Store, docker: DockerEngine): UpdateDeps {
  return {
    store,
    docker,
    composeBin: config.composeBin,
    dockerHost: config.dockerHost,
    dockerConfigPath: config.dockerConfigPath,
    retry: config.updateRetry,
    overrideDir: config.overrideDir,
    healthTimeoutMs: config.updateHealthTimeoutSeconds * 1000,
    backup: preUpdateBackup({ store, docker: createBackupDocker({ dockerHost: config.dockerHost }), helperImage: config.helperImage }),
  };
}
