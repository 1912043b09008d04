// Test-only: a small in-memory registry (Registry HTTP API v2 subset) with an optional Basic or
// Bearer challenge and its own token endpoint, that records every request it serves.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MEDIA_TYPES } from '../manifest.js';

export type FakeAuth =
  | { scheme: 'none' }
  | { scheme: 'basic'; username: string; password: string }
  /** Bearer tokens from `/token` on the same server; with username/password the token endpoint requires them. */
  | { scheme: 'bearer'; username?: string; password?: string; expiresIn?: number };

export type FakeRequestKind = 'manifest' | 'blob' | 'tags' | 'token' | 'api' | 'other';

export interface FakeRequest {
  method: string;
  kind: FakeRequestKind;
  path: string;
  query: URLSearchParams;
  authorization?: string;
  status: number;
}

/** Return true when the request has been answered, to take over from the normal handling. */
export type Interceptor = (req: IncomingMessage, res: ServerResponse, kind: FakeRequestKind) => boolean;

interface StoredManifest {
  body: Buffer;
  mediaType: string;
}

export class FakeRegistry {
  readonly requests: FakeRequest[] = [];
  interceptor?: Interceptor;
  /** Every response waits this long (lets tests observe concurrency). */
  delayMs = 0;
  /** Leave out Docker-Content-Digest, as some registries do. */
  omitDigestHeader = false;
  /** Send Link headers on tag pages (off: a client must page with n/last itself). */
  linkPagination = true;
  /** The largest tags page served, whatever `n` asks for (real registries cap it too). */
  maxPageSize = Number.POSITIVE_INFINITY;
  /**
   * Also serve Quay's tag API (listRepoTags, `GET /api/v1/repository/{repo}/tag/` with
   * onlyActiveTags, page, limit ≤ 100, specificTag), anonymously, from the same tags.
   */
  quayApi = false;
  inFlight = 0;
  maxInFlight = 0;

  private readonly manifests = new Map<string, StoredManifest>();
  private readonly tags = new Map<string, Map<string, string>>();
  private readonly blobs = new Map<string, Buffer>();
  private readonly issuedTokens = new Map<string, { repository: string; expiresAt: number }>();

  private constructor(
    private readonly server: Server,
    readonly auth: FakeAuth,
  ) {}

  static async start(auth: FakeAuth = { scheme: 'none' }): Promise<FakeRegistry> {
    const server = createServer();
    const registry = new FakeRegistry(server, auth);
    server.on('request', (req, res) => void registry.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return registry;
  }

  /** "127.0.0.1:<port>", usable as the registry part of an image reference. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  count(filter: { method?: string; kind?: FakeRequestKind } = {}): number {
    return this.requests.filter((r) => (!filter.method || r.method === filter.method) && (!filter.kind || r.kind === filter.kind)).length;
  }

  resetCounters(): void {
    this.requests.length = 0;
    this.maxInFlight = 0;
  }

  putBlob(body: Buffer): string {
    const digest = sha256(body);
    this.blobs.set(digest, body);
    return digest;
  }

  /** Stores a manifest; with a tag, also points the tag at it. Returns its digest. */
  putManifest(repository: string, document: unknown, mediaType: string, tag?: string): string {
    const body = Buffer.from(JSON.stringify(document));
    const digest = sha256(body);
    this.manifests.set(`${repository}@${digest}`, { body, mediaType });
    if (tag) this.tagRepository(repository).set(tag, digest);
    return digest;
  }

  /** A single-platform image ("linux/amd64", "linux/arm/v7"; undefined: a config without platform). */
  pushImage(repository: string, tag: string | undefined, platform: string | undefined, salt = randomBytes(4).toString('hex')): string {
    const [os, architecture, variant] = platform?.split('/') ?? [];
    const configDigest = this.putBlob(Buffer.from(JSON.stringify({ os, architecture, variant, salt })));
    return this.putManifest(
      repository,
      {
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.dockerManifest,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: configDigest, size: 1 },
        layers: [],
      },
      MEDIA_TYPES.dockerManifest,
      tag,
    );
  }

  /** A multi-platform index over freshly pushed images. Returns the index digest and each platform's digest. */
  pushIndex(repository: string, tag: string, platforms: string[], mediaType: string = MEDIA_TYPES.ociIndex): { digest: string; byPlatform: Record<string, string> } {
    const byPlatform: Record<string, string> = {};
    const manifests = platforms.map((platform) => {
      const digest = this.pushImage(repository, undefined, platform);
      byPlatform[platform] = digest;
      const [os, architecture, variant] = platform.split('/');
      return { mediaType: MEDIA_TYPES.dockerManifest, digest, size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } };
    });
    const digest = this.putManifest(repository, { schemaVersion: 2, mediaType, manifests }, mediaType, tag);
    return { digest, byPlatform };
  }

  /** Points `tag` at a manifest already stored (an alias such as `latest` → `1.4.2`). */
  tag(repository: string, tag: string, digest: string): void {
    if (!this.manifests.has(`${repository}@${digest}`)) throw new Error(`no manifest ${digest} in ${repository}`);
    this.tagRepository(repository).set(tag, digest);
  }

  setTags(repository: string, tags: string[]): void {
    const digest = this.pushImage(repository, undefined, 'linux/amd64');
    for (const tag of tags) this.tagRepository(repository).set(tag, digest);
  }

  private tagRepository(repository: string): Map<string, string> {
    let tags = this.tags.get(repository);
    if (!tags) this.tags.set(repository, (tags = new Map()));
    return tags;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.+)$/.exec(url.pathname);
    const quayTags = /^\/api\/v1\/repository\/(.+)\/tag\/?$/.exec(url.pathname);
    const kind: FakeRequestKind =
      url.pathname === '/token' ? 'token' : quayTags ? 'api' : route ? (route[2] === 'manifests' ? 'manifest' : route[2] === 'blobs' ? 'blob' : 'tags') : 'other';
    const record: FakeRequest = { method: req.method ?? '', kind, path: url.pathname, query: url.searchParams, authorization: req.headers.authorization, status: 0 };
    this.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => this.inFlight--);

    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.interceptor?.(req, res, kind)) return;
    if (kind === 'token') return this.issueToken(req, res, url);
    if (quayTags) return this.quayApi ? this.sendQuayTags(res, quayTags[1]!, url) : send(res, 404, { error_message: 'Not Found' });
    if (!route) return send(res, 404, { errors: [{ code: 'NOT_FOUND' }] });
    const [, repository, , reference] = route as unknown as [string, string, string, string];
    if (!this.authorized(req, repository, res)) return;

    if (kind === 'tags') return this.sendTags(res, repository, url);
    if (kind === 'blob') {
      const blob = this.blobs.get(reference);
      return blob ? send(res, 200, blob, { 'Content-Type': 'application/octet-stream' }, req.method === 'HEAD') : send(res, 404, { errors: [{ code: 'BLOB_UNKNOWN' }] });
    }
    const digest = reference.startsWith('sha256:') ? reference : this.tags.get(repository)?.get(reference);
    const manifest = digest ? this.manifests.get(`${repository}@${digest}`) : undefined;
    if (!manifest) return send(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    const headers: Record<string, string> = { 'Content-Type': manifest.mediaType };
    if (!this.omitDigestHeader) headers['Docker-Content-Digest'] = digest!;
    send(res, 200, manifest.body, headers, req.method === 'HEAD');
  }

  private authorized(req: IncomingMessage, repository: string, res: ServerResponse): boolean {
    const auth = this.auth;
    const header = req.headers.authorization ?? '';
    if (auth.scheme === 'none') return true;
    if (auth.scheme === 'basic') {
      if (header === basic(auth.username, auth.password)) return true;
      send(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'WWW-Authenticate': 'Basic realm="fake-registry"' });
      return false;
    }
    const token = this.issuedTokens.get(header.replace(/^Bearer /, ''));
    if (header.startsWith('Bearer ') && token && token.repository === repository && token.expiresAt > Date.now()) return true;
    const challenge = `Bearer realm="http://${this.host}/token",service="fake-registry",scope="repository:${repository}:pull"`;
    send(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'WWW-Authenticate': challenge });
    return false;
  }

  private issueToken(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (this.auth.scheme !== 'bearer') return send(res, 404, {});
    const { username, password, expiresIn = 300 } = this.auth;
    if (username !== undefined && req.headers.authorization !== basic(username, password ?? '')) {
      return send(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] });
    }
    const scope = /^repository:(.+):pull$/.exec(url.searchParams.get('scope') ?? '');
    if (url.searchParams.get('service') !== 'fake-registry' || !scope) return send(res, 400, { errors: [{ code: 'DENIED' }] });
    const token = randomBytes(12).toString('hex');
    this.issuedTokens.set(token, { repository: scope[1]!, expiresAt: Date.now() + expiresIn * 1000 });
    send(res, 200, { access_token: token, expires_in: expiresIn });
  }

  private sendQuayTags(res: ServerResponse, repository: string, url: URL): void {
    const tags = this.tags.get(repository);
    if (!tags) return send(res, 404, { error_message: 'Not Found' });
    const specific = url.searchParams.get('specificTag');
    const names = [...tags.keys()].filter((name) => specific === null || name === specific).sort();
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 50)));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const slice = names.slice((page - 1) * limit, page * limit);
    const entries = slice.map((name) => {
      const digest = tags.get(name)!;
      const manifest = this.manifests.get(`${repository}@${digest}`);
      return { name, reversion: false, manifest_digest: digest, is_manifest_list: manifest?.mediaType.includes('index') || manifest?.mediaType.includes('list') || false };
    });
    send(res, 200, { tags: entries, page, has_additional: page * limit < names.length });
  }

  private sendTags(res: ServerResponse, repository: string, url: URL): void {
    const all = [...(this.tags.get(repository)?.keys() ?? [])].sort();
    const n = Math.min(Number(url.searchParams.get('n') ?? all.length), this.maxPageSize);
    const last = url.searchParams.get('last');
    const start = last ? all.findIndex((tag) => tag > last) : 0;
    const page = start < 0 ? [] : all.slice(start, start + n);
    const headers: Record<string, string> = {};
    if (this.linkPagination && start >= 0 && start + n < all.length) {
      headers.Link = `</v2/${repository}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1]!)}>; rel="next"`;
    }
    send(res, 200, { name: repository, tags: page }, headers);
  }
}

export function sha256(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, headOnly = false): void {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers, 'Content-Length': data.length });
  res.end(headOnly ? undefined : data);
}
