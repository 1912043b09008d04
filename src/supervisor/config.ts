import { EnvReader, packageInfo, readAuthConfig, ConfigError, type AuthConfig, type Env, type LogLevel } from '../config.js';

/** The supervisor process's environment (behaviour: supervisor variables plus DOCKREV_AUTH_*). */
export interface SupervisorConfig {
  http: { host: string; port: number };
  basePath: string;
  appVersion: string;
  logLevel: LogLevel;
  auth: AuthConfig;
  target: {
    imageRepo: string;
    containerId?: string;
    composeProject?: string;
    composeService?: string;
    composeFiles: string[];
  };
  dockerBin: string;
  dockerHost?: string;
  composeBin: string[];
  statePath: string;
  /** How long a recreated target may take to answer /api/health before the upgrade fails. */
  healthTimeoutSeconds: number;
  about: { repository: string; developerName: string; developerUrl: string };
}

// Credits reported by GET /supervisor/version when package.json names nobody else.
const UPSTREAM = {
  repository: 'https://github.com/IvanLi-CN/dockrev',
  developerName: 'Ivan Li',
  developerUrl: 'https://github.com/IvanLi-CN',
};

function repositoryLink(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const link = raw.replace(/^git\+/, '').replace(/\.git$/, '').replace(/\/+$/, '');
  return /^https?:\/\//.test(link) ? link : undefined;
}

export function loadSupervisorConfig(env: Env = process.env): SupervisorConfig {
  const read = new EnvReader(env);
  const http = read.hostPort('DOCKREV_SUPERVISOR_HTTP_ADDR', '0.0.0.0:50884');

  const basePathRaw = read.string('DOCKREV_SUPERVISOR_BASE_PATH') ?? '/supervisor';
  const basePath = basePathRaw.replace(/\/+$/, '');
  if (!basePathRaw.startsWith('/') || basePath === '') {
    read.problem('DOCKREV_SUPERVISOR_BASE_PATH', `must start with '/' and must not be '/', got '${basePathRaw}'`);
  }

  const pkg = packageInfo();
  const author = pkg.author?.replace(/<[^>]*>/, '').trim();
  const config: SupervisorConfig = {
    http,
    basePath,
    appVersion: read.string('APP_EFFECTIVE_VERSION') ?? pkg.version,
    logLevel: read.logLevel(),
    auth: readAuthConfig(read),
    target: {
      imageRepo: read.string('DOCKREV_SUPERVISOR_TARGET_IMAGE_REPO') ?? 'ghcr.io/ivanli-cn/dockrev',
      containerId: read.string('DOCKREV_SUPERVISOR_TARGET_CONTAINER_ID'),
      composeProject: read.string('DOCKREV_SUPERVISOR_TARGET_COMPOSE_PROJECT'),
      composeService: read.string('DOCKREV_SUPERVISOR_TARGET_COMPOSE_SERVICE'),
      composeFiles: (read.string('DOCKREV_SUPERVISOR_TARGET_COMPOSE_FILES') ?? '')
        .split(',')
        .map((file) => file.trim())
        .filter(Boolean),
    },
    dockerBin: read.string('DOCKREV_SUPERVISOR_DOCKER_BIN') ?? 'docker',
    dockerHost: read.string('DOCKREV_SUPERVISOR_DOCKER_HOST'),
    composeBin: (read.string('DOCKREV_SUPERVISOR_COMPOSE_BIN') ?? 'docker-compose').split(/\s+/),
    statePath: read.string('DOCKREV_SUPERVISOR_STATE_PATH') ?? './data/supervisor/self-upgrade.json',
    healthTimeoutSeconds: read.int('DOCKREV_SUPERVISOR_HEALTH_TIMEOUT_SECONDS', 180, 1, 3600),
    about: {
      repository: repositoryLink(pkg.repository) ?? UPSTREAM.repository,
      developerName: author || UPSTREAM.developerName,
      developerUrl: repositoryLink(pkg.homepage) ?? UPSTREAM.developerUrl,
    },
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
