// The version-inference overview: stored snapshots merged with in-flight tasks, one row per key,
// counted before filtering, then filtered by text and status and paged.
import { DomainError } from '../../errors.js';
import type { DigestTagsSnapshot, Service } from '../../store/index.js';
import { inferenceDigests, isAllFailed, isStale } from './snapshots.js';
import { snapshotKeyText, type InferenceTask, type TaskProgress, type TaskReason } from './worker.js';

export type RowStatus = 'queued' | 'running' | 'ready' | 'stale' | 'all_failed';
export const ROW_STATUSES: readonly RowStatus[] = ['running', 'queued', 'stale', 'all_failed', 'ready'];

export interface OverviewRow {
  key: string;
  imageRepo: string;
  digest: string;
  hostPlatform: string;
  status: RowStatus;
  reason?: TaskReason;
  serviceCount: number;
  checkedAt?: string;
  updatedAt: string;
  progress?: TaskProgress;
}

export interface OverviewQuery {
  q?: string;
  status?: string;
  page?: number;
  perPage?: number;
}

export interface OverviewPage {
  summary: { snapshotsTotal: number; queued: number; running: number; ready: number; stale: number; allFailed: number };
  rows: OverviewRow[];
  page: number;
  perPage: number;
  total: number;
}

const DEFAULT_PER_PAGE = 50;
const MAX_PER_PAGE = 200;

export function overviewPage(input: {
  snapshots: readonly DigestTagsSnapshot[];
  tasks: readonly InferenceTask[];
  services: readonly Service[];
  hostPlatform: string;
  query: OverviewQuery;
  now: number;
}): OverviewPage {
  const { query } = input;
  const status = query.status ?? 'all';
  if (status !== 'all' && !ROW_STATUSES.includes(status as RowStatus)) {
    throw new DomainError('invalid_input', `invalid status filter: ${status}`, { field: 'status' });
  }
  const page = Math.max(1, Math.trunc(query.page ?? 1));
  const perPage = Math.min(MAX_PER_PAGE, Math.max(1, Math.trunc(query.perPage ?? DEFAULT_PER_PAGE)));

  const serviceCounts = new Map<string, number>();
  for (const service of input.services) {
    const keys = new Set(inferenceDigests(service, input.hostPlatform).map((digest) => snapshotKeyText(digest.key)));
    for (const key of keys) serviceCounts.set(key, (serviceCounts.get(key) ?? 0) + 1);
  }

  const rows = new Map<string, OverviewRow>();
  for (const snapshot of input.snapshots) {
    const key = snapshotKeyText(snapshot);
    const stale = isStale(snapshot, input.now);
    const allFailed = isAllFailed(snapshot);
    rows.set(key, {
      key,
      imageRepo: snapshot.imageRepo,
      digest: snapshot.digest,
      hostPlatform: snapshot.hostPlatform,
      status: stale ? 'stale' : allFailed ? 'all_failed' : 'ready',
      ...(stale ? { reason: 'cache_stale' as const } : allFailed ? { reason: 'all_failed' as const } : {}),
      serviceCount: serviceCounts.get(key) ?? 0,
      checkedAt: snapshot.checkedAt,
      updatedAt: snapshot.checkedAt,
    });
  }
  for (const task of input.tasks) {
    const stored = rows.get(task.key);
    rows.set(task.key, {
      key: task.key,
      imageRepo: task.imageRepo,
      digest: task.digest,
      hostPlatform: task.hostPlatform,
      status: task.status,
      reason: task.reason,
      serviceCount: serviceCounts.get(task.key) ?? 0,
      ...(stored?.checkedAt ? { checkedAt: stored.checkedAt } : {}),
      updatedAt: task.updatedAt,
      ...(task.progress ? { progress: task.progress } : {}),
    });
  }

  const all = [...rows.values()].sort(
    (a, b) => ROW_STATUSES.indexOf(a.status) - ROW_STATUSES.indexOf(b.status) || (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0) || (a.key < b.key ? -1 : 1),
  );
  const count = (wanted: RowStatus) => all.filter((row) => row.status === wanted).length;
  const summary = {
    snapshotsTotal: input.snapshots.length,
    queued: count('queued'),
    running: count('running'),
    ready: count('ready'),
    stale: count('stale'),
    allFailed: count('all_failed'),
  };

  const text = query.q?.trim().toLowerCase();
  const filtered = all.filter((row) => (status === 'all' || row.status === status) && (!text || row.imageRepo.toLowerCase().includes(text) || row.key.toLowerCase().includes(text)));
  const start = (page - 1) * perPage;
  return { summary, rows: start < filtered.length ? filtered.slice(start, start + perPage) : [], page, perPage, total: filtered.length };
}
