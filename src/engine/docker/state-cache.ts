import type { Logger } from 'pino';
import type { ComposeContainer, StackStatus } from './containers.js';
import type { DockerEngine, DockerEvent, EventWatch, ListComposeContainersOptions } from './engine.js';
import { entryStatus, eventProject, KeptContainers, type ProjectEntry } from './kept-containers.js';
import { KeptImages } from './kept-images.js';

/** The reads that checks, runtime scans, discovery and stack status make. */
export type DockerReads = Pick<DockerEngine, 'listComposeContainers' | 'imageRepoDigests'>;

type Engine = Pick<DockerEngine, 'listComposeContainers' | 'imageRepoDigests' | 'listImages' | 'inspectImages' | 'watchEvents'>;

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
const DEFAULT_MAX_AGE_MS = 300_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** Replay this much of the engine's event buffer on connect, covering the moment it subscribes. */
const REPLAY_SECONDS = 5;
/** Up to this many projects changed: one listing each; more, one listing of everything. */
const PER_PROJECT_LISTINGS = 4;
/** Up to this many images in doubt: one inspect each; more, one listing of every image. */
const PER_IMAGE_INSPECTS = 8;

export interface StatusFreshness {
  coalesceMs: number;
  unwatchedRefreshMs: number;
  unwatchedLimitMs: number;
  firstReadWaitMs: number;
}

/** How stack statuses follow the engine for API reads (documented in the README). */
export const STATUS_FRESHNESS: Readonly<StatusFreshness> = {
  /** Events are applied at once; the projects they concern are listed again this long after the first one. */
  coalesceMs: 100,
  /** Without the event stream, listings for statuses are taken at most this often. */
  unwatchedRefreshMs: 1_000,
  /** Without the event stream, a listing older than this no longer says anything: the status is `unknown`. */
  unwatchedLimitMs: 10_000,
  /** The only wait of an API read: for the first listing of a project never listed before. */
  firstReadWaitMs: 1_000,
};

export interface DockerStateCacheOptions {
  logger?: Logger;
  /** A kept listing is read again after this long even without events (a safety net: events are reliable while the stream is connected). Default 5 min. */
  maxAgeMs?: number;
  /** Overrides of {@link STATUS_FRESHNESS} (tests). */
  freshness?: Partial<StatusFreshness>;
}

type Listing = { gen: number; epoch: number; at: number };

/**
 * Container and image listings kept between reads for as long as the engine's event stream says
 * nothing changed about them. Listing 200 containers costs the engine about 80 ms of CPU, the
 * largest cost of a check once registry lookups are minimal; with this, a check on an unchanged
 * host makes no Docker call at all, however busy other projects on the same engine are.
 *
 * Events are kept per Compose project and per image: a change to another project, or another
 * project's image, never sends a check back to the engine. Checks and discovery (strict reads)
 * get a listing taken after the last event about what they read. API reads of stack statuses
 * never wait for the engine once a project has been listed: events are applied to the kept
 * listing as they arrive, and the project is listed again in the background, coalesced
 * ({@link STATUS_FRESHNESS}). While the stream is not live (engine down, a socket proxy that
 * refuses /events) strict reads go to the engine every time, and statuses age out to `unknown`.
 * Updates, recovery and backups read the engine directly: they must see their own changes.
 */
export class DockerStateCache implements DockerReads {
  /** Bumped by every event; listings remember the value they were asked at. */
  private generation = 0;
  /** Bumped by every (dis)connect of the stream: listings from another connection are not trusted by strict reads. */
  private epoch = 0;
  private live = false;
  private watch?: EventWatch;
  /** After the stream failed: no new attempt before this (ms epoch); reads reconnect, no timer runs. */
  private retryAt = 0;
  private retryMs = RETRY_MIN_MS;
  private closed = false;
  private readonly containers = new KeptContainers();
  private readonly images = new KeptImages();
  /** Listings in flight: '*' for all projects, else one project; with the generation they were asked at. */
  private readonly pending = new Map<string, { gen: number; promise: Promise<readonly ComposeContainer[]> }>();
  private pendingImages?: { gen: number; promise: Promise<unknown> };
  /** Projects an API read wants listed again, and the timer or run that will. */
  private readonly wanted = new Set<string>();
  private refresh?: { timer?: NodeJS.Timeout; done: Promise<void> };
  private lastRefreshAt = 0;
  private readonly maxAgeMs: number;
  private readonly freshness: StatusFreshness;

  constructor(
    private readonly docker: Engine,
    private readonly options: DockerStateCacheOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.freshness = { ...STATUS_FRESHNESS, ...options.freshness };
  }

  /** Whether reads are being served from kept listings (the event stream is connected). */
  get watching(): boolean {
    return this.live;
  }

  async listComposeContainers(options: ListComposeContainersOptions = {}): Promise<ComposeContainer[]> {
    this.startWatching();
    if (!this.live) return this.docker.listComposeContainers(options);
    const projects = options.project !== undefined ? [options.project] : options.projects;
    const found = projects === undefined ? await this.everyProject() : await this.projectsFresh(projects);
    return found
      .filter(
        (container) =>
          (options.service === undefined || container.service === options.service) &&
          (options.includeStopped || RUNNING_STATES.has(container.state)),
      )
      .sort((a, b) => a.project.localeCompare(b.project) || a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
  }

  async imageRepoDigests(imageIds: readonly string[]): Promise<Map<string, string[]>> {
    this.startWatching();
    const unique = [...new Set(imageIds)];
    if (!this.live) return this.docker.imageRepoDigests(unique);
    const full = this.images.full;
    if (!full || !this.trusted(full)) await this.listImages();
    const doubtful = unique.filter((imageId) => !this.images.get(imageId));
    if (doubtful.length > PER_IMAGE_INSPECTS) await this.listImages();
    else if (doubtful.length > 0) {
      const listing = this.listing();
      this.images.land(await this.docker.inspectImages(doubtful), listing, false);
    }
    return new Map(unique.map((imageId) => [imageId, [...(this.images.get(imageId)?.repoDigests ?? [])]]));
  }

  /**
   * The status of each project's stack for API reads. Never waits for the engine once a project
   * has been listed; a project never listed (or, without the event stream, listed too long ago)
   * waits for a listing at most {@link STATUS_FRESHNESS.firstReadWaitMs}, then reads `unknown`.
   */
  async statuses(projects: readonly string[]): Promise<StackStatus[]> {
    this.startWatching();
    const now = Date.now();
    let missing = false;
    for (const project of projects) {
      const entry = this.containers.get(project);
      if (!entry || !this.usable(entry, now)) missing = true;
      if (!entry || this.doubtful(entry, now)) this.wanted.add(project);
    }
    if (this.wanted.size > 0) this.scheduleRefresh(missing);
    if (missing && this.refresh) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.freshness.firstReadWaitMs)));
      await Promise.race([this.refresh.done, waited]);
      clearTimeout(timer);
    }
    const at = Date.now();
    return projects.map((project) => {
      const entry = this.containers.get(project);
      return entry && this.usable(entry, at) ? entryStatus(entry) : 'unknown';
    });
  }

  /** Stops watching; later reads go to the engine. */
  close(): void {
    this.closed = true;
    this.watch?.close();
    this.watch = undefined;
    clearTimeout(this.refresh?.timer);
    this.setLive(false);
  }

  private listing(): Listing {
    return { gen: this.generation, epoch: this.epoch, at: Date.now() };
  }

  /** A listing checks may rely on: taken on this connection of a live stream, and young enough. */
  private trusted(listing: { epoch: number; at: number }): boolean {
    return this.live && listing.epoch === this.epoch && Date.now() - listing.at < this.maxAgeMs;
  }

  private clean(entry: ProjectEntry): boolean {
    return entry.eventGen <= entry.listedGen && this.trusted({ epoch: entry.listedEpoch, at: entry.listedAt });
  }

  /** Whether a status read may answer from the entry: kept current by the live stream, or young enough without it. */
  private usable(entry: ProjectEntry, now: number): boolean {
    if (entry.listedGen < 0) return false;
    if (this.live && entry.listedEpoch === this.epoch) return true;
    return now - entry.listedAt < this.freshness.unwatchedLimitMs;
  }

  /** Whether a status read should have the project listed again (in the background). */
  private doubtful(entry: ProjectEntry, now: number): boolean {
    return !this.live || entry.listedEpoch !== this.epoch || entry.eventGen > entry.listedGen || now - entry.listedAt >= this.maxAgeMs;
  }

  /** Containers of every project from listings taken after the last event: for discovery. */
  private async everyProject(): Promise<readonly ComposeContainer[]> {
    const full = this.containers.full;
    if (full && this.trusted(full) && this.containers.dirtyProjects().length === 0) return this.containers.all();
    return this.listAll();
  }

  /** Containers of these projects, from listings taken after the last event about each. */
  private async projectsFresh(projects: readonly string[]): Promise<ComposeContainer[]> {
    const result: ComposeContainer[] = [];
    const waits: Promise<readonly ComposeContainer[]>[] = [];
    const toList: string[] = [];
    for (const project of new Set(projects)) {
      const entry = this.containers.get(project);
      if (entry && this.clean(entry)) {
        result.push(...entry.containers);
        continue;
      }
      const since = entry?.eventGen ?? 0;
      const shared = [this.pending.get(project), this.pending.get('*')].find((pending) => pending && pending.gen >= since);
      if (shared) waits.push(shared.promise.then((listed) => listed.filter((container) => container.project === project)));
      else toList.push(project);
    }
    if (toList.length > PER_PROJECT_LISTINGS) {
      const wanted = new Set(toList);
      waits.push(this.listAll().then((listed) => listed.filter((container) => wanted.has(container.project))));
    } else {
      for (const project of toList) waits.push(this.listProject(project));
    }
    for (const listed of await Promise.all(waits)) result.push(...listed);
    return result;
  }

  private listAll(): Promise<readonly ComposeContainer[]> {
    return this.track('*', () => this.docker.listComposeContainers({ includeStopped: true }), undefined);
  }

  private listProject(project: string): Promise<readonly ComposeContainer[]> {
    return this.track(project, () => this.docker.listComposeContainers({ project, includeStopped: true }), [project]);
  }

  /** Runs a listing once for everyone who asks while it is in flight, and keeps its answer. */
  private track(key: string, load: () => Promise<ComposeContainer[]>, projects: string[] | undefined): Promise<readonly ComposeContainer[]> {
    const listing = this.listing();
    const promise = load().then((listed) => {
      this.containers.land(listed, listing, projects);
      return listed;
    });
    this.pending.set(key, { gen: listing.gen, promise });
    const clear = () => {
      if (this.pending.get(key)?.promise === promise) this.pending.delete(key);
    };
    promise.then(clear, clear);
    return promise;
  }

  private listImages(): Promise<unknown> {
    if (this.pendingImages?.gen === this.generation) return this.pendingImages.promise;
    const listing = this.listing();
    const promise = this.docker.listImages().then((images) => this.images.land(images, listing, true));
    this.pendingImages = { gen: listing.gen, promise };
    const clear = () => {
      if (this.pendingImages?.promise === promise) this.pendingImages = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  /**
   * Lists the wanted projects in the background: after the coalescing window (at once when a
   * read is waiting for a first listing), or without the stream, at most once per interval.
   */
  private scheduleRefresh(urgent: boolean): void {
    if (this.refresh && !(urgent && this.refresh.timer)) return;
    const now = Date.now();
    const delay = urgent ? 0 : this.live ? this.freshness.coalesceMs : Math.max(0, this.lastRefreshAt + this.freshness.unwatchedRefreshMs - now);
    clearTimeout(this.refresh?.timer);
    let start!: () => void;
    const done = new Promise<void>((resolve) => (start = resolve)).then(() => this.runRefresh());
    const refresh: { timer?: NodeJS.Timeout; done: Promise<void> } = { done };
    refresh.timer = setTimeout(() => {
      refresh.timer = undefined;
      start();
    }, delay);
    refresh.timer.unref();
    this.refresh = refresh;
  }

  private async runRefresh(): Promise<void> {
    const projects = [...this.wanted];
    this.wanted.clear();
    this.lastRefreshAt = Date.now();
    try {
      if (projects.length > PER_PROJECT_LISTINGS) await this.listAll();
      else await Promise.all(projects.map((project) => this.listProject(project)));
    } catch (error) {
      this.options.logger?.debug({ err: error }, 'docker listing for stack status failed; statuses age out');
    } finally {
      this.refresh = undefined;
      // Reads that came while this ran; a flood of events costs one round per window, no more.
      if (this.wanted.size > 0 && !this.closed) this.scheduleRefresh(false);
    }
  }

  private onEvent(event: DockerEvent): void {
    this.generation += 1;
    if (event.Type === 'image') {
      this.images.event(this.generation, event);
      return;
    }
    const project = eventProject(event);
    if (project) this.containers.event(project, this.generation, event);
  }

  private setLive(live: boolean): void {
    this.live = live;
    this.epoch += 1;
    this.generation += 1;
    this.images.forget();
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
        onEvent: (event) => this.onEvent(event),
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
