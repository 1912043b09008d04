// The events the engine publishes, and the one emitter that carries them. Side effects that are
// not a job's own work (notifications, version inference, metrics, streams) subscribe here
// instead of being called from the check or update path. Delivery is asynchronous: a subscriber
// runs after the publisher has moved on, and one that throws or is slow never fails or delays the
// job that published.
import type { Logger } from 'pino';
import type { DiscoveryScanResult } from './discovery/scan.js';

/** What every finished job reports, whatever its type. */
export interface JobFinishedEvent {
  jobId: string;
  type: string;
  status: 'success' | 'failed' | 'rolled_back';
  scope: string;
  stackId?: string;
  serviceId?: string;
  createdBy: string;
  reason: string;
  createdAt: string;
  finishedAt: string;
  summary: Readonly<Record<string, unknown>>;
}

/** A service whose registry digest for its tag differs from what runs: a newer image for the same tag. */
export interface CandidateFoundEvent {
  /** The check or runtime scan that found it. */
  jobId: string;
  reason: string;
  stackId: string;
  stackName: string;
  serviceId: string;
  serviceName: string;
  /** The configured repository and tag, e.g. `ghcr.io/acme/web` and `latest`. */
  imageRef: string;
  tag: string;
  /** The digest running when the candidate was found (frozen at check time). */
  currentDigest?: string;
  candidateDigest: string;
  archMatch: 'match' | 'mismatch' | 'unknown';
  /** The candidate matches an enabled ignore rule of the service. */
  ignored: boolean;
}

export interface CheckFinishedEvent {
  jobId: string;
  reason: string;
  createdBy: string;
  scope: string;
  stackIds: string[];
  servicesChecked: number;
  servicesWithCandidate: number;
  /** Candidates this check found for the first time (not ignored ones), with their digests frozen at check time. */
  newCandidates: CandidateFoundEvent[];
  /** Set when a push notice asked for (or joined) the check: `github_webhook`, `distribution`, … */
  source?: string;
}

export interface UpdatedServiceOutcome {
  serviceId: string;
  serviceName: string;
  /** The repository digest before the update (what the check saw running), when known. */
  oldDigest?: string;
  /** The repository digest now running (after a rollback: the old one), when known. */
  newDigest?: string;
  oldImageId?: string;
  newImageId?: string;
}

export interface UpdateFinishedEvent {
  jobId: string;
  reason: string;
  createdBy: string;
  mode: 'apply' | 'dry-run';
  status: 'success' | 'failed' | 'rolled_back';
  stacks: {
    stackId: string;
    stackName: string;
    status: 'success' | 'failed' | 'rolled_back';
    changed: UpdatedServiceOutcome[];
    rolledBack: UpdatedServiceOutcome[];
    failed: UpdatedServiceOutcome[];
    failureStep?: string;
  }[];
}

export interface DiscoveryFinishedEvent {
  /** Absent for the periodic scan, which records no job. */
  jobId?: string;
  scan: DiscoveryScanResult;
}

export interface RuntimeScanFinishedEvent {
  jobId: string;
  reason: string;
  /** Services whose running digest changed since the last check or scan. */
  drifted: { stackId: string; serviceId: string; previousDigest?: string; runtimeDigest: string }[];
}

/** Emitted by the GitHub packages webhook audit for repositories whose hook is missing, duplicated or failing. */
export interface GhcrWebhookAnomalyEvent {
  jobId: string;
  repos: { owner: string; repo: string; fullName: string; state: 'missing' | 'conflict' | 'error'; lastError?: string }[];
}

/** Emitted by the Quay notification audit for repositories whose notification was missing, is failing or could not be checked. */
export interface QuayNotificationsAnomalyEvent {
  jobId: string;
  repositories: { registry: string; repository: string; state: 'missing' | 'failing' | 'error'; numberOfFailures?: number; error?: string }[];
}

/** One send of a notification: `sent`, `pending` (failed, a retry follows) or `failed` (the last attempt failed). */
export interface NotificationAttemptedEvent {
  deliveryId: string;
  channel: string;
  kind: string;
  status: 'sent' | 'pending' | 'failed';
  attempt: number;
}

/** Settings a user changed; loops that read them (schedules, channels) re-read. */
export interface SettingsChangedEvent {
  section: 'system' | 'notifications' | 'github_packages' | 'registry_webhooks';
}

export interface EngineEventMap {
  'job.finished': JobFinishedEvent;
  'check.finished': CheckFinishedEvent;
  'candidate.found': CandidateFoundEvent;
  'update.finished': UpdateFinishedEvent;
  'discovery.finished': DiscoveryFinishedEvent;
  'runtime_scan.finished': RuntimeScanFinishedEvent;
  'ghcr_webhook.anomaly': GhcrWebhookAnomalyEvent;
  'quay_notifications.anomaly': QuayNotificationsAnomalyEvent;
  'settings.changed': SettingsChangedEvent;
  'notification.attempted': NotificationAttemptedEvent;
}

export type EngineEventName = keyof EngineEventMap;
export type EngineEventListener<K extends EngineEventName> = (event: Readonly<EngineEventMap[K]>) => unknown;

/** An event waiting to be published, e.g. by the job runner once the job's row is final. */
export type PendingEvent = { [K in EngineEventName]: { name: K; payload: EngineEventMap[K] } }[EngineEventName];

export function pendingEvent<K extends EngineEventName>(name: K, payload: EngineEventMap[K]): PendingEvent {
  return { name, payload } as PendingEvent;
}

export class EngineEvents {
  private readonly listeners = new Map<EngineEventName, Set<EngineEventListener<never>>>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly logger?: Logger) {}

  /** Subscribes; returns the unsubscribe function. */
  on<K extends EngineEventName>(name: K, listener: EngineEventListener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as EngineEventListener<never>);
    return () => set.delete(listener as EngineEventListener<never>);
  }

  /** The next event of this name that satisfies `accept` (tests, streams). */
  next<K extends EngineEventName>(name: K, accept: (event: Readonly<EngineEventMap[K]>) => boolean = () => true): Promise<Readonly<EngineEventMap[K]>> {
    return new Promise((resolve) => {
      const off = this.on(name, (event) => {
        if (!accept(event)) return;
        off();
        resolve(event);
      });
    });
  }

  /**
   * Hands the event to every subscriber on a later turn of the event loop and returns at once.
   * Subscriber failures are logged, never thrown at the publisher.
   */
  publish<K extends EngineEventName>(name: K, payload: EngineEventMap[K]): void {
    const set = this.listeners.get(name);
    if (!set || set.size === 0) return;
    for (const listener of [...set]) {
      const delivery: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => (listener as EngineEventListener<K>)(payload))
        .then(
          () => undefined,
          (error: unknown) => this.logger?.warn({ err: error, event: name }, 'engine event subscriber failed'),
        )
        .finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  publishAll(events: readonly PendingEvent[]): void {
    for (const event of events) this.publish(event.name, event.payload as never);
  }

  /** Resolves when every delivery started so far has finished (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
