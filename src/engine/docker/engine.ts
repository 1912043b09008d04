import { Agent, request } from 'node:http';
import { mapConcurrently } from '../../concurrency.js';
import { withDeadline } from '../../deadline.js';
import {
  COMPOSE_LABELS,
  healthFromStatusText,
  type ComposeContainer,
  type ContainerState,
} from './containers.js';
import { describeEndpoint, parseDockerHost, type DockerEndpoint } from './endpoint.js';
import { DockerError, DockerUnavailableError } from './errors.js';
import { selectRuntimeDigest } from './runtime-digest.js';

export interface DockerEngineOptions {
  /** A `DOCKER_HOST` value (`unix:///…` or `tcp://host:port`); default /var/run/docker.sock. */
  dockerHost?: string;
  /** Limit for each call to the engine. Default 10 s. */
  timeoutMs?: number;
}

export interface ListComposeContainersOptions {
  project?: string;
  /** Only these projects (a label filter cannot name several: listed all, then narrowed). */
  projects?: readonly string[];
  service?: string;
  /** Also list containers that are not running. Default false. */
  includeStopped?: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The fields of `GET /containers/json` entries that Dockrev reads. */
interface EngineContainer {
  Id: string;
  Names?: string[];
  Image: string;
  ImageID: string;
  Labels?: Record<string, string>;
  State?: string;
  Status?: string;
}
const INSPECT_CONCURRENCY = 8;

/** What Dockrev reads of an image: its repository digests, and its tags (to match name-based events). */
export interface ImageInfo {
  repoDigests: string[];
  repoTags: string[];
}

interface EngineImage {
  Id: string;
  RepoDigests?: string[] | null;
  RepoTags?: string[] | null;
}

const imageInfo = (image: Omit<EngineImage, 'Id'>): ImageInfo => ({ repoDigests: image.RepoDigests ?? [], repoTags: image.RepoTags ?? [] });

/** An entry of the engine's event stream (only what Dockrev reads). */
export interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  timeNano?: number;
}

export interface EventsQuery {
  /** Engine-side filters, e.g. `{ type: ['container'], event: ['start'] }`. */
  filters: Record<string, string[]>;
  /** Unix seconds: also replay the engine's buffered events from then on. */
  since?: number;
}

export interface EventHandlers {
  onOpen(): void;
  onEvent(event: DockerEvent): void;
  onEnd(error?: Error): void;
}

export interface EventWatch {
  close(): void;
}

/** Socket-level failures: nothing answered, so the engine as a whole is unavailable. */
const UNREACHABLE_CODES = new Set([
  'ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK', 'ECONNRESET', 'EPIPE',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT',
]);

/** The reads Dockrev needs from the Docker engine, over its HTTP API (a few GETs need no client library). */
export class DockerEngine {
  readonly endpoint: DockerEndpoint;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  private readonly timeoutMs: number;

  constructor(options: DockerEngineOptions = {}) {
    this.endpoint = parseDockerHost(options.dockerHost);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Where node:http connects to reach the engine. */
  private get address(): { socketPath: string } | { host: string; port: number } {
    return this.endpoint.kind === 'socket' ? { socketPath: this.endpoint.socketPath } : { host: this.endpoint.host, port: this.endpoint.port };
  }

  /** GET on the Engine API, JSON answer; HTTP errors carry the engine's message and status. */
  private get<T>(path: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = request({ ...this.address, path, method: 'GET', agent: this.agent, headers: { Host: 'docker' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 400) {
            let message = text;
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? text;
            } catch {
              // a plain-text error body
            }
            reject(Object.assign(new Error(`(HTTP ${status}) ${message.trim()}`), { statusCode: status }));
            return;
          }
          try {
            resolve((text === '' || text === 'OK' ? text : JSON.parse(text)) as T);
          } catch (error) {
            reject(error);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Follows the engine's event stream (`GET /events`: one JSON object per line) on a connection of
   * its own until `close()` or until the engine ends it. `onOpen` runs once the engine has answered;
   * `onEnd` runs exactly once, with the reason when the stream did not end by `close()`.
   */
  watchEvents(query: EventsQuery, handlers: EventHandlers): EventWatch {
    const params = new URLSearchParams({ filters: JSON.stringify(query.filters) });
    if (query.since !== undefined) params.set('since', String(query.since));
    let ended = false;
    /** Tears the stream down once; false when it already was. */
    const stop = () => {
      if (ended) return false;
      ended = true;
      clearTimeout(answerTimer);
      req.destroy();
      return true;
    };
    const end = (error?: Error) => {
      if (stop()) handlers.onEnd(error);
    };
    const req = request({ ...this.address, path: `/events?${params}`, method: 'GET', agent: false, headers: { Host: 'docker' } }, (res) => {
      clearTimeout(answerTimer);
      if (res.statusCode !== 200) {
        res.resume();
        end(this.translateError('watch events', Object.assign(new Error(`(HTTP ${res.statusCode})`), { statusCode: res.statusCode })));
        return;
      }
      handlers.onOpen();
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let newline: number;
        while (!ended && (newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line === '') continue;
          let event: DockerEvent;
          try {
            event = JSON.parse(line) as DockerEvent;
          } catch {
            event = {};
          }
          handlers.onEvent(event);
        }
      });
      res.on('end', () => end(new DockerUnavailableError(`Docker engine at ${describeEndpoint(this.endpoint)} ended the event stream`)));
      res.on('error', (error) => end(this.translateError('watch events', error)));
    });
    const answerTimer = setTimeout(
      () => end(new DockerUnavailableError(`Docker engine at ${describeEndpoint(this.endpoint)} did not answer "watch events" within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    // The stream alone must not keep the process alive.
    req.on('socket', (socket) => socket.unref());
    req.on('error', (error) => end(this.translateError('watch events', error)));
    req.end();
    return { close: () => void stop() };
  }

  /** Resolves when the engine answers `/_ping`; throws DockerUnavailableError otherwise. */
  async ping(): Promise<void> {
    await this.call('ping', () => this.get('/_ping'));
  }

  /** What `docker info` shows of the engine: version and platform. */
  async info(): Promise<{ serverVersion: string; operatingSystem: string; osType: string; architecture: string }> {
    const info = await this.call('info', () =>
      this.get<{ ServerVersion?: string; OperatingSystem?: string; OSType?: string; Architecture?: string }>('/info'),
    );
    return {
      serverVersion: info.ServerVersion ?? 'unknown',
      operatingSystem: info.OperatingSystem ?? 'unknown',
      osType: info.OSType ?? 'unknown',
      architecture: info.Architecture ?? 'unknown',
    };
  }

  /** Compose-managed containers (one-off `run` containers excluded), filtered by label on the engine. */
  async listComposeContainers(options: ListComposeContainersOptions = {}): Promise<ComposeContainer[]> {
    const only = options.projects === undefined ? undefined : new Set(options.projects);
    if (only?.size === 0) return [];
    const project = options.project ?? (only?.size === 1 ? [...only][0] : undefined);
    const labelFilters = [project === undefined ? COMPOSE_LABELS.project : `${COMPOSE_LABELS.project}=${project}`];
    if (options.service !== undefined) labelFilters.push(`${COMPOSE_LABELS.service}=${options.service}`);
    const listed = await this.call('list containers', () =>
      this.get<EngineContainer[]>(
        `/containers/json?all=${options.includeStopped ? 1 : 0}&filters=${encodeURIComponent(JSON.stringify({ label: labelFilters }))}`,
      ),
    );
    const wanted = (info: EngineContainer) =>
      info.Labels?.[COMPOSE_LABELS.oneoff] !== 'True' && (only === undefined || only.has(info.Labels?.[COMPOSE_LABELS.project] ?? ''));
    const containers = await mapConcurrently(
      listed.filter(wanted),
      INSPECT_CONCURRENCY,
      async (info): Promise<ComposeContainer | undefined> => {
        const labels = info.Labels ?? {};
        const health = healthFromStatusText(info.Status ?? '');
        const configuredImage = await this.configuredImage(info);
        // Removed between the listing and its inspect (another project's `down`): not there any more.
        if (configuredImage === undefined) return undefined;
        return {
          id: info.Id,
          name: (info.Names?.[0] ?? info.Id).replace(/^\//, ''),
          project: labels[COMPOSE_LABELS.project] ?? '',
          service: labels[COMPOSE_LABELS.service] ?? '',
          imageId: info.ImageID,
          configuredImage,
          labels,
          state: info.State as ContainerState,
          ...(health ? { health } : {}),
        };
      },
    );
    return containers
      .filter((container): container is ComposeContainer => container !== undefined)
      .sort((a, b) => a.project.localeCompare(b.project) || a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
  }

  /** `RepoDigests` of every image on the engine, by image id: one listing. */
  async listImageRepoDigests(): Promise<Map<string, string[]>> {
    const images = await this.listImages();
    return new Map([...images].map(([id, image]) => [id, image.repoDigests]));
  }

  /** Every image on the engine, by image id: one listing. */
  async listImages(): Promise<Map<string, ImageInfo>> {
    const images = await this.call('list images', () => this.get<EngineImage[]>('/images/json'));
    return new Map(images.map((image) => [image.Id, imageInfo(image)]));
  }

  /** These images, one inspect each; an image that no longer exists is absent from the answer. */
  async inspectImages(imageIds: readonly string[]): Promise<Map<string, ImageInfo>> {
    const unique = [...new Set(imageIds)];
    const found = await mapConcurrently(unique, INSPECT_CONCURRENCY, async (imageId) => {
      try {
        return imageInfo(await this.call(`inspect image ${imageId}`, () => this.get<EngineImage>(`/images/${encodeURIComponent(imageId)}/json`)));
      } catch (error) {
        if (DockerError.isNotFound(error)) return undefined;
        throw error;
      }
    });
    return new Map(unique.flatMap((imageId, index) => (found[index] ? [[imageId, found[index]] as const] : [])));
  }

  /** `RepoDigests` per image id (deduplicated; an image that no longer exists has none). */
  async imageRepoDigests(imageIds: readonly string[]): Promise<Map<string, string[]>> {
    const unique = [...new Set(imageIds)];
    if (unique.length > INSPECT_CONCURRENCY) {
      // Many images: one listing of the engine's images is far cheaper than an inspect each.
      const byId = await this.listImageRepoDigests();
      return new Map(unique.map((imageId) => [imageId, byId.get(imageId) ?? []]));
    }
    const inspected = await this.inspectImages(unique);
    return new Map(unique.map((imageId) => [imageId, inspected.get(imageId)?.repoDigests ?? []]));
  }

  /** The one repository digest the containers of a service run, if they agree on exactly one. */
  async runtimeDigest(containers: readonly Pick<ComposeContainer, 'imageId'>[], imageRepoKey: string): Promise<string | undefined> {
    const digestsByImage = await this.imageRepoDigests(containers.map((container) => container.imageId));
    return selectRuntimeDigest(
      containers.map((container) => digestsByImage.get(container.imageId) ?? []),
      imageRepoKey,
    );
  }

  /**
   * The list API reports `Config.Image` only while that reference still points at the container's
   * image; once the tag has moved (a newer pull) it reports the image id instead, and only an
   * inspect still knows what the Compose file asked for.
   */
  private async configuredImage(info: EngineContainer): Promise<string | undefined> {
    if (!info.Image.startsWith('sha256:') && info.Image !== info.ImageID) return info.Image;
    try {
      const inspected = await this.call(`inspect container ${info.Id}`, () =>
        this.get<{ Config: { Image: string } }>(`/containers/${encodeURIComponent(info.Id)}/json`),
      );
      return inspected.Config.Image;
    } catch (error) {
      if (DockerError.isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    const noAnswer = () => new DockerUnavailableError(`Docker engine at ${describeEndpoint(this.endpoint)} did not answer "${operation}" within ${this.timeoutMs} ms`);
    try {
      return await withDeadline(request(), this.timeoutMs, noAnswer);
    } catch (error) {
      throw this.translateError(operation, error);
    }
  }

  private translateError(operation: string, error: unknown): Error {
    if (error instanceof DockerUnavailableError) return error;
    const { code, statusCode, message } = error as { code?: string; statusCode?: number; message?: string };
    if (code && UNREACHABLE_CODES.has(code)) {
      return new DockerUnavailableError(`${this.unreachableReason(code)}; ${this.configurationHint()}`, { cause: error });
    }
    const text = (message ?? String(error)).trim();
    return new DockerError(`docker ${operation} failed: ${text}`, statusCode, { cause: error });
  }

  private unreachableReason(code: string): string {
    const where = describeEndpoint(this.endpoint);
    if (this.endpoint.kind === 'socket') {
      if (code === 'ENOENT') return `Docker socket ${this.endpoint.socketPath} does not exist`;
      if (code === 'EACCES' || code === 'EPERM') return `permission denied on Docker socket ${this.endpoint.socketPath}`;
    }
    if (code === 'ECONNREFUSED') return `Docker engine at ${where} refused the connection`;
    return `cannot reach the Docker engine at ${where} (${code})`;
  }

  private configurationHint(): string {
    return this.endpoint.kind === 'socket'
      ? 'mount the Docker socket there or set DOCKER_HOST (unix:///path/to/docker.sock or tcp://host:port)'
      : 'check DOCKER_HOST and that the engine listens there';
  }
}
