// Version inference (behaviour.md §E.7): which version tags point at a service's digest. Snapshots
// of (repository, digest, platform) are taken in the background by the worker, kept for 7 days and
// read by the stack detail and the snapshot routes; checks, updates and runtime scans that change
// a digest enqueue a snapshot through engine events, never by calling in here.
import type { Logger } from 'pino';
import { DomainError } from '../../errors.js';
import type { DigestTagsSnapshot, Service, SnapshotKey, Store } from '../../store/index.js';
import { nowIso, toIso } from '../../time.js';
import { serviceImageRef } from '../check/checker.js';
import type { EngineEvents } from '../events.js';
import { isDigest, normalizeDigest, RegistryError, type ImageRef, type RegistryClient } from '../registry/index.js';
import { InferenceEventRing } from './event-ring.js';
import { overviewPage, type OverviewPage, type OverviewQuery } from './overview.js';
import { scanDigestTags, type ScanResult } from './scan.js';
import { inferenceDigests, isAllFailed, isStale, refreshReason, resolvedUpdate, sameKey } from './snapshots.js';
import { sortTagsDescending } from './tags.js';
import { snapshotKeyText, SnapshotWorker, type InferenceTask, type ProgressInput, type TaskReason } from './worker.js';
import { serviceState, type ServiceInferenceState } from './service-state.js';

/** Version inference's own registry connections (RegistryClient.sibling): fewer than a check's, and the reference's 6 s a manifest. */
export const INFERENCE_REGISTRY = { perHostConcurrency: 4, timeoutMs: 6000 };
/** Tags inspected per snapshot, anchors included. */
export const SNAPSHOT_DEPTH = 40;
const TASK_BUDGET_MS = 60_000;
/** `GET …/digest-tags?digest=` answers within about this long, whatever the registry does. */
const LIVE_BUDGET_MS = 25_000;
const LOOKUP_CONCURRENCY = 8;
const RETRY_AFTER_MS = 800;
export const GC_RETENTION_DAYS = 30;
export const GC_INTERVAL_SECONDS = 24 * 60 * 60;

export interface VersionInferenceDeps {
  store: Store;
  /** The inference's own client (RegistryClient.sibling): its slow registries never hold up a check. */
  registry: RegistryClient;
  hostPlatform: string;
  events: EngineEvents;
  logger: Logger;
  queueCapacity?: number;
  eventRingSize?: number;
}

export type SnapshotRead = { status: 'pending'; digest: string; retryAfterMs: number } | { status: 'ready'; snapshot: DigestTagsSnapshot };

export interface GcReport {
  retentionDays: number;
  intervalSeconds: number;
  /** Absent until the first run. */
  lastRunAt?: string;
  lastDeleted?: number;
  lastDurationMs?: number;
}

interface ServiceDigest {
  service: Service;
  ref: ImageRef;
  key: SnapshotKey;
}

export class VersionInference {
  readonly ring: InferenceEventRing;
  private readonly worker: SnapshotWorker;
  private gcState?: { lastRunAt: string; lastDeleted: number; lastDurationMs: number };

  constructor(private readonly deps: VersionInferenceDeps) {
    this.ring = new InferenceEventRing(deps.eventRingSize);
    this.worker = new SnapshotWorker((task, report) => this.runTask(task, report), this.ring, deps.logger, undefined, deps.queueCapacity);
    this.subscribe(deps.events);
  }

  /** Start-up: snapshots for every known digest that lacks a fresh one (reason `startup_warmup`), then the worker runs. */
  async start(): Promise<void> {
    const services = await this.deps.store.services.list('include');
    await this.reconcile(services, { current: 'startup_warmup', candidate: 'startup_warmup' });
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /**
   * Resolves once no queued or running snapshot task concerns any of these digests (or after
   * `timeoutMs`); never rejects. For subscribers that want resolved tags before they report.
   */
  whenSettled(digests: readonly string[], timeoutMs: number): Promise<void> {
    return this.worker.whenSettled(digests, timeoutMs);
  }

  tasks(): InferenceTask[] {
    return this.worker.list();
  }

  /** `versionInference` of each service for the stack detail; missing or stale snapshots are scheduled (low priority). */
  async serviceStates(services: readonly Service[]): Promise<Map<string, ServiceInferenceState>> {
    const now = Date.now();
    const snapshots = await this.snapshotsOf(services);
    const states = new Map<string, ServiceInferenceState>();
    for (const service of services) {
      const digests = inferenceDigests(service, this.deps.hostPlatform);
      const entries = [];
      for (const digest of digests) {
        const snapshot = snapshots.get(snapshotKeyText(digest.key));
        const task = this.worker.task(digest.key);
        const due = refreshReason(snapshot, now);
        if (due && !task) this.worker.enqueue(digest.key, due);
        entries.push({ snapshot, task, due });
      }
      states.set(service.id, serviceState(entries));
    }
    return states;
  }

  /** `GET …/digest-tags-snapshot`: the stored snapshot, or pending while none is stored or a forced refresh runs. */
  async readSnapshot(serviceId: string, rawDigest: string | undefined): Promise<SnapshotRead> {
    const { key } = await this.serviceDigest(serviceId, rawDigest);
    const snapshot = await this.deps.store.snapshots.get(key);
    const task = this.worker.task(key);
    if (!snapshot) {
      if (!task) this.worker.enqueue(key, 'api_snapshot_read_miss');
      return { status: 'pending', digest: key.digest, retryAfterMs: RETRY_AFTER_MS };
    }
    if (task?.reason === 'force') return { status: 'pending', digest: key.digest, retryAfterMs: RETRY_AFTER_MS };
    const due = refreshReason(snapshot, Date.now());
    if (due && !task) this.worker.enqueue(key, due);
    return { status: 'ready', snapshot };
  }

  /** `POST …/version-inference/refresh`: a forced snapshot; `running` when a task for the key was in flight already. */
  async refresh(serviceId: string, rawDigest: string | undefined): Promise<{ serviceId: string; imageRepo: string; digest: string; reason: 'force' | 'running' }> {
    const { key } = await this.serviceDigest(serviceId, rawDigest);
    const outcome = this.worker.enqueue(key, 'force');
    return { serviceId, imageRepo: key.imageRepo, digest: key.digest, reason: outcome === 'enqueued' ? 'force' : 'running' };
  }

  /**
   * `GET …/digest-tags`: without a digest, the repository's tags; with one of the service's
   * digests, a live scan of every tag within a time budget, stored as that digest's snapshot.
   */
  async digestTags(serviceId: string, rawDigest: string | undefined): Promise<Pick<ScanResult, 'tags' | 'scan' | 'repoTags'> & { digest: string }> {
    if (rawDigest === undefined || rawDigest.trim() === '') {
      const service = await this.deps.store.services.get(serviceId);
      if (!service) throw new DomainError('unknown', 'service not found');
      const ref = serviceImageRef(service);
      if (!ref) throw new DomainError('invalid_input', 'invalid image ref (expected repo/name[:tag][@sha256:digest])', { imageRef: `${service.image.ref}:${service.image.tag}` });
      let tags: string[];
      try {
        tags = await this.deps.registry.listTags(ref);
      } catch (error) {
        const timeout = error instanceof RegistryError && error.kind === 'timeout';
        throw new DomainError('upstream', timeout ? 'registry timeout' : 'registry error', { op: 'list_tags', error: (error as Error).message });
      }
      return {
        digest: service.image.digest ?? '',
        tags: [],
        repoTags: sortTagsDescending(tags),
        scan: { repoTagsTotal: tags.length, repoTagsConsidered: 0, manifestsOk: 0, manifestsTimeout: 0, manifestsError: 0 },
      };
    }
    const { key, ref } = await this.serviceDigest(serviceId, rawDigest, 'invalid image ref (expected repo/name[:tag][@sha256:digest])');
    const services = await this.deps.store.services.list('include');
    const result = await scanDigestTags({
      client: this.deps.registry,
      target: ref,
      digest: key.digest,
      hostPlatform: key.hostPlatform,
      anchors: anchorTags(services, key),
      depth: Number.POSITIVE_INFINITY,
      budgetMs: LIVE_BUDGET_MS,
      concurrency: LOOKUP_CONCURRENCY,
    });
    await this.save(key, result);
    return { digest: key.digest, tags: result.tags, scan: result.scan };
  }

  async overview(query: OverviewQuery): Promise<OverviewPage & { worker: ReturnType<SnapshotWorker['stats']>; gc: GcReport; tasks: InferenceTask[] }> {
    const [snapshots, services] = await Promise.all([this.deps.store.snapshots.list(), this.deps.store.services.list('include')]);
    const tasks = this.worker.list();
    const page = overviewPage({ snapshots, tasks, services, hostPlatform: this.deps.hostPlatform, query, now: Date.now() });
    return {
      worker: this.worker.stats(),
      gc: { retentionDays: GC_RETENTION_DAYS, intervalSeconds: GC_INTERVAL_SECONDS, ...this.gcState },
      tasks,
      ...page,
    };
  }

  /** Deletes snapshots not refreshed for 30 days (at start-up and every 24 h) and reports it on the event stream. */
  async collectGarbage(): Promise<number> {
    const started = Date.now();
    const cutoff = toIso(started - GC_RETENTION_DAYS * 24 * 60 * 60_000);
    try {
      const deleted = await this.deps.store.snapshots.deleteCheckedBefore(cutoff);
      const durationMs = Date.now() - started;
      this.gcState = { lastRunAt: toIso(started), lastDeleted: deleted, lastDurationMs: durationMs };
      this.ring.push({ type: 'gc_ran', cutoff, deleted, durationMs, ok: true });
      return deleted;
    } catch (error) {
      this.ring.push({ type: 'gc_ran', cutoff, deleted: 0, durationMs: Date.now() - started, ok: false, error: (error as Error).message });
      throw error;
    }
  }

  private subscribe(events: EngineEvents): void {
    // A check that changed a service's current digest: its tags are looked up (candidates come below).
    const digestsOf = (found: readonly { currentDigest?: string; candidateDigest: string }[]) => found.flatMap((each) => [each.candidateDigest, ...(each.currentDigest ? [each.currentDigest] : [])]);
    events.on('check.finished', (event) => this.afterChange(() => this.servicesOfStacks(event.stackIds), { current: 'due' }, digestsOf(event.newCandidates)));
    events.on('candidate.found', (event) => this.afterChange(() => this.servicesById([event.serviceId]), { candidate: 'new_version' }, digestsOf([event])));
    events.on('update.finished', (event) => {
      const changed = event.stacks.flatMap((stack) => stack.changed.filter((service) => service.newDigest && service.newDigest !== service.oldDigest));
      return this.afterChange(() => this.servicesById(changed.map((service) => service.serviceId)), { current: 'update_digest_changed' }, changed.map((service) => service.newDigest!));
    });
    events.on('runtime_scan.finished', (event) =>
      this.afterChange(() => this.servicesById(event.drifted.map((drift) => drift.serviceId)), { current: 'runtime_scan_digest_changed' }, event.drifted.map((drift) => drift.runtimeDigest)),
    );
  }

  /** Holds the digests for whenSettled (synchronously, before the first await) while services are read and reconciled. */
  private async afterChange(load: () => Promise<Service[]>, reasons: Reasons, digests: readonly string[]): Promise<void> {
    const release = this.worker.hold(digests);
    try {
      await this.reconcile(await load(), reasons);
    } finally {
      release();
    }
  }

  /** For each digest of these services: apply a fresh snapshot at once, or enqueue one with the given reason. */
  private async reconcile(services: readonly Service[], reasons: Reasons): Promise<void> {
    const now = Date.now();
    const snapshots = await this.snapshotsOf(services);
    for (const service of services) {
      for (const digest of inferenceDigests(service, this.deps.hostPlatform)) {
        const reason = reasons[digest.role];
        if (!reason) continue;
        const snapshot = snapshots.get(snapshotKeyText(digest.key));
        const due = refreshReason(snapshot, now);
        if (due) this.worker.enqueue(digest.key, reason === 'due' ? due : reason);
        else if (snapshot) await this.applyTo(service, snapshot);
      }
    }
  }

  private async runTask(task: Readonly<InferenceTask>, report: (progress: ProgressInput) => void): Promise<Record<string, unknown>> {
    const key: SnapshotKey = { imageRepo: task.imageRepo, digest: task.digest, hostPlatform: task.hostPlatform };
    report({ phase: 'prepare', message: 'preparing snapshot', current: 0, total: 0, assignedCurrent: 0, assignedTotal: 0, resultCurrent: 0, resultTotal: 0 });
    const services = await this.deps.store.services.list('include');
    const holder = services.map((service) => ({ service, ref: serviceImageRef(service) })).find(({ ref }) => ref?.key === key.imageRepo);
    if (!holder?.ref) throw new Error(`no service uses ${key.imageRepo} any more`);
    const result = await scanDigestTags({
      client: this.deps.registry,
      target: holder.ref,
      digest: key.digest,
      hostPlatform: key.hostPlatform,
      anchors: anchorTags(services, key),
      depth: SNAPSHOT_DEPTH,
      budgetMs: TASK_BUDGET_MS,
      concurrency: LOOKUP_CONCURRENCY,
      onProgress: (progress) =>
        report({
          phase: progress.phase,
          message: progress.message,
          current: progress.current,
          total: progress.total,
          assignedCurrent: progress.assigned,
          assignedTotal: progress.total,
          resultCurrent: progress.succeeded,
          resultTotal: progress.total,
        }),
    });
    if (result.listingError) this.deps.logger.warn({ key: task.key, error: result.listingError }, 'version inference: tag listing failed');
    const total = result.scan.repoTagsConsidered;
    const counts = { current: total, total, assignedCurrent: total, assignedTotal: total, resultCurrent: result.scan.manifestsOk, resultTotal: total };
    report({ phase: 'persisting', message: 'persisting snapshot', ...counts });
    const snapshot = await this.save(key, result);
    return { checkedAt: snapshot.checkedAt, allFailed: isAllFailed(snapshot), scan: snapshot.scan };
  }

  /** Stores the snapshot and gives the services on its digest their resolved tags. */
  private async save(key: SnapshotKey, result: Pick<ScanResult, 'tags' | 'scan'>): Promise<DigestTagsSnapshot> {
    const snapshot: DigestTagsSnapshot = { ...key, tags: result.tags, scan: result.scan, checkedAt: nowIso() };
    if (this.worker.isStopped) return snapshot;
    await this.deps.store.snapshots.upsert(snapshot);
    for (const service of await this.deps.store.services.list('include')) await this.applyTo(service, snapshot);
    return snapshot;
  }

  private async applyTo(service: Service, snapshot: DigestTagsSnapshot): Promise<void> {
    if (isStale(snapshot, Date.now())) return;
    for (const digest of inferenceDigests(service, this.deps.hostPlatform)) {
      if (!sameKey(digest.key, snapshot)) continue;
      const update = resolvedUpdate(service, digest, snapshot);
      if (update?.role === 'current') await this.deps.store.services.setResolvedTags(service.id, update.digest, update);
      else if (update?.role === 'candidate') await this.deps.store.services.setCandidateResolvedTag(service.id, update.digest, update.resolvedTag);
    }
  }

  /** The snapshot key of one of the service's digests; the checks and messages of behaviour.md §C.3. */
  private async serviceDigest(serviceId: string, rawDigest: string | undefined, badRefMessage = 'invalid service image ref'): Promise<ServiceDigest> {
    const digest = rawDigest === undefined ? '' : normalizeDigest(rawDigest);
    if (!isDigest(digest)) throw new DomainError('invalid_input', 'digest is required', { field: 'digest' });
    const service = await this.deps.store.services.get(serviceId);
    if (!service) throw new DomainError('unknown', 'service not found');
    if (digest !== service.image.digest?.toLowerCase() && digest !== service.candidate?.digest.toLowerCase()) {
      throw new DomainError('unknown', 'digest snapshot not found', { digest });
    }
    const ref = serviceImageRef(service);
    if (!ref) throw new DomainError('invalid_input', badRefMessage, { imageRef: `${service.image.ref}:${service.image.tag}` });
    return { service, ref, key: { imageRepo: ref.key, digest, hostPlatform: this.deps.hostPlatform } };
  }

  /** The stored snapshots of these services' digests, by key text, in one query. */
  private async snapshotsOf(services: readonly Service[]): Promise<Map<string, DigestTagsSnapshot>> {
    const keys = services.flatMap((service) => inferenceDigests(service, this.deps.hostPlatform).map((digest) => digest.key));
    if (keys.length === 0) return new Map();
    return new Map((await this.deps.store.snapshots.getMany(keys)).map((snapshot) => [snapshotKeyText(snapshot), snapshot]));
  }

  private async servicesOfStacks(stackIds: readonly string[]): Promise<Service[]> {
    const lists = await Promise.all(stackIds.map((stackId) => this.deps.store.services.listByStack(stackId)));
    return lists.flat();
  }

  private async servicesById(ids: readonly string[]): Promise<Service[]> {
    const services = await Promise.all([...new Set(ids)].map((id) => this.deps.store.services.get(id)));
    return services.filter((service): service is Service => service !== undefined);
  }
}

/** How a change names its tasks: an explicit reason, or `due` for what the snapshot's state says (missing, stale, …). */
type Reasons = { current?: TaskReason | 'due'; candidate?: TaskReason | 'due' };

/** The tags services of the repository run or are offered on this digest: always inspected, however deep. */
function anchorTags(services: readonly Service[], key: SnapshotKey): string[] {
  const anchors = new Set<string>();
  for (const service of services) {
    if (serviceImageRef(service)?.key !== key.imageRepo) continue;
    if (service.image.digest === key.digest) anchors.add(service.image.tag);
    if (service.candidate?.digest === key.digest) anchors.add(service.candidate.tag);
  }
  return [...anchors];
}
