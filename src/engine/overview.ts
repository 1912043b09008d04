// The stacks of the overview with their statuses, and each stack's detail, kept between API
// reads: they are read on every page load and by every open UI, far more often than anything in
// them changes.
import { LruCache } from '../lru.js';
import type { ArchiveFilter, StackListItem, StackWithServices, Store } from '../store/index.js';
import type { StackStatus } from './docker/index.js';

export interface OverviewEntry {
  stack: StackListItem;
  status: StackStatus;
}

/** With a database other instances also write, a kept overview is read again after this long. */
export const SHARED_STORE_REREAD_MS = 1_000;
/** Stack details kept at once (each is one stack with its services). */
const DETAILS_KEPT = 256;

interface Kept {
  version: number;
  readAt: number;
  stacks: StackListItem[];
  statuses: readonly StackStatus[];
  entries: readonly OverviewEntry[];
}

/**
 * The overview, as one array that stays the same object until something in it changes: the
 * store's write counters for stacks and services decide when the stacks are read again, and the
 * statuses come from the kept Docker listings without waiting for the engine. Callers may key
 * their own derived values (views, serialised bodies) on the array's identity.
 */
export class StackOverview {
  private readonly kept = new Map<ArchiveFilter, Kept>();
  private readonly reading = new Map<ArchiveFilter, { version: number; promise: Promise<Kept> }>();
  private readonly details = new LruCache<string, { version: number; readAt: number; stack: Promise<StackWithServices | undefined> }>(DETAILS_KEPT);

  constructor(
    private readonly store: Pick<Store, 'stacks' | 'changes'>,
    private readonly docker: { statuses(projects: readonly string[]): Promise<StackStatus[]> },
  ) {}

  async list(archived: ArchiveFilter): Promise<readonly OverviewEntry[]> {
    const kept = await this.stacks(archived);
    const statuses = await this.docker.statuses(kept.stacks.map((stack) => stack.name));
    if (statuses.length !== kept.statuses.length || statuses.some((status, index) => status !== kept.statuses[index])) {
      kept.statuses = statuses;
      kept.entries = kept.stacks.map((stack, index) => ({ stack, status: statuses[index]! }));
    }
    return kept.entries;
  }

  /** One stack with its services, the same object while nothing in it changed; undefined when unknown. */
  detail(stackId: string): Promise<StackWithServices | undefined> {
    const { changes } = this.store;
    const version = changes.version('stacks', 'services');
    const kept = this.details.get(stackId);
    if (kept && kept.version === version && !this.outlived(kept.readAt)) return kept.stack;
    const stack = this.store.stacks.getWithServices(stackId);
    const entry = { version, readAt: Date.now(), stack };
    this.details.set(stackId, entry);
    stack.catch(() => (this.details.get(stackId) === entry ? this.details.delete(stackId) : undefined));
    return stack;
  }

  /** A copy read before this (epoch ms) may miss another instance's writes. */
  private outlived(readAt: number): boolean {
    return this.store.changes.shared && Date.now() - readAt >= SHARED_STORE_REREAD_MS;
  }

  private async stacks(archived: ArchiveFilter): Promise<Kept> {
    const { changes } = this.store;
    // Taken before the read: a write that lands during it leaves the copy already outdated.
    const version = changes.version('stacks', 'services');
    const kept = this.kept.get(archived);
    if (kept && kept.version === version && !this.outlived(kept.readAt)) return kept;
    const inFlight = this.reading.get(archived);
    if (inFlight?.version === version) return inFlight.promise;
    const readAt = Date.now();
    const promise = this.store.stacks.list(archived).then((stacks): Kept => {
      const fresh: Kept = { version, readAt, stacks, statuses: [], entries: [] };
      if ((this.kept.get(archived)?.readAt ?? -1) <= readAt) this.kept.set(archived, fresh);
      return fresh;
    });
    this.reading.set(archived, { version, promise });
    const clear = () => {
      if (this.reading.get(archived)?.promise === promise) this.reading.delete(archived);
    };
    promise.then(clear, clear);
    return promise;
  }
}
