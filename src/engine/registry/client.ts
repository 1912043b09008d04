// Registry HTTP API v2 / OCI distribution client: anonymous first, Bearer or Basic on a 401,
// HEAD before GET, caches for what is immutable, and limits on what reaches each host (http.ts).
// What differs between registry families comes from their host profiles (hosts/).
import { createHash } from 'node:crypto';
import type { Config, RetryPolicy } from '../../config.js';
import { LruCache } from '../../lru.js';
import { parseChallenge, TokenCache, type Challenge, type IssuedToken } from './auth.js';
import { DockerCredentials, loadDockerCredentials } from './credentials.js';
import { errorKindForStatus, RegistryError } from './errors.js';
import { RegistryHosts, type RegistryHostsOptions } from './hosts/index.js';
import { retryAfterMs, RegistryHttp, type HttpRequest, type HttpResponse, type RegistryRequestEvent } from './http.js';
import { MANIFEST_ACCEPT, ManifestFormatError, parseManifest, platformFromConfig, selectPlatform, type ArchMatch, type Manifest } from './manifest.js';
import { isDigest, normalizeDigest, type RepositoryRef } from './reference.js';

export type { RegistryRequestEvent, RegistryRequestKind } from './http.js';

export interface RegistryClientOptions extends Omit<RegistryHostsOptions, 'insecureRegistries'> {
  credentials?: DockerCredentials;
  /** "host" or "host:port" entries spoken to over plain HTTP (loopback registries always are). */
  insecureRegistries?: readonly string[];
  /** Back-off for 429/502/503/504 and network errors. Default 3 attempts, 250 ms base, 2000 ms cap. */
  retry?: RetryPolicy;
  /** Requests in flight per host. Default 7. */
  perHostConcurrency?: number;
  /** Limit for each HTTP exchange, response body included. Default 10 s. */
  timeoutMs?: number;
  /** Parsed manifests (and config blobs) kept by digest. Default 2000. */
  manifestCacheSize?: number;
  /** `n` asked for per tags page. Default 1000. */
  tagsPageSize?: number;
  onRequest?: (event: RegistryRequestEvent) => void;
}

export interface ManifestHead {
  digest: string;
  /** Content-Type of the manifest, when the registry sent one. */
  mediaType?: string;
}

export interface ResolvedTag {
  /** The digest the tag points at: the index digest for multi-platform images. */
  digest: string;
  /** For an index: the host platform's manifest digest, when one can be chosen. */
  platformDigest?: string;
  platforms: string[];
  archMatch: ArchMatch;
}

const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;
/** Stops a registry whose Link headers loop from keeping a listing going forever. */
const MAX_TAG_PAGES = 1000;

export class RegistryClient {
  /** The profile of each registry family (API host, token scope, bulk tag lookups). */
  readonly hosts: RegistryHosts;
  /** The HTTP the client and the profiles share: limits, timeouts, retries, request reports. */
  readonly http: RegistryHttp;
  private readonly credentials: DockerCredentials;
  private readonly tagsPageSize: number;
  private readonly tokens: TokenCache;
  /** The last challenge of each registry: later requests authenticate up front, saving a 401. */
  private readonly challenges: Map<string, Challenge>;
  private readonly manifests: LruCache<string, Manifest>;
  private readonly configPlatforms: LruCache<string, { platform?: string }>;
  private readonly pendingHeads = new Map<string, Promise<ManifestHead>>();
  private readonly pendingManifests = new Map<string, Promise<Manifest>>();

  constructor(
    private readonly options: RegistryClientOptions = {},
    shared?: RegistryClient,
  ) {
    this.credentials = shared?.credentials ?? options.credentials ?? new DockerCredentials();
    this.hosts = shared?.hosts ?? new RegistryHosts(options);
    this.http = new RegistryHttp(options);
    this.tagsPageSize = options.tagsPageSize ?? 1000;
    this.tokens = shared?.tokens ?? new TokenCache();
    this.challenges = shared?.challenges ?? new Map();
    this.manifests = shared?.manifests ?? new LruCache(options.manifestCacheSize ?? 2000);
    this.configPlatforms = shared?.configPlatforms ?? new LruCache(options.manifestCacheSize ?? 2000);
  }

  /**
   * A client for background work (version inference) that shares this one's credentials, tokens
   * and manifest caches but has its own connections, per-host limit and timeout: a registry that
   * is slow or rate-limits holds up that work, never a check or an update waiting for a slot.
   */
  sibling(overrides: Pick<RegistryClientOptions, 'perHostConcurrency' | 'timeoutMs'>): RegistryClient {
    return new RegistryClient({ ...this.options, ...overrides }, this);
  }

  /** A client for the API process: credentials from DOCKREV_DOCKER_CONFIG; warnings are for the log. */
  static async fromConfig(
    config: Pick<Config, 'dockerConfigPath' | 'insecureRegistries' | 'registryRetry'> & Partial<Pick<Config, 'registryHosts'>>,
    options: Omit<RegistryClientOptions, 'credentials' | 'insecureRegistries' | 'retry'> = {},
  ): Promise<{ client: RegistryClient; warnings: string[] }> {
    const { credentials, warnings } = await loadDockerCredentials(config.dockerConfigPath);
    const client = new RegistryClient({
      ...options,
      credentials,
      insecureRegistries: config.insecureRegistries,
      retry: config.registryRetry,
      ...config.registryHosts,
    });
    return { client, warnings };
  }

  /**
   * The digest a tag (or digest) points at, from one HEAD request. Checks running at the same
   * time (a push notice checks each matched service on its own) share a request in flight.
   */
  headManifest(target: RepositoryRef, reference: string): Promise<ManifestHead> {
    return shared(this.pendingHeads, cacheKey(target, reference), () => this.fetchHead(target, reference));
  }

  private async fetchHead(target: RepositoryRef, reference: string): Promise<ManifestHead> {
    const response = await this.authorizedExchange(target, {
      method: 'HEAD',
      url: this.url(target, `manifests/${reference}`),
      kind: 'manifest',
      what: `manifest ${reference}`,
      accept: MANIFEST_ACCEPT,
    });
    if (response.status !== 200) throw this.failure(target, `manifest ${reference}`, response);
    const header = response.headers.get('docker-content-digest');
    if (header && isDigest(normalizeDigest(header))) {
      return { digest: normalizeDigest(header), mediaType: mediaTypeOf(response) };
    }
    // Without the header the digest is the hash of the body, which only a GET can provide.
    const manifest = await this.getManifest(target, reference);
    return { digest: manifest.digest, mediaType: manifest.mediaType };
  }

  /**
   * The parsed manifest for a tag or digest; single-platform manifests come with the platform of
   * their config blob. Manifests by digest are immutable, so they are served from cache.
   */
  async getManifest(target: RepositoryRef, digestOrTag: string): Promise<Manifest> {
    const byDigest = isDigest(digestOrTag);
    const cached = byDigest ? this.manifests.get(cacheKey(target, digestOrTag)) : undefined;
    if (cached) return cached;
    // What a digest names never changes: concurrent readers of one share its request.
    return byDigest ? shared(this.pendingManifests, cacheKey(target, digestOrTag), () => this.fetchManifest(target, digestOrTag, true)) : this.fetchManifest(target, digestOrTag, false);
  }

  private async fetchManifest(target: RepositoryRef, digestOrTag: string, byDigest: boolean): Promise<Manifest> {
    const what = `manifest ${digestOrTag}`;
    const response = await this.authorizedExchange(target, {
      method: 'GET',
      url: this.url(target, `manifests/${digestOrTag}`),
      kind: 'manifest',
      what,
      accept: MANIFEST_ACCEPT,
    });
    if (response.status !== 200) throw this.failure(target, what, response);

    const bodyDigest = `sha256:${createHash('sha256').update(response.body).digest('hex')}`;
    if (byDigest && digestOrTag.startsWith('sha256:') && bodyDigest !== digestOrTag) {
      throw new RegistryError('invalid_response', target, `${what}: content does not match its digest`);
    }
    const header = response.headers.get('docker-content-digest');
    const digest = byDigest ? digestOrTag : header && isDigest(normalizeDigest(header)) ? normalizeDigest(header) : bodyDigest;

    const manifest = parseDocument(target, what, () => parseManifest(response.body, mediaTypeOf(response), digest));
    if (manifest.kind === 'image' && manifest.configIsImage) {
      manifest.platform = await this.imagePlatform(target, manifest.configDigest);
    }
    this.manifests.set(cacheKey(target, digest), manifest);
    return manifest;
  }

  /** Every tag of the repository, following `Link: <…>; rel="next"` pages. */
  async listTags(target: RepositoryRef): Promise<string[]> {
    const tags = new Set<string>();
    let url = this.url(target, 'tags/list');
    url.searchParams.set('n', String(this.tagsPageSize));
    for (let page = 1; page <= MAX_TAG_PAGES; page++) {
      const response = await this.authorizedExchange(target, { method: 'GET', url, kind: 'tags', what: 'tags', accept: 'application/json' });
      if (response.status !== 200) throw this.failure(target, 'tags', response);
      const pageTags = parseTagsPage(response.body);
      if (!pageTags) throw new RegistryError('invalid_response', target, 'tags: the response is not a tag list');
      const sizeBefore = tags.size;
      for (const tag of pageTags) tags.add(tag);

      const next = nextLink(response.headers.get('link'), url);
      if (next && next.origin !== url.origin) {
        throw new RegistryError('invalid_response', target, `tags: the next page is on another host (${next.host})`);
      }
      if (next) {
        url = next;
      } else if (pageTags.length >= this.tagsPageSize && tags.size > sizeBefore) {
        // A full page without a Link may still have a successor: ask for what follows the last tag.
        url = this.url(target, 'tags/list');
        url.searchParams.set('n', String(this.tagsPageSize));
        url.searchParams.set('last', pageTags[pageTags.length - 1]!);
      } else {
        return [...tags];
      }
    }
    throw new RegistryError('invalid_response', target, `tags: more than ${MAX_TAG_PAGES} pages`);
  }

  /**
   * What `tag` points at for `hostPlatform`. One HEAD when the digest has been seen before;
   * otherwise the manifest (and, for a single-platform image, its config blob) as well.
   */
  async resolveTag(target: RepositoryRef, tag: string, hostPlatform: string): Promise<ResolvedTag> {
    const { digest } = await this.headManifest(target, tag);
    const manifest = await this.getManifest(target, digest);
    return { digest, ...selectPlatform(manifest, hostPlatform) };
  }

  private async imagePlatform(target: RepositoryRef, configDigest: string): Promise<string | undefined> {
    const key = cacheKey(target, configDigest);
    const cached = this.configPlatforms.get(key);
    if (cached) return cached.platform;
    const what = `config blob ${configDigest}`;
    const response = await this.authorizedExchange(target, { method: 'GET', url: this.url(target, `blobs/${configDigest}`), kind: 'blob', what });
    if (response.status !== 200) throw this.failure(target, what, response);
    const platform = parseDocument(target, what, () => platformFromConfig(response.body));
    this.configPlatforms.set(key, { platform });
    return platform;
  }

  /**
   * Sends the request with the authorization the registry asked for last time; on a 401 answers
   * the new challenge (fetching a token or using Basic credentials) and sends it once more.
   */
  private async authorizedExchange(target: RepositoryRef, request: HttpRequest): Promise<HttpResponse> {
    const known = this.challenges.get(target.registry);
    const authorization = known ? await this.authorization(target, known) : undefined;
    const response = await this.http.exchange(target, { ...request, authorization });
    if (response.status !== 401) return response;

    const challenge = parseChallenge(response.headers.get('www-authenticate'));
    if (!challenge) return response;
    this.challenges.set(target.registry, challenge);
    if (authorization?.startsWith('Bearer ')) this.tokens.invalidate(tokenKey(target), authorization.slice('Bearer '.length));
    const renewed = await this.authorization(target, challenge);
    if (!renewed || renewed === authorization) return response;
    return this.http.exchange(target, { ...request, authorization: renewed });
  }

  private async authorization(target: RepositoryRef, challenge: Challenge): Promise<string | undefined> {
    if (challenge.scheme === 'basic') {
      const credential = this.credentials.forRegistry(target.registry);
      return credential ? basicAuthorization(credential) : undefined;
    }
    if (challenge.scheme === 'bearer') {
      const token = await this.tokens.get(tokenKey(target), () => this.requestToken(target, challenge));
      return `Bearer ${token}`;
    }
    return undefined;
  }

  private async requestToken(target: RepositoryRef, challenge: Challenge): Promise<IssuedToken> {
    let url: URL;
    try {
      url = new URL(challenge.params.realm ?? '');
    } catch {
      throw new RegistryError('invalid_response', target, 'the Bearer challenge has no usable realm');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RegistryError('invalid_response', target, `the Bearer realm uses an unsupported scheme (${url.protocol})`);
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', this.hosts.profileFor(target.registry).pullScope(target.repository));

    const credential = this.credentials.forRegistry(target.registry);
    const response = await this.http.exchange(target, {
      method: 'GET',
      url,
      kind: 'token',
      what: 'token',
      authorization: credential ? basicAuthorization(credential) : undefined,
    });
    if (response.status !== 200) throw this.failure(target, 'token', response);

    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(response.body.toString('utf8')) as typeof body;
    } catch {
      throw new RegistryError('invalid_response', target, 'token: the token server answered with invalid JSON');
    }
    const token = [body?.token, body?.access_token].find((value): value is string => typeof value === 'string' && value !== '');
    if (!token) throw new RegistryError('invalid_response', target, 'token: the token server returned no token');
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME_SECONDS;
    return { token, expiresInSeconds: expiresIn };
  }

  private failure(target: RepositoryRef, what: string, response: HttpResponse): RegistryError {
    const { status } = response;
    const kind = errorKindForStatus(status);
    const retryAfter = retryAfterMs(response.headers);
    let detail: string;
    if (kind === 'unauthorized') {
      detail = this.credentials.forRegistry(target.registry)
        ? `access denied with the configured credentials (${status})`
        : `access denied: authentication required and the Docker config has no credentials for ${target.registry} (${status})`;
    } else if (kind === 'not_found') {
      detail = `not found (${status})`;
    } else if (kind === 'rate_limited') {
      detail = `rate limited (${status})${retryAfter === undefined ? '' : `, retry after ${Math.ceil(retryAfter / 1000)} s`}`;
    } else if (kind === 'unavailable') {
      detail = `registry unavailable (${status})`;
    } else {
      detail = `unexpected status ${status}`;
    }
    return new RegistryError(kind, target, `${what}: ${detail}`, { status, retryAfterMs: retryAfter });
  }

  private url(target: RepositoryRef, path: string): URL {
    return new URL(`${this.hosts.profileFor(target.registry).apiBaseUrl(target.registry)}/v2/${target.repository}/${path}`);
  }
}

/** Runs a document parser, turning format errors into invalid_response. */
function parseDocument<T>(target: RepositoryRef, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ManifestFormatError) throw new RegistryError('invalid_response', target, `${what}: ${error.message}`);
    throw error;
  }
}

/** The request in flight under `key`, or a new one that others may share until it settles. */
function shared<T>(pending: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let request = pending.get(key);
  if (!request) {
    request = load().finally(() => pending.delete(key));
    pending.set(key, request);
  }
  return request;
}

function cacheKey(target: RepositoryRef, digest: string): string {
  return `${target.registry}/${target.repository}@${digest}`;
}

/** Every request a check makes to a repository needs pull access only: one token per repository. */
function tokenKey(target: RepositoryRef): string {
  return `${target.registry} ${target.repository} pull`;
}

function basicAuthorization(credential: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
}

function mediaTypeOf(response: HttpResponse): string | undefined {
  return response.headers.get('content-type')?.split(';')[0]!.trim() || undefined;
}

function parseTagsPage(body: Buffer): string[] | undefined {
  try {
    const page = JSON.parse(body.toString('utf8')) as { tags?: unknown };
    // An empty repository answers `"tags": null`.
    if (page?.tags === null) return [];
    if (Array.isArray(page?.tags) && page.tags.every((tag) => typeof tag === 'string')) return page.tags as string[];
  } catch {
    // fall through: not JSON
  }
  return undefined;
}

/** The `rel="next"` target of a Link header, resolved against the page it came with. */
function nextLink(header: string | null, current: URL): URL | undefined {
  const match = header ? /<([^>]+)>\s*;\s*rel="?next"?/i.exec(header) : null;
  return match ? new URL(match[1]!, current) : undefined;
}
