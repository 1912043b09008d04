// Version-inference snapshots; their caller is the snapshot worker (src/engine/inference/).
import type { Knex } from 'knex';
import { nowIso } from '../time.js';
import { fromJson, toJson } from './rows.js';

export interface SnapshotScan {
  repoTagsTotal: number;
  repoTagsConsidered: number;
  manifestsOk: number;
  manifestsTimeout: number;
  manifestsError: number;
}

/** Which tags of `imageRepo` pointed at `digest` (for `hostPlatform`) when last scanned. */
export interface DigestTagsSnapshot {
  /** `<registry>/<name>`, e.g. `docker.io/library/nginx`. */
  imageRepo: string;
  digest: string;
  hostPlatform: string;
  tags: string[];
  checkedAt: string;
  scan: SnapshotScan;
}

export interface SnapshotKey {
  imageRepo: string;
  digest: string;
  hostPlatform: string;
}

interface SnapshotRow {
  image_repo: string;
  digest: string;
  host_platform: string;
  tags: string;
  scan: string;
  checked_at: string;
  updated_at: string;
}

const EMPTY_SCAN: SnapshotScan = { repoTagsTotal: 0, repoTagsConsidered: 0, manifestsOk: 0, manifestsTimeout: 0, manifestsError: 0 };

function snapshotFromRow(row: SnapshotRow): DigestTagsSnapshot {
  return {
    imageRepo: row.image_repo,
    digest: row.digest,
    hostPlatform: row.host_platform,
    tags: fromJson<string[]>(row.tags, []),
    checkedAt: row.checked_at,
    scan: fromJson(row.scan, EMPTY_SCAN),
  };
}

export function createSnapshotsRepository(knex: Knex) {
  const snapshots = () => knex<SnapshotRow>('digest_tags_snapshots');

  async function upsert(snapshot: DigestTagsSnapshot): Promise<void> {
    await snapshots()
      .insert({
        image_repo: snapshot.imageRepo,
        digest: snapshot.digest,
        host_platform: snapshot.hostPlatform,
        tags: toJson(snapshot.tags),
        scan: toJson(snapshot.scan),
        checked_at: snapshot.checkedAt,
        updated_at: nowIso(),
      })
      .onConflict(['image_repo', 'digest', 'host_platform'])
      .merge(['tags', 'scan', 'checked_at', 'updated_at']);
  }

  async function get(key: SnapshotKey): Promise<DigestTagsSnapshot | undefined> {
    const row = await snapshots().where({ image_repo: key.imageRepo, digest: key.digest, host_platform: key.hostPlatform }).first();
    return row ? snapshotFromRow(row) : undefined;
  }

  /** The stored snapshots among these keys, in one query per 500 repositories. */
  async function getMany(keys: readonly SnapshotKey[]): Promise<DigestTagsSnapshot[]> {
    const wanted = new Set(keys.map((key) => `${key.imageRepo}\0${key.digest}\0${key.hostPlatform}`));
    const repos = [...new Set(keys.map((key) => key.imageRepo))];
    const found: DigestTagsSnapshot[] = [];
    for (let start = 0; start < repos.length; start += 500) {
      const rows = await snapshots().whereIn('image_repo', repos.slice(start, start + 500));
      for (const row of rows) if (wanted.has(`${row.image_repo}\0${row.digest}\0${row.host_platform}`)) found.push(snapshotFromRow(row));
    }
    return found;
  }

  async function list(): Promise<DigestTagsSnapshot[]> {
    const rows = await snapshots().select('*').orderBy([{ column: 'image_repo' }, { column: 'digest' }, { column: 'host_platform' }]);
    return rows.map(snapshotFromRow);
  }

  /** Garbage collection: deletes snapshots last checked before the cutoff; returns how many. */
  async function deleteCheckedBefore(cutoff: string): Promise<number> {
    return snapshots().where('checked_at', '<', cutoff).delete();
  }

  return { upsert, get, getMany, list, deleteCheckedBefore };
}

export type SnapshotsRepository = ReturnType<typeof createSnapshotsRepository>;
