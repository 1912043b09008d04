// Registry credentials from a Docker config.json (DOCKREV_DOCKER_CONFIG), as `docker login` writes it.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeRegistryHost } from './reference.js';

export interface RegistryCredential {
  username: string;
  password: string;
}

export class DockerCredentials {
  constructor(private readonly byRegistry: ReadonlyMap<string, RegistryCredential> = new Map()) {}

  /** Credentials for a registry ("docker.io", "127.0.0.1:5102"), whatever spelling config.json used. */
  forRegistry(registry: string): RegistryCredential | undefined {
    return this.byRegistry.get(normalizeCredentialKey(registry));
  }

  /** Registries that have credentials (normalised keys). */
  registries(): string[] {
    return [...this.byRegistry.keys()];
  }
}

export interface LoadedDockerCredentials {
  credentials: DockerCredentials;
  /** Problems worth a log line; loading never throws, so a bad file cannot break a check. */
  warnings: string[];
}

/**
 * "https://index.docker.io/v1/" → "docker.io", "http://127.0.0.1:5102/v2/" → "127.0.0.1:5102":
 * config.json keys carry schemes and API suffixes that image references never have.
 */
export function normalizeCredentialKey(key: string): string {
  const withoutScheme = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const withoutSuffix = withoutScheme.replace(/\/+(v1|v2)?\/*$/i, '');
  return normalizeRegistryHost(withoutSuffix);
}

/** Reads config.json at `path` (a directory means `<path>/config.json`). No path → no credentials. */
export async function loadDockerCredentials(path: string | undefined): Promise<LoadedDockerCredentials> {
  if (!path) return { credentials: new DockerCredentials(), warnings: [] };
  try {
    const file = (await stat(path)).isDirectory() ? join(path, 'config.json') : path;
    return parseDockerConfig(await readFile(file, 'utf8'), file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `unreadable (${(error as Error).message})`;
    return {
      credentials: new DockerCredentials(),
      warnings: [`docker config ${path} ${reason}; registries are accessed anonymously`],
    };
  }
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

export function parseDockerConfig(text: string, source: string): LoadedDockerCredentials {
  const warnings: string[] = [];
  let config: { auths?: unknown; credsStore?: unknown; credHelpers?: unknown };
  try {
    config = JSON.parse(text) as typeof config;
  } catch {
    return { credentials: new DockerCredentials(), warnings: [`docker config ${source} is not valid JSON; registries are accessed anonymously`] };
  }
  if (config === null || typeof config !== 'object') {
    return { credentials: new DockerCredentials(), warnings: [`docker config ${source} is not a JSON object; registries are accessed anonymously`] };
  }
  if (config.credsStore !== undefined || config.credHelpers !== undefined) {
    warnings.push(`docker config ${source}: credential helpers (credsStore/credHelpers) are not supported; only "auths" entries are used`);
  }

  const byRegistry = new Map<string, RegistryCredential>();
  const auths = config.auths && typeof config.auths === 'object' ? (config.auths as Record<string, AuthEntry>) : {};
  for (const [key, entry] of Object.entries(auths)) {
    const registry = normalizeCredentialKey(key);
    if (byRegistry.has(registry) || !entry || typeof entry !== 'object') continue;
    const credential = credentialFromEntry(entry);
    if (credential === 'malformed') warnings.push(`docker config ${source}: the "auth" of ${key} is not base64 of user:password; ignored`);
    else if (credential) byRegistry.set(registry, credential);
  }
  return { credentials: new DockerCredentials(byRegistry), warnings };
}

function credentialFromEntry(entry: AuthEntry): RegistryCredential | 'malformed' | undefined {
  // An identity token is what `docker login` keeps for OAuth registries; Docker sends it as "oauth2".
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) {
    return { username: 'oauth2', password: entry.identitytoken };
  }
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return 'malformed';
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && entry.username && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}
