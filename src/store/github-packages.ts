// GitHub packages integration state; its callers are the GHCR webhook management and receiver (src/engine/github/).
import type { Knex } from 'knex';
import { nowIso } from '../time.js';
import { compact, CURSOR_LOCKS, fromJson, insertCursorRow, likePattern, optional, pageWindow, toBool, toJson } from './rows.js';
import { readDocument, writeDocument } from './documents.js';

/** Secrets (`pat`, `webhookSecret`) are stored in clear; masking them is the API layer's job. */
export interface GithubPackagesSettings {
  enabled: boolean;
  callbackUrl: string;
  pat: string | null;
  webhookSecret: string | null;
}

export interface GithubPackagesTarget {
  input: string;
  kind: 'owner' | 'repo';
  owner: string;
  warnings: string[];
}

export type WebhookState = 'unknown' | 'queued' | 'running' | 'ok' | 'missing' | 'error' | 'conflict';
export type SelectedFilter = 'all' | 'selected' | 'unselected';

export interface GithubPackagesRepo {
  owner: string;
  repo: string;
  /** `owner/repo` as first stored; lookups are case-insensitive. */
  fullName: string;
  selected: boolean;
  webhookState: WebhookState;
  webhookJobId?: string;
  hookId?: number;
  lastSyncAt?: string;
  lastAuditAt?: string;
  /** `register` | `unregister` | `audit` | `audit_all` | `sync_all` | `sync_repo` */
  lastOp?: string;
  lastError?: string;
  createdAt: string;
  updatedAt: string;
}

/** Webhook bookkeeping of a repo; `undefined` keeps a field, `null` clears it. */
export interface GithubPackagesRepoPatch {
  selected?: boolean;
  webhookState?: WebhookState;
  webhookJobId?: string | null;
  hookId?: number | null;
  lastSyncAt?: string | null;
  lastAuditAt?: string | null;
  lastOp?: string | null;
  lastError?: string | null;
}

export interface RepoListQuery {
  page?: number;
  perPage?: number;
  /** Case-insensitive substring of `owner/repo`. */
  q?: string;
  selectedFilter?: SelectedFilter;
}

export interface RepoPage {
  /** The page and page size used, after clamping. */
  page: number;
  perPage: number;
  total: number;
  filteredTotal: number;
  selectedTotal: number;
  repos: GithubPackagesRepo[];
}

export type DeliveryDecision = 'processed' | 'ignored' | 'rejected';

export interface GithubDelivery {
  deliveryId: string;
  receivedAt: string;
  firstReceivedAt: string;
  owner?: string;
  repo?: string;
  fullName?: string;
  event?: string;
  action?: string;
  decision: DeliveryDecision;
  reason?: string;
  responseStatus?: number;
  jobId?: string;
  jobIds?: string[];
  attemptCount: number;
}

export interface NewGithubDelivery {
  deliveryId: string;
  owner?: string;
  repo?: string;
  fullName?: string;
  event?: string;
  action?: string;
  decision: DeliveryDecision;
  reason?: string;
  responseStatus?: number;
}

export interface GithubDeliveryPatch {
  decision?: DeliveryDecision;
  reason?: string | null;
  responseStatus?: number | null;
  jobId?: string | null;
  jobIds?: string[] | null;
}

export interface DeliveryListQuery {
  page?: number;
  perPage?: number;
  decision?: DeliveryDecision;
  /** Case-insensitive substring of the delivery id, job id or full name. */
  q?: string;
}

export interface DeliveryPage {
  page: number;
  perPage: number;
  total: number;
  filteredTotal: number;
  decisionCounts: Record<DeliveryDecision, number>;
  deliveries: GithubDelivery[];
}

/** Selected repositories by webhook state, for the webhook overview. */
export interface WebhookStateSummary {
  /** Selected repositories. */
  tracked: number;
  byState: Record<WebhookState, number>;
  /** The latest audit of any selected repository. */
  lastAuditAt?: string;
}

/** Called after a delivery event row is committed, in this process only (a hint for the SSE stream). */
export type DeliveryEventListener = (eventId: number) => void;

/** A row of the deliveries SSE stream: the delivery as it was after an insert or update. */
export interface GithubDeliveryEvent {
  id: number;
  deliveryId: string;
  ts: string;
  delivery: GithubDelivery;
}

export const DEFAULT_GITHUB_PACKAGES_SETTINGS: GithubPackagesSettings = {
  enabled: false,
  callbackUrl: '',
  pat: null,
  webhookSecret: null,
};

const EVENT_BATCH_LIMIT = 200;

interface TargetRow {
  input: string;
  kind: string;
  owner: string;
  warnings: string;
  created_at: string;
}

interface RepoRow {
  repo_key: string;
  owner: string;
  repo: string;
  selected: boolean | number;
  webhook_state: string;
  webhook_job_id: string | null;
  hook_id: number | string | null;
  last_sync_at: string | null;
  last_audit_at: string | null;
  last_op: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

interface DeliveryRow {
  delivery_id: string;
  received_at: string;
  first_received_at: string;
  owner: string | null;
  repo: string | null;
  full_name: string | null;
  event: string | null;
  action: string | null;
  decision: string;
  reason: string | null;
  response_status: number | null;
  job_id: string | null;
  job_ids: string | null;
  attempt_count: number;
}

interface DeliveryEventRow {
  id: number;
  delivery_id: string;
  ts: string;
  delivery: string;
}

/** Repositories are unique case-insensitively: `Acme/Web` and `acme/web` are one row. */
export function repoKey(fullName: string): string {
  return fullName.toLowerCase();
}

function targetRow(target: GithubPackagesTarget, createdAt: string): TargetRow {
  return { input: target.input, kind: target.kind, owner: target.owner, warnings: toJson(target.warnings), created_at: createdAt };
}

function repoFromRow(row: RepoRow): GithubPackagesRepo {
  return compact({
    owner: row.owner,
    repo: row.repo,
    fullName: `${row.owner}/${row.repo}`,
    selected: toBool(row.selected),
    webhookState: row.webhook_state as WebhookState,
    webhookJobId: optional(row.webhook_job_id),
    hookId: row.hook_id === null ? undefined : Number(row.hook_id),
    lastSyncAt: optional(row.last_sync_at),
    lastAuditAt: optional(row.last_audit_at),
    lastOp: optional(row.last_op),
    lastError: optional(row.last_error),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

function deliveryFromRow(row: DeliveryRow): GithubDelivery {
  return compact({
    deliveryId: row.delivery_id,
    receivedAt: row.received_at,
    firstReceivedAt: row.first_received_at,
    owner: optional(row.owner),
    repo: optional(row.repo),
    fullName: optional(row.full_name),
    event: optional(row.event),
    action: optional(row.action),
    decision: row.decision as DeliveryDecision,
    reason: optional(row.reason),
    responseStatus: optional(row.response_status),
    jobId: optional(row.job_id),
    jobIds: fromJson<string[] | undefined>(row.job_ids, undefined),
    attemptCount: Number(row.attempt_count),
  });
}

function applyRepoFilter(query: Knex.QueryBuilder, q: string | undefined, selectedFilter: SelectedFilter | undefined): void {
  if (q) query.whereRaw("repo_key like ? escape '\\'", [likePattern(q)]);
  if (selectedFilter === 'selected') query.where('selected', true);
  else if (selectedFilter === 'unselected') query.where('selected', false);
}

export function createGithubPackagesRepository(knex: Knex) {
  const targets = () => knex<TargetRow>('github_packages_targets');
  const repos = (db: Knex | Knex.Transaction = knex) => db<RepoRow>('github_packages_repos');
  const deliveries = (db: Knex | Knex.Transaction = knex) => db<DeliveryRow>('github_packages_deliveries');
  const deliveryListeners = new Set<DeliveryEventListener>();

  async function getSettings(): Promise<GithubPackagesSettings> {
    const stored = (await readDocument<Partial<GithubPackagesSettings>>(knex, 'github_packages_settings'))?.value;
    return { ...DEFAULT_GITHUB_PACKAGES_SETTINGS, ...stored };
  }

  async function putSettings(settings: GithubPackagesSettings): Promise<void> {
    await writeDocument(knex, 'github_packages_settings', settings);
  }

  async function listTargets(): Promise<GithubPackagesTarget[]> {
    const rows = await targets().select('*').orderBy([{ column: 'created_at' }, { column: 'input' }]);
    return rows.map((row) => ({
      input: row.input,
      kind: row.kind as GithubPackagesTarget['kind'],
      owner: row.owner,
      warnings: fromJson<string[]>(row.warnings, []),
    }));
  }

  async function upsertTarget(target: GithubPackagesTarget): Promise<void> {
    await targets()
      .insert(targetRow(target, nowIso()))
      .onConflict('input')
      .merge(['kind', 'owner', 'warnings']);
  }

  /** False when no target had that input. */
  async function removeTarget(input: string): Promise<boolean> {
    return (await targets().where({ input }).delete()) > 0;
  }

  async function replaceTargets(list: GithubPackagesTarget[]): Promise<void> {
    const now = nowIso();
    await knex.transaction(async (trx) => {
      await trx('github_packages_targets').delete();
      if (list.length > 0) {
        await trx('github_packages_targets').insert(
          list.map((target) => targetRow(target, now)),
        );
      }
    });
  }

  async function getRepo(fullName: string): Promise<GithubPackagesRepo | undefined> {
    const row = await repos().where({ repo_key: repoKey(fullName) }).first();
    return row ? repoFromRow(row) : undefined;
  }

  /** Tracks a repository (state `unknown`), or sets `selected` on the tracked one keeping its sync state. */
  async function upsertRepo(owner: string, repo: string, selected: boolean): Promise<GithubPackagesRepo> {
    const now = nowIso();
    const key = repoKey(`${owner}/${repo}`);
    await repos()
      .insert({ repo_key: key, owner, repo, selected, webhook_state: 'unknown', created_at: now, updated_at: now })
      .onConflict('repo_key')
      .merge(['selected', 'updated_at']);
    return (await getRepo(key))!;
  }

  /** False when the repository is not tracked. */
  async function updateRepo(fullName: string, patch: GithubPackagesRepoPatch): Promise<boolean> {
    const columns: Partial<RepoRow> = compact({
      selected: patch.selected,
      webhook_state: patch.webhookState,
      webhook_job_id: patch.webhookJobId,
      hook_id: patch.hookId,
      last_sync_at: patch.lastSyncAt,
      last_audit_at: patch.lastAuditAt,
      last_op: patch.lastOp,
      last_error: patch.lastError,
      updated_at: nowIso(),
    });
    return (await repos().where({ repo_key: repoKey(fullName) }).update(columns)) > 0;
  }

  /** Ordered by full name; `perPage` is clamped to 1..200. */
  async function listRepos(query: RepoListQuery = {}): Promise<RepoPage> {
    const { page, limit, offset } = pageWindow(query.page, query.perPage);
    const [totals] = await repos()
      .count({ total: '*' })
      .select(knex.raw('sum(case when selected = ? then 1 else 0 end) as selected_total', [true]));
    const filtered = repos();
    applyRepoFilter(filtered, query.q, query.selectedFilter);
    const [{ filtered_total }] = await filtered.clone().count({ filtered_total: '*' });
    const rows = await filtered.select('*').orderBy('repo_key').limit(limit).offset(offset);
    return {
      page,
      perPage: limit,
      total: Number(totals?.total ?? 0),
      filteredTotal: Number(filtered_total),
      selectedTotal: Number((totals as { selected_total?: unknown } | undefined)?.selected_total ?? 0),
      repos: rows.map(repoFromRow),
    };
  }

  /**
   * Tracks repositories that are not tracked yet (unselected, state `unknown`); tracked ones are
   * left as they are. Returns how many were new.
   */
  async function trackRepos(list: readonly { owner: string; repo: string }[]): Promise<number> {
    let added = 0;
    const now = nowIso();
    for (const { owner, repo } of list) {
      const inserted = await repos()
        .insert({ repo_key: repoKey(`${owner}/${repo}`), owner, repo, selected: false, webhook_state: 'unknown', created_at: now, updated_at: now })
        .onConflict('repo_key')
        .ignore()
        .returning('repo_key');
      added += inserted.length;
    }
    return added;
  }

  async function webhookStateSummary(): Promise<WebhookStateSummary> {
    const rows: { webhook_state: string; count: number | string; last_audit_at: string | null }[] = await repos()
      .where({ selected: true })
      .select('webhook_state')
      .count({ count: '*' })
      .max({ last_audit_at: 'last_audit_at' })
      .groupBy('webhook_state');
    const byState: Record<WebhookState, number> = { unknown: 0, queued: 0, running: 0, ok: 0, missing: 0, error: 0, conflict: 0 };
    let tracked = 0;
    let lastAuditAt: string | undefined;
    for (const row of rows) {
      const count = Number(row.count);
      tracked += count;
      const state = (row.webhook_state in byState ? row.webhook_state : 'unknown') as WebhookState;
      byState[state] += count;
      if (row.last_audit_at && (!lastAuditAt || row.last_audit_at > lastAuditAt)) lastAuditAt = row.last_audit_at;
    }
    return compact({ tracked, byState, lastAuditAt });
  }

  async function listSelectedRepos(): Promise<GithubPackagesRepo[]> {
    return (await repos().where({ selected: true }).orderBy('repo_key')).map(repoFromRow);
  }

  /** Sets `selected` on every tracked repository matching the filter; returns how many matched. */
  async function setSelectedWhere(filter: { q?: string; selectedFilter?: SelectedFilter }, selected: boolean): Promise<number> {
    const query = repos();
    applyRepoFilter(query, filter.q, filter.selectedFilter);
    return query.update({ selected, updated_at: nowIso() });
  }

  /** False when the repository was not tracked. */
  async function deleteRepo(fullName: string): Promise<boolean> {
    return (await repos().where({ repo_key: repoKey(fullName) }).delete()) > 0;
  }

  /**
   * Records a webhook delivery. A delivery id seen before is not overwritten: its attempt count goes
   * up and `duplicate` is true. Either way a delivery event is appended for the SSE stream.
   */
  async function recordDelivery(input: NewGithubDelivery): Promise<{ delivery: GithubDelivery; duplicate: boolean }> {
    const now = nowIso();
    return knex.transaction(async (trx) => {
      const [row] = await deliveries(trx)
        .insert({
          delivery_id: input.deliveryId,
          received_at: now,
          first_received_at: now,
          owner: input.owner ?? null,
          repo: input.repo ?? null,
          full_name: input.fullName ?? null,
          event: input.event ?? null,
          action: input.action ?? null,
          decision: input.decision,
          reason: input.reason ?? null,
          response_status: input.responseStatus ?? null,
          attempt_count: 1,
        })
        .onConflict('delivery_id')
        .merge({
          attempt_count: knex.raw('?? + 1', ['github_packages_deliveries.attempt_count']),
          received_at: now,
        })
        .returning('*');
      const delivery = deliveryFromRow(row as DeliveryRow);
      await appendDeliveryEvent(trx, delivery);
      return { delivery, duplicate: delivery.attemptCount > 1 };
    });
  }

  /** Returns the updated delivery, or undefined when the id is unknown. */
  async function updateDelivery(deliveryId: string, patch: GithubDeliveryPatch): Promise<GithubDelivery | undefined> {
    return knex.transaction(async (trx) => {
      const columns: Partial<DeliveryRow> = compact({
        decision: patch.decision,
        reason: patch.reason,
        response_status: patch.responseStatus,
        job_id: patch.jobId,
        job_ids: patch.jobIds === undefined ? undefined : patch.jobIds === null ? null : toJson(patch.jobIds),
      });
      if (Object.keys(columns).length > 0) await deliveries(trx).where({ delivery_id: deliveryId }).update(columns);
      const row = await deliveries(trx).where({ delivery_id: deliveryId }).first();
      if (!row) return undefined;
      const delivery = deliveryFromRow(row);
      await appendDeliveryEvent(trx, delivery);
      return delivery;
    });
  }

  async function appendDeliveryEvent(trx: Knex.Transaction, delivery: GithubDelivery): Promise<void> {
    const id = await insertCursorRow(trx, 'github_packages_delivery_events', CURSOR_LOCKS.deliveryEvents, {
      delivery_id: delivery.deliveryId,
      ts: nowIso(),
      delivery: toJson(delivery),
    });
    // The row becomes visible when the transaction commits; listeners only learn to read soon.
    void trx.executionPromise.then(() => {
      for (const listener of deliveryListeners) {
        try {
          listener(id);
        } catch {
          // A failing hint must not fail the delivery that was recorded.
        }
      }
    }, () => undefined);
  }

  /** Subscribes to delivery events this process records; returns the unsubscribe function. */
  function onDeliveryEvent(listener: DeliveryEventListener): () => void {
    deliveryListeners.add(listener);
    return () => {
      deliveryListeners.delete(listener);
    };
  }

  async function getDelivery(deliveryId: string): Promise<GithubDelivery | undefined> {
    const row = await deliveries().where({ delivery_id: deliveryId }).first();
    return row ? deliveryFromRow(row) : undefined;
  }

  /** Newest first (receivedAt); `perPage` is clamped to 1..200. */
  async function listDeliveries(query: DeliveryListQuery = {}): Promise<DeliveryPage> {
    const { page, limit, offset } = pageWindow(query.page, query.perPage);
    const countsByDecision: { decision: string; count: number | string }[] = await deliveries()
      .select('decision')
      .count({ count: '*' })
      .groupBy('decision');
    const decisionCounts: Record<DeliveryDecision, number> = { processed: 0, ignored: 0, rejected: 0 };
    for (const { decision, count } of countsByDecision) decisionCounts[decision as DeliveryDecision] = Number(count);

    const filtered = deliveries();
    if (query.decision) filtered.where('decision', query.decision);
    if (query.q) {
      const pattern = likePattern(query.q);
      filtered.where((match) =>
        match
          .whereRaw("lower(delivery_id) like ? escape '\\'", [pattern])
          .orWhereRaw("lower(coalesce(job_id, '')) like ? escape '\\'", [pattern])
          .orWhereRaw("lower(coalesce(full_name, '')) like ? escape '\\'", [pattern]),
      );
    }
    const [{ filtered_total }] = await filtered.clone().count({ filtered_total: '*' });
    const rows = await filtered
      .select('*')
      .orderBy([{ column: 'received_at', order: 'desc' }, { column: 'delivery_id', order: 'desc' }])
      .limit(limit)
      .offset(offset);
    return {
      page,
      perPage: limit,
      total: Object.values(decisionCounts).reduce((sum, count) => sum + count, 0),
      filteredTotal: Number(filtered_total),
      decisionCounts,
      deliveries: rows.map(deliveryFromRow),
    };
  }

  async function listDeliveryEventsAfter(afterId: number, limit = EVENT_BATCH_LIMIT): Promise<GithubDeliveryEvent[]> {
    const rows = await knex<DeliveryEventRow>('github_packages_delivery_events').where('id', '>', afterId).orderBy('id').limit(limit);
    return rows.map((row) => ({
      id: Number(row.id),
      deliveryId: row.delivery_id,
      ts: row.ts,
      delivery: JSON.parse(row.delivery) as GithubDelivery,
    }));
  }

  /** The oldest delivery event id still stored; 0 when none. */
  async function firstDeliveryEventId(): Promise<number> {
    const row = await knex('github_packages_delivery_events').min({ first: 'id' }).first();
    return Number(row?.first ?? 0);
  }

  /** The newest delivery event id (the tail of the stream); 0 when none. */
  async function lastDeliveryEventId(): Promise<number> {
    const row = await knex('github_packages_delivery_events').max({ last: 'id' }).first();
    return Number(row?.last ?? 0);
  }

  return {
    getSettings,
    putSettings,
    listTargets,
    upsertTarget,
    removeTarget,
    replaceTargets,
    getRepo,
    upsertRepo,
    updateRepo,
    listRepos,
    listSelectedRepos,
    trackRepos,
    webhookStateSummary,
    setSelectedWhere,
    deleteRepo,
    recordDelivery,
    updateDelivery,
    getDelivery,
    listDeliveries,
    listDeliveryEventsAfter,
    firstDeliveryEventId,
    lastDeliveryEventId,
    onDeliveryEvent,
  };
}

export type GithubPackagesRepository = ReturnType<typeof createGithubPackagesRepository>;
