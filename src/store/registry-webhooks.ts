// Registry push notices: the receivers' settings (tokens in clear; masking them is the API
// layer's job), the delivery log, and the event keys already seen. Callers: src/engine/webhooks/.
import type { Knex } from 'knex';
import { readDocument, writeDocument } from './documents.js';
import { compact, fromJson, likePattern, optional, toJson } from './rows.js';

export type RegistryWebhookSource = 'distribution' | 'harbor' | 'dockerhub' | 'quay';
export const REGISTRY_WEBHOOK_SOURCES: readonly RegistryWebhookSource[] = ['distribution', 'harbor', 'dockerhub', 'quay'];

export interface RegistryWebhookSourceSettings {
  enabled: boolean;
  token: string | null;
}

export interface RegistryWebhookSettings {
  sources: Record<RegistryWebhookSource, RegistryWebhookSourceSettings>;
  /** The host a registry names itself with → the host the services' image references use. */
  hostAliases: { from: string; to: string }[];
  quay: {
    apiBaseUrl: string | null;
    oauthToken: string | null;
    registryHost: string | null;
    audit: { enabled: boolean; cron: string };
  };
}

export const DEFAULT_REGISTRY_WEBHOOK_SETTINGS: RegistryWebhookSettings = {
  sources: {
    distribution: { enabled: false, token: null },
    harbor: { enabled: false, token: null },
    dockerhub: { enabled: false, token: null },
    quay: { enabled: false, token: null },
  },
  hostAliases: [],
  quay: { apiBaseUrl: null, oauthToken: null, registryHost: null, audit: { enabled: true, cron: '0 4 * * *' } },
};

export type RegistryDeliveryOutcome = 'processed' | 'unmatched' | 'ignored' | 'duplicate' | 'rejected';
export type RegistryDeliveryVerification = 'confirmed' | 'denied' | 'unverified';

export interface IgnoredRegistryEvent {
  eventId?: string;
  action?: string;
  repository?: string;
  tag?: string;
  reason: 'not_a_push' | 'no_tag' | 'not_a_manifest' | 'invalid_reference' | 'no_registry_host' | 'duplicate';
}

export interface RegistryDelivery {
  id: string;
  source: RegistryWebhookSource;
  receivedAt: string;
  outcome: RegistryDeliveryOutcome;
  reason?: string;
  message?: string;
  registry?: string;
  eventIds: string[];
  repositories: string[];
  tags: string[];
  digests: string[];
  /** Events in the delivery. */
  events: number;
  ignored: IgnoredRegistryEvent[];
  matchedServiceIds: string[];
  jobIds: string[];
  verification?: RegistryDeliveryVerification;
  duplicateOf?: string;
}

export interface RegistryDeliveryQuery {
  source?: RegistryWebhookSource;
  outcome?: RegistryDeliveryOutcome;
  /** Case-insensitive substring of a repository key the delivery named. */
  repository?: string;
  limit: number;
  /** Only deliveries older than this one (the previous page's last id). */
  before?: string;
}

/** An event key to claim, and how long a claim on it holds. */
export interface EventKeyClaim {
  key: string;
  /** A key seen longer ago than this is taken again (body hashes: minutes; event ids: a day). */
  windowMs: number;
}

interface DeliveryRow {
  id: string;
  source: string;
  received_at: string;
  outcome: string;
  reason: string | null;
  message: string | null;
  registry: string | null;
  event_ids: string;
  repositories: string;
  tags: string;
  digests: string;
  event_count: number;
  ignored: string;
  matched_service_ids: string;
  job_ids: string;
  verification: string | null;
  duplicate_of: string | null;
}

interface SeenRow {
  source: string;
  event_key: string;
  seen_at: string;
  delivery_id: string;
}

function deliveryFromRow(row: DeliveryRow): RegistryDelivery {
  return compact({
    id: row.id,
    source: row.source as RegistryWebhookSource,
    receivedAt: row.received_at,
    outcome: row.outcome as RegistryDeliveryOutcome,
    reason: optional(row.reason),
    message: optional(row.message),
    registry: optional(row.registry),
    eventIds: fromJson<string[]>(row.event_ids, []),
    repositories: fromJson<string[]>(row.repositories, []),
    tags: fromJson<string[]>(row.tags, []),
    digests: fromJson<string[]>(row.digests, []),
    events: Number(row.event_count),
    ignored: fromJson<IgnoredRegistryEvent[]>(row.ignored, []),
    matchedServiceIds: fromJson<string[]>(row.matched_service_ids, []),
    jobIds: fromJson<string[]>(row.job_ids, []),
    verification: optional(row.verification) as RegistryDeliveryVerification | undefined,
    duplicateOf: optional(row.duplicate_of),
  });
}

/** SQLite and PostgreSQL both bind at most a few thousand parameters per statement. */
const KEY_BATCH = 200;

export function createRegistryWebhooksRepository(knex: Knex) {
  const deliveries = () => knex<DeliveryRow>('registry_webhook_deliveries');
  const seen = () => knex<SeenRow>('registry_webhook_seen');

  /** Stored settings over the defaults, source by source, so sources added later get defaults. */
  async function getSettings(): Promise<RegistryWebhookSettings> {
    const stored = (await readDocument<Partial<RegistryWebhookSettings>>(knex, 'registry_webhook_settings'))?.value ?? {};
    const defaults = structuredClone(DEFAULT_REGISTRY_WEBHOOK_SETTINGS);
    const sources = { ...defaults.sources };
    for (const source of REGISTRY_WEBHOOK_SOURCES) sources[source] = { ...defaults.sources[source], ...stored.sources?.[source] };
    return {
      sources,
      hostAliases: stored.hostAliases ?? defaults.hostAliases,
      quay: { ...defaults.quay, ...stored.quay, audit: { ...defaults.quay.audit, ...stored.quay?.audit } },
    };
  }

  async function putSettings(settings: RegistryWebhookSettings): Promise<void> {
    await writeDocument(knex, 'registry_webhook_settings', settings);
  }

  async function recordDelivery(delivery: RegistryDelivery): Promise<void> {
    await deliveries().insert({
      id: delivery.id,
      source: delivery.source,
      received_at: delivery.receivedAt,
      outcome: delivery.outcome,
      reason: delivery.reason ?? null,
      message: delivery.message ?? null,
      registry: delivery.registry ?? null,
      event_ids: toJson(delivery.eventIds),
      repositories: toJson(delivery.repositories),
      tags: toJson(delivery.tags),
      digests: toJson(delivery.digests),
      event_count: delivery.events,
      ignored: toJson(delivery.ignored),
      matched_service_ids: toJson(delivery.matchedServiceIds),
      job_ids: toJson(delivery.jobIds),
      verification: delivery.verification ?? null,
      duplicate_of: delivery.duplicateOf ?? null,
    });
  }

  async function setDeliveryJobs(id: string, jobIds: readonly string[]): Promise<void> {
    await deliveries().where({ id }).update({ job_ids: toJson(jobIds) });
  }

  async function setDeliveryVerification(id: string, verification: RegistryDeliveryVerification): Promise<void> {
    await deliveries().where({ id }).update({ verification });
  }

  async function getDelivery(id: string): Promise<RegistryDelivery | undefined> {
    const row = await deliveries().where({ id }).first();
    return row ? deliveryFromRow(row) : undefined;
  }

  /** Newest first; `nextCursor` is the last id of the page when older ones exist. */
  async function listDeliveries(query: RegistryDeliveryQuery): Promise<{ deliveries: RegistryDelivery[]; nextCursor?: string }> {
    const select = deliveries().orderBy('id', 'desc').limit(query.limit + 1);
    if (query.source) select.where('source', query.source);
    if (query.outcome) select.where('outcome', query.outcome);
    if (query.repository) select.whereRaw(`lower(repositories) like ? escape '\\'`, [likePattern(query.repository)]);
    if (query.before) select.where('id', '<', query.before);
    const rows = await select;
    const page = rows.slice(0, query.limit).map(deliveryFromRow);
    return rows.length > query.limit ? { deliveries: page, nextCursor: page[page.length - 1]!.id } : { deliveries: page };
  }

  /**
   * Claims event keys for a delivery: a key nobody holds, or whose holder is older than its
   * window, becomes this delivery's. Each claim is one statement that SQLite and PostgreSQL run
   * atomically, so of two instances receiving the same event only one wins. Returns, for every
   * key claimed before (and still held), the delivery that holds it.
   */
  async function claimEventKeys(source: RegistryWebhookSource, claims: readonly EventKeyClaim[], deliveryId: string, now: Date): Promise<Map<string, string>> {
    const nowIso = now.toISOString();
    const claimed = new Set<string>();
    for (let i = 0; i < claims.length; i += KEY_BATCH) {
      const batch = claims.slice(i, i + KEY_BATCH);
      const inserted = await seen()
        .insert(batch.map(({ key }) => ({ source, event_key: key, seen_at: nowIso, delivery_id: deliveryId })))
        .onConflict(['source', 'event_key'])
        .ignore()
        .returning('event_key');
      for (const row of inserted as { event_key: string }[]) claimed.add(row.event_key);
    }
    const heldBy = new Map<string, string>();
    for (const { key, windowMs } of claims) {
      if (claimed.has(key)) continue;
      const cutoff = new Date(now.getTime() - windowMs).toISOString();
      const taken = await seen().where({ source, event_key: key }).andWhere('seen_at', '<', cutoff).update({ seen_at: nowIso, delivery_id: deliveryId });
      if (taken === 1) continue;
      const holder = await seen().where({ source, event_key: key }).first('delivery_id');
      heldBy.set(key, holder?.delivery_id ?? deliveryId);
    }
    return heldBy;
  }

  /** Drops deliveries older than `before` and all but the newest `keep`, and keys last seen before `seenBefore`. */
  async function prune(before: string, keep: number, seenBefore: string): Promise<{ deliveries: number; keys: number }> {
    let removed = await deliveries().where('received_at', '<', before).delete();
    const boundary = await deliveries().orderBy('id', 'desc').offset(keep).first('id');
    if (boundary) removed += await deliveries().where('id', '<=', boundary.id).delete();
    const keys = await seen().where('seen_at', '<', seenBefore).delete();
    return { deliveries: removed, keys };
  }

  return { getSettings, putSettings, recordDelivery, setDeliveryJobs, setDeliveryVerification, getDelivery, listDeliveries, claimEventKeys, prune };
}

export type RegistryWebhooksRepository = ReturnType<typeof createRegistryWebhooksRepository>;
