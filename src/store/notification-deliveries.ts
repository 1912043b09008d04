// The notification delivery log, which is also the queue of sends waiting for a retry; its caller
// is the notifier (src/engine/notify/).
import type { Knex } from 'knex';
import { compact, fromJson, optional, pageWindow, toJson } from './rows.js';

export type NotificationDeliveryStatus = 'pending' | 'sent' | 'failed';

export interface NotificationDelivery {
  id: string;
  channel: string;
  kind: string;
  status: NotificationDeliveryStatus;
  attempts: number;
  maxAttempts: number;
  jobId?: string;
  title: string;
  /** The v2 payload without its `channel` field. */
  payload: Record<string, unknown>;
  lastError?: string;
  createdAt: string;
  updatedAt: string;
  lastAttemptAt?: string;
  nextAttemptAt?: string;
  sentAt?: string;
}

export interface NewNotificationDelivery {
  id: string;
  channel: string;
  kind: string;
  maxAttempts: number;
  jobId?: string;
  title: string;
  payload: Record<string, unknown>;
  createdAt: string;
  /** Claimed by the creator for its first attempt until then, so no retry worker takes it meanwhile. */
  claimedUntil: string;
}

/** The outcome of one attempt; `pending` with `nextAttemptAt` schedules the retry. */
export interface DeliveryAttempt {
  at: string;
  status: NotificationDeliveryStatus;
  lastError?: string;
  nextAttemptAt?: string;
}

export interface DeliveryListQuery {
  channel?: string;
  kind?: string;
  status?: NotificationDeliveryStatus;
  jobId?: string;
  page?: number;
  perPage?: number;
}

interface DeliveryRow {
  id: string;
  channel: string;
  kind: string;
  status: string;
  attempts: number | string;
  max_attempts: number | string;
  job_id: string | null;
  title: string;
  payload: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  sent_at: string | null;
  claimed_until: string | null;
}

function deliveryFromRow(row: DeliveryRow): NotificationDelivery {
  return compact({
    id: row.id,
    channel: row.channel,
    kind: row.kind,
    status: row.status as NotificationDeliveryStatus,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    jobId: optional(row.job_id),
    title: row.title,
    payload: fromJson<Record<string, unknown>>(row.payload, {}),
    lastError: optional(row.last_error),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastAttemptAt: optional(row.last_attempt_at),
    nextAttemptAt: optional(row.next_attempt_at),
    sentAt: optional(row.sent_at),
  });
}

export function createNotificationDeliveriesRepository(knex: Knex) {
  const deliveries = () => knex<DeliveryRow>('notification_deliveries');

  /** Records new deliveries as `pending`, due now and claimed by their creator. */
  async function create(rows: readonly NewNotificationDelivery[]): Promise<void> {
    if (rows.length === 0) return;
    await deliveries().insert(
      rows.map((row) => ({
        id: row.id,
        channel: row.channel,
        kind: row.kind,
        status: 'pending',
        attempts: 0,
        max_attempts: row.maxAttempts,
        job_id: row.jobId ?? null,
        title: row.title,
        payload: toJson(row.payload),
        last_error: null,
        created_at: row.createdAt,
        updated_at: row.createdAt,
        last_attempt_at: null,
        next_attempt_at: row.createdAt,
        sent_at: null,
        claimed_until: row.claimedUntil,
      })),
    );
  }

  async function get(id: string): Promise<NotificationDelivery | undefined> {
    const row = await deliveries().where({ id }).first();
    return row ? deliveryFromRow(row) : undefined;
  }

  /**
   * Claims up to `limit` pending deliveries that are due at `now` and not claimed by anyone, until
   * `until`. Each claim is one conditional UPDATE, so of two processes asking at once one wins.
   */
  async function claimDue(now: string, until: string, limit: number): Promise<NotificationDelivery[]> {
    const unclaimed = (query: Knex.QueryBuilder) => query.whereNull('claimed_until').orWhere('claimed_until', '<', now);
    const due = await deliveries()
      .select('id')
      .where('status', 'pending')
      .andWhere('next_attempt_at', '<=', now)
      .andWhere(unclaimed)
      .orderBy([{ column: 'next_attempt_at' }, { column: 'id' }])
      .limit(limit);
    const claimed: NotificationDelivery[] = [];
    for (const { id } of due) {
      const taken = await deliveries().where({ id, status: 'pending' }).andWhere(unclaimed).update({ claimed_until: until });
      if (taken !== 1) continue;
      const delivery = await get(id);
      if (delivery) claimed.push(delivery);
    }
    return claimed;
  }

  /** Records an attempt and releases the claim. */
  async function recordAttempt(id: string, attempt: DeliveryAttempt): Promise<NotificationDelivery | undefined> {
    await deliveries()
      .where({ id })
      .update({
        status: attempt.status,
        attempts: knex.raw('attempts + 1'),
        last_error: attempt.lastError ?? null,
        last_attempt_at: attempt.at,
        next_attempt_at: attempt.nextAttemptAt ?? null,
        sent_at: attempt.status === 'sent' ? attempt.at : null,
        updated_at: attempt.at,
        claimed_until: null,
      });
    return get(id);
  }

  async function list(query: DeliveryListQuery = {}): Promise<{ total: number; deliveries: NotificationDelivery[] }> {
    const { limit, offset } = pageWindow(query.page, query.perPage);
    const filtered = deliveries();
    if (query.channel) filtered.where('channel', query.channel);
    if (query.kind) filtered.where('kind', query.kind);
    if (query.status) filtered.where('status', query.status);
    if (query.jobId) filtered.where('job_id', query.jobId);
    const [{ total }] = await filtered.clone().count({ total: '*' });
    const rows = await filtered
      .select('*')
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(limit)
      .offset(offset);
    return { total: Number(total), deliveries: rows.map(deliveryFromRow) };
  }

  return { create, get, claimDue, recordAttempt, list };
}

export type NotificationDeliveriesRepository = ReturnType<typeof createNotificationDeliveriesRepository>;
