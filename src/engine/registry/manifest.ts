// Manifest parsing and platform matching: pure functions over registry documents.

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** Accept header for manifest requests, multi-platform types first. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
].join(', ');

const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

export interface PlatformManifest {
  /** "os/arch[/variant]", e.g. "linux/arm/v7". */
  platform: string;
  digest: string;
}

/** A manifest list / OCI index: one manifest per platform. */
export interface IndexManifest {
  kind: 'index';
  digest: string;
  mediaType: string;
  manifests: PlatformManifest[];
}

/** A single-platform image manifest; its platform comes from the config blob. */
export interface ImageManifest {
  kind: 'image';
  digest: string;
  mediaType: string;
  configDigest: string;
  /** Whether the config blob is an image config (artifacts carry other configs with no platform). */
  configIsImage: boolean;
  /** "os/arch[/variant]" from the config blob; undefined when it names none. */
  platform?: string;
}

export type Manifest = IndexManifest | ImageManifest;

export type ArchMatch = 'match' | 'mismatch' | 'unknown';

export interface PlatformSelection {
  /** Every platform the manifest offers, sorted and de-duplicated. */
  platforms: string[];
  /** For an index: the digest of the host platform's manifest, when one can be chosen. */
  platformDigest?: string;
  archMatch: ArchMatch;
}

/** Thrown for documents that are not a manifest we understand; the client turns it into invalid_response. */
export class ManifestFormatError extends Error {}

/**
 * Parses a manifest body. `contentType` is the response's Content-Type, which may be absent or
 * generic: then the document's own mediaType, and finally its shape, decide.
 */
export function parseManifest(body: Buffer, contentType: string | undefined, digest: string): Manifest {
  let document: {
    mediaType?: unknown;
    manifests?: unknown;
    config?: { digest?: unknown; mediaType?: unknown };
  };
  try {
    document = JSON.parse(body.toString('utf8')) as typeof document;
  } catch {
    throw new ManifestFormatError('manifest is not valid JSON');
  }
  if (document === null || typeof document !== 'object') throw new ManifestFormatError('manifest is not a JSON object');

  const headerType = contentType?.split(';')[0]!.trim().toLowerCase();
  const mediaType = [headerType, document.mediaType].find(
    (type): type is string => typeof type === 'string' && Object.values(MEDIA_TYPES).includes(type as never),
  );

  if (Array.isArray(document.manifests) && (!mediaType || mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList)) {
    return { kind: 'index', digest, mediaType: mediaType ?? MEDIA_TYPES.ociIndex, manifests: indexEntries(document.manifests) };
  }
  const config = document.config;
  if (config && typeof config === 'object' && typeof config.digest === 'string') {
    const configType = typeof config.mediaType === 'string' ? config.mediaType : undefined;
    return {
      kind: 'image',
      digest,
      mediaType: mediaType ?? MEDIA_TYPES.ociManifest,
      configDigest: config.digest,
      configIsImage: configType === undefined || IMAGE_CONFIG_TYPES.has(configType),
    };
  }
  throw new ManifestFormatError(`unsupported manifest (media type ${mediaType ?? headerType ?? 'unknown'})`);
}

interface IndexEntry {
  digest?: unknown;
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown };
}

function indexEntries(entries: unknown[]): PlatformManifest[] {
  const result: PlatformManifest[] = [];
  for (const entry of entries as IndexEntry[]) {
    if (!entry || typeof entry !== 'object' || typeof entry.digest !== 'string') {
      throw new ManifestFormatError('index entry without a digest');
    }
    const platform = formatPlatform(entry.platform?.os, entry.platform?.architecture, entry.platform?.variant);
    // Build attestations are listed as "unknown/unknown": they are not something a host can run.
    if (platform && platform !== 'unknown/unknown') result.push({ platform, digest: entry.digest });
  }
  return result;
}

/** The platform an image config blob describes, or undefined when it names none. */
export function platformFromConfig(body: Buffer): string | undefined {
  let config: { os?: unknown; architecture?: unknown; variant?: unknown };
  try {
    config = JSON.parse(body.toString('utf8')) as typeof config;
  } catch {
    throw new ManifestFormatError('image config is not valid JSON');
  }
  if (config === null || typeof config !== 'object') throw new ManifestFormatError('image config is not a JSON object');
  return formatPlatform(config.os, config.architecture, config.variant);
}

function formatPlatform(os: unknown, architecture: unknown, variant: unknown): string | undefined {
  if (typeof os !== 'string' || !os || typeof architecture !== 'string' || !architecture) return undefined;
  return typeof variant === 'string' && variant ? `${os}/${architecture}/${variant}` : `${os}/${architecture}`;
}

export function platformsOf(manifest: Manifest): string[] {
  const platforms = manifest.kind === 'index' ? manifest.manifests.map((entry) => entry.platform) : manifest.platform ? [manifest.platform] : [];
  return [...new Set(platforms)].sort();
}

/**
 * Which of the manifest's platforms the host runs (behaviour.md E.2): the platform digest is the
 * exact host platform, else the only entry with the host's os/arch; archMatch is `match` when
 * the host platform is listed or a variant-less host matches an entry's os/arch.
 */
export function selectPlatform(manifest: Manifest, hostPlatform: string): PlatformSelection {
  const platforms = platformsOf(manifest);
  const host = comparablePlatform(hostPlatform);
  const hostOsArch = osArch(host);
  const hostHasVariant = host !== hostOsArch;

  let archMatch: ArchMatch = 'unknown';
  if (platforms.length > 0) {
    const listed = platforms.some((platform) => comparablePlatform(platform) === host);
    const osArchListed = !hostHasVariant && platforms.some((platform) => osArch(comparablePlatform(platform)) === hostOsArch);
    archMatch = listed || osArchListed ? 'match' : 'mismatch';
  }

  let platformDigest: string | undefined;
  if (manifest.kind === 'index') {
    const exact = manifest.manifests.find((entry) => comparablePlatform(entry.platform) === host);
    const sameOsArch = new Set(manifest.manifests.filter((entry) => osArch(comparablePlatform(entry.platform)) === hostOsArch).map((entry) => entry.digest));
    platformDigest = exact?.digest ?? (sameOsArch.size === 1 ? [...sameOsArch][0] : undefined);
  }
  return { platforms, platformDigest, archMatch };
}

/** arm64 images are published as "linux/arm64" and "linux/arm64/v8" alike: they are the same platform. */
function comparablePlatform(platform: string): string {
  const lowered = platform.trim().toLowerCase();
  return lowered.endsWith('/arm64/v8') ? lowered.slice(0, -'/v8'.length) : lowered;
}

function osArch(platform: string): string {
  return platform.split('/').slice(0, 2).join('/');
}
