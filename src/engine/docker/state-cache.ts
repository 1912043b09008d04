import type { Logger } from 'pino';
import type { ComposeContainer } from './containers.js';
import type { DockerEngine, EventWatch, ListComposeContainersOptions } from './engine.js';

/** The reads that checks, runtime scans, discovery and stack status make. */
export type DockerReads = Pick<DockerEngine, 'listComposeContainers' | 'imageRepoDigests'>;

/**
 * Engine events after which a container or image listing may read differently. Everything else
 * (exec_* from healthchecks, attach, resize, top, archive copies, network and volume events) is
 * filtered out by the engine. `health_status` is matched as a prefix ("health_status: healthy").
 */
export const LISTING_EVENTS = {
  type: ['container', 'image'],
  event: [
    'create', 'start', 'restart', 'stop', 'kill', 'die', 'oom', 'pause', 'unpause', 'rename', 'update', 'destroy', 'health_status',
    'pull', 'push', 'tag', 'untag', 'delete', 'import', 'load', 'prune',
  ],
};

const RUNNING_STATES = new Set<ComposeContainer['state']>(['running', 'paused', 'restarting']);
const DEFAULT_MAX_AGE_MS = 60_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** Replay this much of the engine's event buffer on connect, covering the moment it subscribes. */
const REPLAY_SECONDS = 5;

interface Kept<T> {
  generation: number;
  takenAt: number;
  data: T;
}

/** One cached listing: the last answer, and the request in flight (with the generation it started in). */
class Slot<T> {
  kept?: Kept<T>;
  pending?: { generation: number; promise: Promise<T> };
}

export interface DockerStateCacheOptions {
  logger?: Logger;
  /** A kept listing is read again after this long even without events. Default 60 s. */
  maxAgeMs?: number;
}

/**
 * Container and image listings kept between reads for as long as the engine's event stream says
 * nothing changed. Listing 200 containers costs the engine about 80 ms of CPU, the largest cost
 * of a check once registry lookups are minimal; with this, a check on an unchanged host makes no
 * Docker call at all.
 *
 * Every relevant event, every (dis)connect of the stream bumps a generation; a listing is kept
 * only when the stream was live and the generation did not move while it was taken, and it is
 * served only while both still hold (and it is younger than `maxAgeMs`). While the stream is not
 * live (engine down, a socket proxy that refuses /events) every read goes to the engine as before.
 * Updates, recovery and backups read the engine directly: they must see their own changes.
 */
export class DockerStateCache implements DockerReads {
  private generation = 0;
  private live = false;
  private watch?: EventWatch;
  /** After the stream failed: no new attempt before this (ms epoch); reads reconnect, no timer runs. */
  private retryAt = 0;
  private retryMs = RETRY_MIN_MS;
  private closed = false;
  private readonly containers = new Slot<ComposeContainer[]>();
  private readonly images = new Slot<Map<string, string[]>>();
  private readonly maxAgeMs: number;

  constructor(
    private readonly docker: Pick<DockerEngine, 'listComposeContainers' | 'imageRepoDigests' | 'listImageRepoDigests' | 'watchEvents'>,
    private readonly options: DockerStateCacheOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  }

  /** Whether reads are being served from kept listings (the event stream is connected). */
  get watching(): boolean {
    return this.live;
  }

  async listComposeContainers(options: ListComposeContainersOptions = {}): Promise<ComposeContainer[]> {
    this.startWatching();
    if (!this.live) return this.docker.listComposeContainers(options);
    const all = await this.read(this.containers, () => this.docker.listComposeContainers({ includeStopped: true }));
    return all.filter(
      (container) =>
        (options.project === undefined || container.project === options.project) &&
        (options.service === undefined || container.service === options.service) &&
        (options.includeStopped || RUNNING_STATES.has(container.state)),
    );
  }

  async imageRepoDigests(imageIds: readonly string[]): Promise<Map<string, string[]>> {
    this.startWatching();
    if (!this.live) return this.docker.imageRepoDigests(imageIds);
    const all = await this.read(this.images, () => this.docker.listImageRepoDigests());
    return new Map([...new Set(imageIds)].map((imageId) => [imageId, all.get(imageId) ?? []]));
  }

  /** Stops watching; later reads go to the engine. */
  close(): void {
    this.closed = true;
    this.watch?.close();
    this.watch = undefined;
    this.setLive(false);
  }

  private async read<T>(slot: Slot<T>, load: () => Promise<T>): Promise<T> {
    const kept = slot.kept;
    if (kept && this.live && kept.generation === this.generation && Date.now() - kept.takenAt < this.maxAgeMs) return kept.data;
    // A listing already in flight is shared only if nothing changed since it was asked for.
    if (slot.pending?.generation === this.generation) return slot.pending.promise;
    const generation = this.generation;
    const takenAt = Date.now();
    const promise = load().then((data) => {
      if (this.live && this.generation === generation) slot.kept = { generation, takenAt, data };
      return data;
    });
    slot.pending = { generation, promise };
    const clear = () => {
      if (slot.pending?.promise === promise) slot.pending = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  private setLive(live: boolean): void {
    this.live = live;
    this.generation += 1;
  }

  private startWatching(): void {
    if (this.closed || this.watch || Date.now() < this.retryAt) return;
    let opened = false;
    this.watch = this.docker.watchEvents(
      { filters: LISTING_EVENTS, since: Math.floor(Date.now() / 1000) - REPLAY_SECONDS },
      {
        onOpen: () => {
          opened = true;
          this.retryMs = RETRY_MIN_MS;
          this.setLive(true);
          this.options.logger?.debug('docker events: watching; listings are kept until something changes');
        },
        onEvent: () => {
          this.generation += 1;
        },
        onEnd: (error) => {
          this.watch = undefined;
          this.setLive(false);
          const log = opened ? this.options.logger?.warn.bind(this.options.logger) : this.options.logger?.debug.bind(this.options.logger);
          log?.({ err: error, retryInMs: this.retryMs }, 'docker events: not watching; reads go to the engine');
          this.retryAt = Date.now() + this.retryMs;
          this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
        },
      },
    );
  }
}
