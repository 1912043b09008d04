// A plain registry speaking the distribution API (the CNCF registry, Harbor, GitLab, Gitea, …):
// HTTPS unless it is on loopback or listed insecure, as Docker decides; no API beyond /v2/.
import { repositoryPullScope, type RegistryHostProfile } from './profile.js';

/** Loopback registries speak plain HTTP, as Docker assumes; so do those listed insecure ("host" for any port, or "host:port"). */
export function usesPlainHttp(registry: string, insecureRegistries: ReadonlySet<string>): boolean {
  const { hostname } = new URL(`http://${registry}`);
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
  return loopback || insecureRegistries.has(registry) || insecureRegistries.has(hostname);
}

export function distributionProfile(insecureRegistries: ReadonlySet<string>): RegistryHostProfile {
  return {
    family: 'distribution',
    apiBaseUrl: (registry) => `${usesPlainHttp(registry, insecureRegistries) ? 'http' : 'https'}://${registry}`,
    pullScope: repositoryPullScope,
  };
}
