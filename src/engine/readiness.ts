// Readiness (GET /api/ready): whether this instance can do its work now, as a load balancer or an
// orchestrator asks it. Unlike liveness (/api/health) it fails while the database or the Docker
// engine does not answer. Each probe is bounded, so the answer always comes.
import { errorText } from '../errors.js';
import type { Store } from '../store/index.js';
import { within } from './deploy-check/check.js';
import type { DockerEngine } from './docker/index.js';

export interface ReadinessProbe {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  checks: { database: ReadinessProbe; docker: ReadinessProbe };
}

const PROBE_TIMEOUT_MS = 2000;

async function probe(what: string, run: () => Promise<unknown>): Promise<ReadinessProbe> {
  const started = performance.now();
  try {
    await within(PROBE_TIMEOUT_MS, what, run());
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: errorText(error) };
  }
}

export async function readiness(deps: { store: Pick<Store, 'ping'>; docker: Pick<DockerEngine, 'ping'> }): Promise<Readiness> {
  const [database, docker] = await Promise.all([probe('the database', () => deps.store.ping()), probe('the Docker engine', () => deps.docker.ping())]);
  return { ready: database.ok && docker.ok, checks: { database, docker } };
}
