// Push notices arrive faster than checks finish (a CI pipeline pushing a dozen tags, a registry
// retrying, a burst of replays). Per service there is at most one check in flight here; notices
// that arrive while it runs are folded into a single follow-up check, started when it finishes
// and only if its result does not already show what they announced. A check that was already
// running before a notice arrived may have asked the registry before the push: it never counts
// as the answer to that notice. So a burst of any size costs one running check and at most one
// waiting one per service, and memory holds one entry per service with notices in flight.
import type { Logger } from 'pino';
import type { Job, Service } from '../../store/index.js';
import type { PushOrigin } from '../check/push.js';
import type { RegistryDeliveryVerification } from '../../store/index.js';

/** What one delivery asked of one service. */
export interface PushNotice {
  deliveryId: string;
  source: string;
  registry: string;
  /** The repository key and tag that matched the service. */
  repository: string;
  tag: string;
  digest?: string;
  eventIds: string[];
}

export interface CoalescerDeps {
  checkForPush(serviceId: string, origin: PushOrigin): Promise<{ job: Job; reused: boolean }>;
  /** The job once it is no longer running (undefined when it cannot be read). */
  finished(jobId: string): Promise<Job | undefined>;
  service(serviceId: string): Promise<Service | undefined>;
  logger: Logger;
}

export interface CoalescedCheck {
  /** The check answering the notice; none when the service is `current`. */
  job?: Job;
  /** The service's last check already found the announced digest: no check was started. */
  current: boolean;
  /** The check was running already (joined, or the follow-up of a check in flight here). */
  reused: boolean;
  /** Settles when a check that started after the notice has finished: did it find the announced digest? */
  verdict: Promise<RegistryDeliveryVerification>;
}

interface Waiter {
  notice: PushNotice;
  settle(verdict: RegistryDeliveryVerification): void;
}

interface Flight {
  started: Promise<{ job: Job; reused: boolean }>;
  /** Notices the running check answers. */
  covered: Waiter[];
  /** Notices that arrived while it ran. */
  waiting: Waiter[];
}

/** Event ids kept in a check's summary; the delivery log keeps them all. */
const AUDIT_EVENT_IDS = 20;

export class PushCoalescer {
  private readonly flights = new Map<string, Flight>();
  private readonly chains = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: CoalescerDeps) {}

  async request(serviceId: string, notice: PushNotice): Promise<CoalescedCheck> {
    let settle!: (verdict: RegistryDeliveryVerification) => void;
    const verdict = new Promise<RegistryDeliveryVerification>((resolve) => (settle = resolve));
    const waiter = { notice, settle };
    // The registry repeating what the service's last check found (a burst of the same push, a
    // late copy) needs no check; nothing is changed on the event's word either way.
    if (!this.flights.has(serviceId) && notice.digest) {
      const service = await this.deps.service(serviceId);
      if (!this.flights.has(serviceId) && service?.checkedAt && lastFoundDigest(service) === notice.digest) {
        settle('confirmed');
        return { current: true, reused: false, verdict };
      }
    }
    const flight = this.flights.get(serviceId);
    if (flight) {
      flight.waiting.push(waiter);
      const { job } = await flight.started;
      return { job, current: false, reused: true, verdict };
    }
    const { job, reused } = await this.launch(serviceId, [waiter]).started;
    return { job, current: false, reused, verdict };
  }

  /** Resolves when every check asked for so far, follow-ups included, has finished. */
  async settled(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains]);
  }

  /** No follow-up starts after this; resolves when the ones under way have. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.settled();
  }

  private launch(serviceId: string, waiters: Waiter[]): Flight {
    const origin = pushOrigin(waiters.map(({ notice }) => notice));
    const flight: Flight = { started: this.deps.checkForPush(serviceId, origin), covered: waiters, waiting: [] };
    this.flights.set(serviceId, flight);
    const chain = this.follow(serviceId, flight).finally(() => this.chains.delete(chain));
    this.chains.add(chain);
    return flight;
  }

  /** After the flight's check: verdicts for what it answered, and one follow-up for what it could not. */
  private async follow(serviceId: string, flight: Flight): Promise<void> {
    let pending: Waiter[] = [];
    try {
      const { job, reused } = await flight.started;
      const done = await this.deps.finished(job.id);
      const service = await this.deps.service(serviceId);
      const succeeded = checkedService(done, serviceId);
      // A check that was running before the notice came may have read the registry before the push.
      const answered = reused ? [] : flight.covered;
      for (const { notice, settle } of answered) settle(succeeded ? verdictFor(notice, service) : 'unverified');
      pending = [...(reused ? flight.covered : []), ...flight.waiting];
      const open: Waiter[] = [];
      for (const waiter of pending) {
        if (succeeded && waiter.notice.digest && reflects(service, waiter.notice.digest)) waiter.settle('confirmed');
        else open.push(waiter);
      }
      pending = open;
    } catch (error) {
      this.deps.logger.warn({ err: error, serviceId }, 'registry push check could not start');
      for (const { settle } of [...flight.covered, ...flight.waiting]) settle('unverified');
      pending = [];
    }
    if (this.flights.get(serviceId) === flight) this.flights.delete(serviceId);
    if (pending.length === 0) return;
    if (this.stopped) {
      for (const { settle } of pending) settle('unverified');
      return;
    }
    // Waiters that arrive from here on join the follow-up instead.
    this.launch(serviceId, pending);
  }
}

/** The check finished and asked the registry for this service successfully. */
function checkedService(job: Job | undefined, serviceId: string): boolean {
  if (job?.status !== 'success') return false;
  const results = Array.isArray(job.summary.services) ? (job.summary.services as { serviceId?: unknown; status?: unknown }[]) : [];
  return results.some((result) => result.serviceId === serviceId && result.status === 'ok');
}

/** The digest the service's last check found for its tag: the candidate's, else the running one. */
function lastFoundDigest(service: Service): string | undefined {
  return service.candidate?.digest ?? service.image.digest;
}

function reflects(service: Service | undefined, digest: string): boolean {
  return service?.image.digest === digest || service?.candidate?.digest === digest;
}

function verdictFor(notice: PushNotice, service: Service | undefined): RegistryDeliveryVerification {
  if (!notice.digest) return 'unverified';
  return reflects(service, notice.digest) ? 'confirmed' : 'denied';
}

/** The check's origin for these notices: the latest one's words, every delivery and (some) event ids. */
function pushOrigin(notices: readonly PushNotice[]): PushOrigin {
  const latest = notices[notices.length - 1]!;
  const eventIds = [...new Set(notices.flatMap((notice) => notice.eventIds))].slice(-AUDIT_EVENT_IDS);
  const deliveryIds = [...new Set(notices.map((notice) => notice.deliveryId))].slice(-AUDIT_EVENT_IDS);
  return {
    createdBy: 'registry',
    startMessage: `registry push check started: source=${latest.source} ${latest.repository}:${latest.tag}${notices.length > 1 ? ` (${notices.length} notices)` : ''}`,
    audit: {
      source: latest.source,
      registry: latest.registry,
      repo: latest.repository,
      deliveryId: latest.deliveryId,
      deliveryIds,
      ...(eventIds.length > 0 ? { eventId: eventIds[eventIds.length - 1], eventIds } : {}),
    },
  };
}
