import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/index.js';

/** What handlers may use: configuration, the store, the engine and a logger. No HTTP objects leak past here. */
export interface AppDeps {
  config: Config;
  store: Store;
  engine: Engine;
  logger: Logger;
  /** The series of `GET /metrics`. */
  metrics: Metrics;
}
