import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import proxyaddr from 'proxy-addr';
import { projectRoot } from './spec.js';

/** Everything the API process reads from its environment, parsed and validated once. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export interface Config {
  http: { host: string; port: number };
  databaseUrl?: string;
  sqlitePath: string;
  appVersion: string;
  logLevel: LogLevel;
  auth: AuthConfig;
  webhookSecret?: string;
  /** `GET /metrics` without forward auth (`DOCKREV_METRICS_PUBLIC`). */
  metricsPublic: boolean;
  /** Names this deployment among instances sharing PostgreSQL (`DOCKREV_INSTANCE_ID`, default the host name). */
  instanceId: string;
  /** `unix:///path` or `tcp://host:port`; the local socket when unset. */
  dockerHost?: string;
  dockerConfigPath?: string;
  composeBin: string[];
  selfUpgradeUrl: string;
  imageRepo: string;
  hostPlatform: string;
  insecureRegistries: string[];
  /** Which hosts belong to which registry family, and where the families' own APIs are. */
  registryHosts: { quayHosts: string[]; ghcrHost: string; dockerHubApiBaseUrl: string };
  /** GitHub's REST API (webhook management, owner listings) and how long one call may take. */
  github: { apiBaseUrl: string; timeoutMs: number };
  discovery: { intervalSeconds: number; maxActions: number; requireLabel: boolean };
  runtimeScanIntervalSeconds: number;
  deployCheckCommandTimeoutSeconds: number;
  notifications: {
    /** Bot API base URL (a local double in tests). */
    telegramApiBaseUrl: string;
    /** The first retry of a failed send waits this long; each later one twice as long. */
    retryBaseSeconds: number;
  };
  registryRetry: RetryPolicy;
  updateRetry: RetryPolicy;
  /** How long a recreated container may take to become healthy before the update rolls back. */
  updateHealthTimeoutSeconds: number;
  /** Image for backup helper containers (needs sh, du and tar). */
  helperImage: string;
  /** Where update jobs write their temporary Compose override files. */
  overrideDir: string;
}

export interface AuthConfig {
  forwardHeaderName: string;
  groupHeaderName: string;
  allowedUser?: string;
  allowedGroup?: string;
  allowAnonymousInDev: boolean;
  /** When set, identity headers are honoured only from these peers. */
  /** Addresses, CIDR ranges or proxy-addr's names (`loopback`, `linklocal`, `uniquelocal`). */
  trustedProxies?: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** Reads one variable at a time and collects every problem, so one start-up shows them all. */
export class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const lowered = raw.toLowerCase();
    if (['1', 'true', 'yes', 'y', 'on'].includes(lowered)) return true;
    if (['0', 'false', 'no', 'n', 'off'].includes(lowered)) return false;
    this.problems.push(`${name}: expected a boolean (true/false/1/0/yes/no/on/off), got '${raw}'`);
    return fallback;
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!/^-?\d+$/.test(raw)) {
      this.problems.push(`${name}: expected an integer, got '${raw}'`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      this.problems.push(`${name}: must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  }

  /** A comma-separated list, entries trimmed, empty ones dropped; unset means `fallback`. */
  list(name: string, fallback: string[]): string[] {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    return raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  }

  /** An absolute http(s) URL without a trailing slash (a base URL of a service Dockrev calls). */
  httpUrl(name: string, fallback: string): string {
    const raw = this.string(name) ?? fallback;
    try {
      const url = new URL(raw);
      if (url.protocol === 'http:' || url.protocol === 'https:') return raw.replace(/\/+$/, '');
    } catch {
      // reported below
    }
    this.problem(name, `expected an http:// or https:// URL, got '${raw}'`);
    return fallback;
  }

  /** A listen address; an unparsable one is reported and the default used. */
  hostPort(name: string, fallback: string): { host: string; port: number } {
    const raw = this.string(name) ?? fallback;
    const parsed = parseHostPort(raw);
    if (parsed) return parsed;
    this.problem(name, `expected host:port (e.g. ${fallback}), got '${raw}'`);
    return parseHostPort(fallback)!;
  }

  logLevel(): LogLevel {
    const level = (this.string('DOCKREV_LOG_LEVEL') ?? 'info') as LogLevel;
    if (LOG_LEVELS.includes(level)) return level;
    this.problem('DOCKREV_LOG_LEVEL', `expected one of ${LOG_LEVELS.join('/')}, got '${level}'`);
    return 'info';
  }

  /** `<prefix>_MAX_ATTEMPTS`, `_BASE_MS` and `_MAX_MS`, with max at least base. */
  retry(prefix: string, defaults: RetryPolicy): RetryPolicy {
    const policy = {
      maxAttempts: this.int(`${prefix}_MAX_ATTEMPTS`, defaults.maxAttempts, 1, 20),
      baseMs: this.int(`${prefix}_BASE_MS`, defaults.baseMs, 0, 600_000),
      maxMs: this.int(`${prefix}_MAX_MS`, defaults.maxMs, 0, 600_000),
    };
    if (policy.maxMs < policy.baseMs) this.problem(`${prefix}_MAX_MS`, `must be at least ${prefix}_BASE_MS (${policy.baseMs})`);
    return policy;
  }

  problem(name: string, message: string): void {
    this.problems.push(`${name}: ${message}`);
  }
}

export function parseHostPort(raw: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(raw);
  if (!match) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function defaultHostPlatform(): string {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
  return `linux/${arch[process.arch] ?? process.arch}`;
}

export interface PackageInfo {
  version: string;
  repository?: string;
  author?: string;
  homepage?: string;
}

export function packageInfo(): PackageInfo {
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as {
    version?: string;
    repository?: string | { url?: string };
    author?: string;
    homepage?: string;
  };
  const repository = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  return { version: pkg.version ?? '0.0.0', repository, author: pkg.author, homepage: pkg.homepage };
}

function trustedProxyEntryValid(entry: string): boolean {
  try {
    proxyaddr.compile(entry);
    return true;
  } catch {
    return false;
  }
}

/**
 * With an allowlist but no trusted-proxy list, whoever reaches the port can send the identity
 * header and is admitted: the proxy must be the only way in, and Dockrev should be told which
 * peer it is. Logged at start-up and shown in the deploy-check report.
 */
export function unguardedIdentityWarning(auth: AuthConfig): string | undefined {
  if (!(auth.allowedUser || auth.allowedGroup) || auth.trustedProxies) return undefined;
  return (
    `an allowlist is set but DOCKREV_AUTH_TRUSTED_PROXIES is not: any client that reaches this port can send ` +
    `${auth.forwardHeaderName} / ${auth.groupHeaderName} and be admitted. Set DOCKREV_AUTH_TRUSTED_PROXIES to the ` +
    `address or range of your forward-auth proxy, and publish the port only to it`
  );
}

/** The DOCKREV_AUTH_* variables, shared by the API and the supervisor. */
export function readAuthConfig(read: EnvReader): AuthConfig {
  let trustedProxies: string[] | undefined;
  const proxiesRaw = read.string('DOCKREV_AUTH_TRUSTED_PROXIES');
  if (proxiesRaw) {
    trustedProxies = [];
    for (const entry of proxiesRaw.split(',').map((part) => part.trim()).filter(Boolean)) {
      if (trustedProxyEntryValid(entry)) trustedProxies.push(entry);
      else read.problem('DOCKREV_AUTH_TRUSTED_PROXIES', `'${entry}' is not an IP address or CIDR range`);
    }
  }
  return {
    forwardHeaderName: read.string('DOCKREV_AUTH_FORWARD_HEADER_NAME') ?? 'X-Forwarded-User',
    groupHeaderName: read.string('DOCKREV_AUTH_GROUP_HEADER_NAME') ?? 'Remote-Groups',
    allowedUser: read.string('DOCKREV_AUTH_ALLOWED_USER'),
    allowedGroup: read.string('DOCKREV_AUTH_ALLOWED_GROUP'),
    allowAnonymousInDev: read.bool('DOCKREV_AUTH_ALLOW_ANONYMOUS_IN_DEV', true),
    trustedProxies,
  };
}

export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);

  const http = read.hostPort('DOCKREV_HTTP_ADDR', '0.0.0.0:50883');

  const databaseUrl = read.string('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    read.problem('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  }


  const hostPlatform = read.string('DOCKREV_HOST_PLATFORM') ?? defaultHostPlatform();
  if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(hostPlatform)) {
    read.problem('DOCKREV_HOST_PLATFORM', `expected os/arch[/variant] (e.g. linux/amd64), got '${hostPlatform}'`);
  }

  const composeBinRaw = read.string('DOCKREV_COMPOSE_BIN') ?? 'docker-compose';
  const composeBin = composeBinRaw.split(/\s+/);

  const sqlitePath = read.string('DOCKREV_DB_PATH') ?? './data/dockrev.sqlite3';

  const config: Config = {
    http,
    databaseUrl,
    sqlitePath,
    appVersion: read.string('APP_EFFECTIVE_VERSION') ?? packageInfo().version,
    logLevel: read.logLevel(),
    auth: readAuthConfig(read),
    webhookSecret: read.string('DOCKREV_WEBHOOK_SECRET'),
    metricsPublic: read.bool('DOCKREV_METRICS_PUBLIC', false),
    instanceId: read.string('DOCKREV_INSTANCE_ID') ?? hostname(),
    dockerHost: read.string('DOCKER_HOST'),
    dockerConfigPath: read.string('DOCKREV_DOCKER_CONFIG'),
    composeBin,
    selfUpgradeUrl: read.string('DOCKREV_SELF_UPGRADE_URL') ?? '/supervisor/',
    imageRepo: read.string('DOCKREV_IMAGE_REPO') ?? 'ghcr.io/ivanli-cn/dockrev',
    hostPlatform,
    insecureRegistries: read.list('DOCKREV_INSECURE_REGISTRIES', []).map((entry) => entry.toLowerCase()),
    registryHosts: {
      quayHosts: read.list('DOCKREV_QUAY_HOSTS', ['quay.io']).map((host) => host.toLowerCase()),
      ghcrHost: (read.string('DOCKREV_GHCR_HOST') ?? 'ghcr.io').toLowerCase(),
      dockerHubApiBaseUrl: read.httpUrl('DOCKREV_DOCKER_HUB_API_BASE_URL', 'https://hub.docker.com'),
    },
    github: {
      apiBaseUrl: read.httpUrl('DOCKREV_GITHUB_API_BASE_URL', 'https://api.github.com'),
      timeoutMs: read.int('DOCKREV_GITHUB_TIMEOUT_SECONDS', 8, 1, 120) * 1000,
    },
    discovery: {
      intervalSeconds: read.int('DOCKREV_DISCOVERY_INTERVAL_SECONDS', 60, 10),
      maxActions: read.int('DOCKREV_DISCOVERY_MAX_ACTIONS', 200, 1),
      requireLabel: read.bool('DOCKREV_DISCOVERY_REQUIRE_LABEL', false),
    },
    runtimeScanIntervalSeconds: read.int('DOCKREV_RUNTIME_SCAN_INTERVAL_SECONDS', 600, 30),
    deployCheckCommandTimeoutSeconds: read.int('DOCKREV_DEPLOY_CHECK_LOCAL_COMMAND_TIMEOUT_SECONDS', 12, 1),
    notifications: {
      telegramApiBaseUrl: read.httpUrl('DOCKREV_TELEGRAM_API_BASE_URL', 'https://api.telegram.org'),
      retryBaseSeconds: read.int('DOCKREV_NOTIFICATION_RETRY_BASE_SECONDS', 60, 1, 86_400),
    },
    registryRetry: read.retry('DOCKREV_REGISTRY_RETRY', { maxAttempts: 3, baseMs: 250, maxMs: 2000 }),
    updateRetry: read.retry('DOCKREV_UPDATE_IDEMPOTENT_RETRY', { maxAttempts: 3, baseMs: 300, maxMs: 3000 }),
    updateHealthTimeoutSeconds: read.int('DOCKREV_UPDATE_HEALTH_TIMEOUT_SECONDS', 90, 1, 3600),
    helperImage: read.string('DOCKREV_HELPER_IMAGE') ?? 'busybox:stable',
    overrideDir: read.string('DOCKREV_OVERRIDE_DIR') ?? join(dirname(sqlitePath), 'overrides'),
  };

  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/** Legacy variables that are accepted but no longer do anything; start-up warns about them. */
export const IGNORED_LEGACY_VARIABLES = [
  'DOCKREV_GHCR_WEBHOOK_AUDIT_INTERVAL_SECONDS',
  'DOCKREV_CHECK_CONCURRENCY',
  'DOCKREV_REGISTRY_PER_HOST_CONCURRENCY',
];
