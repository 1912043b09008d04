export const COMPOSE_LABELS = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  oneoff: 'com.docker.compose.oneoff',
  configFiles: 'com.docker.compose.project.config_files',
  workingDir: 'com.docker.compose.project.working_dir',
  environmentFile: 'com.docker.compose.project.environment_file',
} as const;

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
export type ContainerHealth = 'healthy' | 'unhealthy' | 'starting';

/** A container created by Docker Compose, as the container list reports it. */
export interface ComposeContainer {
  id: string;
  name: string;
  project: string;
  service: string;
  /** Image id the container runs (`sha256:…`). */
  imageId: string;
  /** `Config.Image`: the image as written in the Compose file. */
  configuredImage: string;
  labels: Record<string, string>;
  state: ContainerState;
  /** Absent when the container has no healthcheck. */
  health?: ContainerHealth;
}

export type StackStatus = 'healthy' | 'degraded' | 'unknown';

/**
 * The list API has no health field (Docker 20.10); it is part of the status text:
 * "Up 3 seconds (healthy)", "Up 1 second (health: starting)", "Up 2 minutes (unhealthy)".
 */
export function healthFromStatusText(status: string): ContainerHealth | undefined {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  if (!match) return undefined;
  return match[1] === 'health: starting' ? 'starting' : (match[1] as ContainerHealth);
}

/**
 * healthy: every container runs and is healthy or has no healthcheck; degraded: some container is
 * not running or not (yet) healthy, or an expected service has no container at all; unknown: no
 * containers. Pass stopped containers too (`includeStopped`), or a stopped service looks healthy.
 */
export function stackStatus(containers: readonly ComposeContainer[], expectedServices: readonly string[] = []): StackStatus {
  if (containers.length === 0) return 'unknown';
  const servicesWithContainers = new Set(containers.map((container) => container.service));
  if (expectedServices.some((service) => !servicesWithContainers.has(service))) return 'degraded';
  const allUp = containers.every(
    (container) => container.state === 'running' && (container.health === undefined || container.health === 'healthy'),
  );
  return allUp ? 'healthy' : 'degraded';
}
