// The profile that speaks for each registry host (see profile.ts).
import { distributionProfile } from './distribution.js';
import { DOCKER_HUB, dockerHubProfile } from './docker-hub.js';
import { GHCR, ghcrProfile } from './ghcr.js';
import type { RegistryHostProfile } from './profile.js';
import { QUAY_IO, quayProfile } from './quay.js';

export { DOCKER_HUB, isDockerHubAlias, repositorySpellings } from './docker-hub.js';
export { usesPlainHttp } from './distribution.js';
export { githubRepositoryOf } from './ghcr.js';
export type { RegistryHostProfile } from './profile.js';

export interface RegistryHostsOptions {
  /** "host" or "host:port" entries spoken to over plain HTTP (loopback registries always are). */
  insecureRegistries?: readonly string[];
  /** Hosts running Quay (default quay.io). */
  quayHosts?: readonly string[];
  /** The host that counts as GitHub's container registry (default ghcr.io). */
  ghcrHost?: string;
  /** Docker Hub's own API (default https://hub.docker.com). */
  dockerHubApiBaseUrl?: string;
}

export class RegistryHosts {
  private readonly distribution: RegistryHostProfile;
  private readonly dockerHub: RegistryHostProfile;
  private readonly quay: RegistryHostProfile;
  private readonly ghcr: RegistryHostProfile;
  private readonly quayHosts: Set<string>;
  readonly ghcrHost: string;

  constructor(options: RegistryHostsOptions = {}) {
    const insecure = new Set((options.insecureRegistries ?? []).map((entry) => entry.trim().toLowerCase()));
    this.distribution = distributionProfile(insecure);
    this.dockerHub = dockerHubProfile(options.dockerHubApiBaseUrl);
    this.quay = quayProfile(this.distribution.apiBaseUrl);
    this.ghcr = ghcrProfile(this.distribution.apiBaseUrl);
    this.quayHosts = new Set((options.quayHosts ?? [QUAY_IO]).map((host) => host.trim().toLowerCase()));
    this.ghcrHost = (options.ghcrHost ?? GHCR).trim().toLowerCase();
  }

  /** The profile of a registry host as image references name it (lowercase, Docker Hub aliases folded). */
  profileFor(registry: string): RegistryHostProfile {
    if (registry === DOCKER_HUB) return this.dockerHub;
    if (this.quayHosts.has(registry)) return this.quay;
    if (registry === this.ghcrHost) return this.ghcr;
    return this.distribution;
  }
}
