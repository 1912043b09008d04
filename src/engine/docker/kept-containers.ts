// Container listings kept per Compose project between engine reads, and what the event stream
// says about each project in the meantime.
import { COMPOSE_LABELS, stackStatus, type ComposeContainer, type ContainerHealth, type ContainerState, type StackStatus } from './containers.js';
import type { DockerEvent } from './engine.js';

/** One project's containers (stopped ones included) as last listed, with the events since applied. */
export interface ProjectEntry {
  readonly containers: readonly ComposeContainer[];
  /** Event generation when the listing was asked for; the listing may miss events after it. */
  readonly listedGen: number;
  /** Stream connection the listing belongs to: a listing from an earlier one is not trusted by checks. */
  readonly listedEpoch: number;
  readonly listedAt: number;
  /** Generation of the newest event about this project (0: none since it was first seen). */
  readonly eventGen: number;
}

interface Entry extends ProjectEntry {
  /** Events after `listedGen`, re-applied when a listing that started before them lands. */
  recent: { gen: number; event: DockerEvent }[];
  status?: StackStatus;
}

/** Events kept per project for re-application: a flood beyond this only delays the exact picture to the next listing. */
const RECENT_EVENTS_KEPT = 64;

const STATE_AFTER: Record<string, ContainerState> = {
  create: 'created',
  start: 'running',
  restart: 'running',
  unpause: 'running',
  pause: 'paused',
  die: 'exited',
  stop: 'exited',
};

/** The project an engine event is about: the Compose label the engine copies into its attributes. */
export function eventProject(event: DockerEvent): string | undefined {
  if (event.Type !== 'container') return undefined;
  const attributes = event.Actor?.Attributes ?? {};
  if (attributes[COMPOSE_LABELS.oneoff] === 'True') return undefined;
  return attributes[COMPOSE_LABELS.project] || undefined;
}

/**
 * The containers as they are after `event`: state and health changes, renames, removals and new
 * containers (labels from the event; the image id stays unknown until the next listing). Enough
 * for a stack's status; checks never read a list that events have touched.
 */
export function applyContainerEvent(containers: readonly ComposeContainer[], event: DockerEvent): readonly ComposeContainer[] {
  const id = event.Actor?.ID;
  const action = event.Action ?? '';
  if (!id) return containers;
  const attributes = event.Actor?.Attributes ?? {};
  if (action === 'destroy') return containers.filter((container) => container.id !== id);
  const index = containers.findIndex((container) => container.id === id);
  if (index < 0) {
    if (action !== 'create' && !STATE_AFTER[action]) return containers;
    const { name = id, image = '', ...labels } = attributes;
    const created: ComposeContainer = {
      id,
      name,
      project: labels[COMPOSE_LABELS.project] ?? '',
      service: labels[COMPOSE_LABELS.service] ?? '',
      imageId: '',
      configuredImage: image,
      labels,
      state: STATE_AFTER[action] ?? 'created',
    };
    return [...containers, created];
  }
  const current = containers[index]!;
  let changed: ComposeContainer | undefined;
  if (action.startsWith('health_status')) {
    const health = /:\s*(healthy|unhealthy|starting)/.exec(action)?.[1] as ContainerHealth | undefined;
    if (health) changed = { ...current, health };
  } else if (action === 'rename' && attributes.name) {
    changed = { ...current, name: attributes.name };
  } else if (STATE_AFTER[action]) {
    // A (re)started container with a healthcheck starts over at "starting".
    const restarted = STATE_AFTER[action] === 'running' && current.health !== undefined && action !== 'unpause';
    changed = { ...current, state: STATE_AFTER[action]!, ...(restarted ? { health: 'starting' as const } : {}) };
  }
  if (!changed) return containers;
  const next = [...containers];
  next[index] = changed;
  return next;
}

/** Stack status of an entry, computed once per entry object (entries are replaced, never changed). */
export function entryStatus(entry: ProjectEntry): StackStatus {
  const own = entry as Entry;
  return (own.status ??= stackStatus(entry.containers));
}

/**
 * The kept listings of every Compose project the engine has, keyed by project: filled by full
 * listings (all projects) and per-project listings, patched by events in between. A project with
 * no entry and no event since the last full listing has no containers.
 */
export class KeptContainers {
  private readonly entries = new Map<string, Entry>();
  /** The last full listing: which generation and connection it belongs to, and when it was asked for. */
  full?: { gen: number; epoch: number; at: number };

  /** The entry of a project; an implied empty one when a full listing did not see it. */
  get(project: string): ProjectEntry | undefined {
    const entry = this.entries.get(project);
    if (entry || !this.full) return entry;
    return { containers: [], listedGen: this.full.gen, listedEpoch: this.full.epoch, listedAt: this.full.at, eventGen: 0 };
  }

  /** Projects whose newest event came after their listing. */
  dirtyProjects(): string[] {
    return [...this.entries].filter(([, entry]) => entry.eventGen > entry.listedGen).map(([project]) => project);
  }

  /** Every kept container (for a full read that found everything clean). */
  all(): ComposeContainer[] {
    return [...this.entries.values()].flatMap((entry) => entry.containers);
  }

  event(project: string, gen: number, event: DockerEvent): void {
    const entry = this.entries.get(project) ?? this.impliedEntry();
    const recent = [...entry.recent, { gen, event }].slice(-RECENT_EVENTS_KEPT);
    this.entries.set(project, { ...entry, containers: applyContainerEvent(entry.containers, event), eventGen: gen, recent, status: undefined });
  }

  /** A listing of these projects (all of them when `projects` is undefined) asked for at `gen`. */
  land(containers: readonly ComposeContainer[], listing: { gen: number; epoch: number; at: number }, projects?: readonly string[]): void {
    const byProject = new Map<string, ComposeContainer[]>();
    for (const container of containers) {
      const own = byProject.get(container.project);
      if (own) own.push(container);
      else byProject.set(container.project, [container]);
    }
    const covered = projects ?? [...new Set([...this.entries.keys(), ...byProject.keys()])];
    for (const project of covered) {
      const previous = this.entries.get(project);
      // A per-project listing that started later already knows more.
      if (previous && previous.listedGen > listing.gen && previous.listedEpoch === listing.epoch) continue;
      const recent = (previous?.recent ?? []).filter((entry) => entry.gen > listing.gen);
      let listed: readonly ComposeContainer[] = byProject.get(project) ?? [];
      for (const { event } of recent) listed = applyContainerEvent(listed, event);
      if (listed.length === 0 && recent.length === 0 && projects === undefined) {
        // Gone from the engine with nothing pending: the full listing implies it.
        this.entries.delete(project);
        continue;
      }
      this.entries.set(project, {
        containers: listed,
        listedGen: listing.gen,
        listedEpoch: listing.epoch,
        listedAt: listing.at,
        eventGen: Math.max(previous?.eventGen ?? 0, recent.length > 0 ? recent[recent.length - 1]!.gen : 0),
        recent,
      });
    }
    if (projects === undefined) this.full = listing;
  }

  private impliedEntry(): Entry {
    const full = this.full;
    return { containers: [], listedGen: full?.gen ?? -1, listedEpoch: full?.epoch ?? -1, listedAt: full?.at ?? 0, eventGen: 0, recent: [] };
  }
}
