// GitHub's container registry (ghcr.io, or the host configured in its place): a distribution
// registry whose repositories are `<owner>/<repo>[/<image>]` of GitHub; its package API needs a
// token with package scopes, so tags are read through the registry API like any other.
import { repositoryPullScope, type RegistryHostProfile } from './profile.js';

export const GHCR = 'ghcr.io';

/** The GitHub repository (`owner/repo`, lowercase) an image repository of GHCR belongs to by naming convention. */
export function githubRepositoryOf(repository: string): string | undefined {
  const [owner, repo] = repository.toLowerCase().split('/');
  return owner && repo ? `${owner}/${repo}` : undefined;
}

export function ghcrProfile(apiBaseUrl: (registry: string) => string): RegistryHostProfile {
  return { family: 'ghcr', apiBaseUrl, pullScope: repositoryPullScope };
}
