// One delivery from a registry, start to finish: read the source's payload, drop what is not a
// push of a tag, drop events seen before (by event id, or by body hash where the source sends no
// id), match the rest to the services configured on exactly that repository and tag, ask for
// their checks, and record the delivery, with what the checks then confirmed.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { DomainError } from '../../errors.js';
import { newId } from '../../ids.js';
import type { EventKeyClaim, IgnoredRegistryEvent, RegistryDelivery, RegistryDeliveryVerification, Service, Store } from '../../store/index.js';
import { nowIso } from '../../time.js';
import type { PushCoalescer, PushNotice } from './coalescer.js';
import { classifyEvent, HostAliases, type PushTarget } from './matching.js';
import { PAYLOAD_PARSERS } from './payloads/index.js';
import type { RegistryWebhookSource } from './sources.js';

/** A source without event ids: the same body again within this window is a duplicate. */
export const BODY_DUPLICATE_WINDOW_MS = 10 * 60_000;
/** Event ids are unique; remembering them a day covers any registry's retries. */
export const EVENT_ID_WINDOW_MS = 24 * 60 * 60_000;
/** What a delivery row keeps of long lists (the counts are exact). */
const RECORDED_ITEMS = 50;

export interface PushReceipt {
  deliveryId: string;
  outcome: 'processed' | 'unmatched' | 'ignored' | 'duplicate';
  /** Push events acted upon. */
  events: number;
  ignoredEvents: number;
  duplicateEvents: number;
  matchedServiceIds: string[];
  /** Matched services whose last check already found the announced digest: no check for them. */
  currentServiceIds: string[];
  jobIds: string[];
  reusedJobIds: string[];
}

export interface ReceiverDeps {
  store: Store;
  servicesUsing(repositoryKey: string, tag: string): Promise<Service[]>;
  coalescer: PushCoalescer;
  logger: Logger;
}

interface KeyedTarget extends PushTarget {
  claim: EventKeyClaim;
}

const VERDICT_RANK: Record<RegistryDeliveryVerification, number> = { confirmed: 0, unverified: 1, denied: 2 };

export class RegistryPushReceiver {
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly deps: ReceiverDeps) {}

  async receive(source: RegistryWebhookSource, body: unknown, rawBody: Buffer): Promise<PushReceipt> {
    const { store } = this.deps;
    const deliveryId = newId('rwd');
    const receivedAt = nowIso();
    const parsed = PAYLOAD_PARSERS[source](body);
    if (!parsed.ok) {
      await store.registryWebhooks.recordDelivery({ ...emptyDelivery(deliveryId, source, receivedAt), outcome: 'rejected', reason: 'invalid_payload', message: parsed.message });
      throw new DomainError('invalid_input', parsed.message, { reason: 'invalid_payload', deliveryId });
    }

    const aliases = new HostAliases((await store.registryWebhooks.getSettings()).hostAliases);
    const bodyKey = `body:${createHash('sha256').update(rawBody).digest('hex')}`;
    const ignored: IgnoredRegistryEvent[] = [];
    const targets: KeyedTarget[] = [];
    for (const event of parsed.events) {
      const classified = classifyEvent(event, aliases);
      if ('ignored' in classified) ignored.push(classified.ignored);
      else targets.push({ ...classified.target, claim: event.id ? { key: `id:${event.id}`, windowMs: EVENT_ID_WINDOW_MS } : { key: bodyKey, windowMs: BODY_DUPLICATE_WINDOW_MS } });
    }

    const claims = [...new Map(targets.map(({ claim }) => [claim.key, claim])).values()];
    const heldBy = claims.length > 0 ? await store.registryWebhooks.claimEventKeys(source, claims, deliveryId, new Date(receivedAt)) : new Map<string, string>();
    const fresh = targets.filter(({ claim }) => !heldBy.has(claim.key));
    for (const target of targets) {
      if (heldBy.has(target.claim.key)) ignored.push({ eventId: target.eventId, action: 'push', repository: target.key, tag: target.tag, reason: 'duplicate' });
    }

    const notices = await this.noticesByService(source, deliveryId, fresh);
    const matchedServiceIds = [...notices.keys()];
    const duplicates = targets.length - fresh.length;
    const outcome: PushReceipt['outcome'] = fresh.length > 0 ? (matchedServiceIds.length > 0 ? 'processed' : 'unmatched') : targets.length > 0 ? 'duplicate' : 'ignored';
    const reason = outcome === 'duplicate' ? 'seen_before' : outcome === 'ignored' ? 'no_push_events' : undefined;
    await store.registryWebhooks.recordDelivery({
      ...emptyDelivery(deliveryId, source, receivedAt),
      outcome,
      reason,
      registry: targets[0]?.registry ?? parsed.events.find((event) => event.host)?.host?.toLowerCase(),
      eventIds: parsed.events.flatMap((event) => (event.id ? [event.id] : [])).slice(0, RECORDED_ITEMS),
      repositories: unique(targets.map(({ key }) => key)),
      tags: unique(targets.map(({ tag }) => tag)),
      digests: unique(targets.flatMap(({ digest }) => (digest ? [digest] : []))),
      events: parsed.events.length,
      ignored: ignored.slice(0, RECORDED_ITEMS),
      matchedServiceIds,
      duplicateOf: outcome === 'duplicate' ? [...heldBy.values()][0] : undefined,
    });

    const jobIds: string[] = [];
    const reusedJobIds: string[] = [];
    const currentServiceIds: string[] = [];
    const verdicts: Promise<RegistryDeliveryVerification>[] = [];
    for (const [serviceId, notice] of notices) {
      const { job, current, reused, verdict } = await this.deps.coalescer.request(serviceId, notice);
      verdicts.push(verdict);
      if (current || !job) {
        currentServiceIds.push(serviceId);
        continue;
      }
      if (!jobIds.includes(job.id)) jobIds.push(job.id);
      if (reused && !reusedJobIds.includes(job.id)) reusedJobIds.push(job.id);
    }
    if (jobIds.length > 0) await store.registryWebhooks.setDeliveryJobs(deliveryId, jobIds);
    if (verdicts.length > 0) this.track(this.recordVerification(deliveryId, verdicts));
    return { deliveryId, outcome, events: fresh.length, ignoredEvents: ignored.length - duplicates, duplicateEvents: duplicates, matchedServiceIds, currentServiceIds, jobIds, reusedJobIds };
  }

  /** Resolves when every verification recorded so far is written (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /** The services configured on each pushed repository and tag, with what the delivery said about it. */
  private async noticesByService(source: RegistryWebhookSource, deliveryId: string, targets: readonly PushTarget[]): Promise<Map<string, PushNotice>> {
    const notices = new Map<string, PushNotice>();
    const looked = new Map<string, Service[]>();
    for (const target of targets) {
      const lookup = `${target.key}:${target.tag}`;
      let services = looked.get(lookup);
      if (!services) {
        services = await this.deps.servicesUsing(target.key, target.tag);
        looked.set(lookup, services);
      }
      for (const service of services) {
        const notice = notices.get(service.id) ?? { deliveryId, source, registry: target.registry, repository: target.key, tag: target.tag, eventIds: [] };
        if (target.digest) notice.digest = target.digest;
        if (target.eventId) notice.eventIds.push(target.eventId);
        notices.set(service.id, notice);
      }
    }
    return notices;
  }

  private async recordVerification(deliveryId: string, verdicts: Promise<RegistryDeliveryVerification>[]): Promise<void> {
    const settled = await Promise.all(verdicts);
    const worst = settled.reduce((a, b) => (VERDICT_RANK[b] > VERDICT_RANK[a] ? b : a), 'confirmed');
    try {
      await this.deps.store.registryWebhooks.setDeliveryVerification(deliveryId, worst);
    } catch (error) {
      this.deps.logger.warn({ err: error, deliveryId }, 'registry delivery verification not recorded');
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }
}

function emptyDelivery(id: string, source: RegistryWebhookSource, receivedAt: string): RegistryDelivery {
  return { id, source, receivedAt, outcome: 'ignored', eventIds: [], repositories: [], tags: [], digests: [], events: 0, ignored: [], matchedServiceIds: [], jobIds: [] };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].slice(0, RECORDED_ITEMS);
}
