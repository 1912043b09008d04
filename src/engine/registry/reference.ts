// Image references as Docker reads them: `[registry/]name[:tag][@digest]`.

import { DOCKER_HUB, isDockerHubAlias } from './hosts/docker-hub.js';

export { DOCKER_HUB };

/** A registry and a repository in it: everything the registry API needs to address a repository. */
export interface RepositoryRef {
  /** "docker.io", "ghcr.io", "127.0.0.1:5101" (lowercase, Docker Hub aliases folded into docker.io). */
  registry: string;
  /** "library/nginx", "acme/web". */
  repository: string;
}

export interface ImageRef extends RepositoryRef {
  tag?: string;
  /** "sha256:<64 hex>" when the reference pins one. */
  digest?: string;
  /** The image repository key (`imageRepo`): "<registry>/<repository>", e.g. "docker.io/library/nginx". */
  key: string;
}

export class InvalidImageRefError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid image ref '${input}': ${reason} (expected repo/name[:tag][@sha256:digest])`);
    this.name = 'InvalidImageRefError';
  }
}

const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY_HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;

export function parseImageRef(text: string): ImageRef {
  const input = text.trim();
  const fail = (reason: string): never => {
    throw new InvalidImageRefError(text, reason);
  };
  if (input === '') fail('empty');
  if (/\s/.test(input)) fail('contains whitespace');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail(`bad digest '${digest}'`);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  // A ':' followed by a '/' belongs to a registry port ("localhost:5000/app"), not to a tag.
  if (colon >= 0 && !rest.slice(colon + 1).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(tag === '' ? 'empty tag' : `bad tag '${tag}'`);
  }

  const segments = rest.split('/');
  let registry = DOCKER_HUB;
  const first = segments[0]!;
  if (segments.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!REGISTRY_HOST.test(first)) fail(`bad registry host '${first}'`);
    registry = normalizeRegistryHost(first);
    segments.shift();
  }
  for (const segment of segments) {
    if (segment !== segment.toLowerCase()) fail('repository names must be lowercase');
    if (!PATH_COMPONENT.test(segment)) fail(segment === '' ? 'empty path component' : `bad path component '${segment}'`);
  }
  if (registry === DOCKER_HUB && segments.length === 1) segments.unshift('library');
  const repository = segments.join('/');
  if (repository.length > 255) fail('repository name longer than 255 characters');

  return { registry, repository, tag, digest, key: `${registry}/${repository}` };
}

/** Lowercase, with Docker Hub's aliases folded into "docker.io" so that keys compare equal. */
export function normalizeRegistryHost(host: string): string {
  const lowered = host.trim().toLowerCase();
  return isDockerHubAlias(lowered) ? DOCKER_HUB : lowered;
}

/** "sha256:ABC…" / " abc… " → "sha256:abc…": digests from users, labels and headers compare equal. */
export function normalizeDigest(text: string): string {
  const lowered = text.trim().toLowerCase();
  return lowered.includes(':') ? lowered : `sha256:${lowered}`;
}

export function isDigest(text: string): boolean {
  return DIGEST.test(text);
}
