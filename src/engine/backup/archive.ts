import { open } from 'node:fs/promises';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import type { StackBackupTarget } from '../../store/index.js';
import type { HelperMount } from './helper.js';

/** First entry of every archive: which slot holds which target. */
export const MANIFEST_FILE = 'dockrev-backup.json';
export const MANIFEST_FORMAT = 'dockrev-backup/1';

export type ArchivedTarget = StackBackupTarget & {
  /** Top-level folder (or file, for a bind-mounted file) of the archive holding this target. */
  slot: string;
  sizeBytes?: number;
};

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  stackId: string;
  createdAt: string;
  targets: ArchivedTarget[];
}

const TAR_BLOCK_BYTES = 512;
const MANIFEST_READ_START_BYTES = 64 * 1024;

/** "1-volume-shop_db", "2-bind-srv-shop-uploads": readable, unique by the index, safe in a shell. */
export function slotName(index: number, target: StackBackupTarget): string {
  const label = (target.kind === 'docker-volume' ? target.name : target.path)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 60);
  return `${index + 1}-${target.kind === 'docker-volume' ? 'volume' : 'bind'}${label ? `-${label}` : ''}`;
}

/** How a helper container mounts a target at `containerPath`. */
export function helperMountFor(target: StackBackupTarget, containerPath: string, readOnly: boolean): HelperMount {
  return target.kind === 'docker-volume'
    ? { type: 'volume', source: target.name, target: containerPath, readOnly }
    : { type: 'bind', source: target.path, target: containerPath, readOnly };
}

/**
 * Reads the manifest from the start of an archive without decompressing the rest: the manifest is
 * the first tar entry, and gzip can be inflated from a prefix of the file.
 */
export async function readBackupManifest(artifactPath: string): Promise<BackupManifest> {
  const file = await open(artifactPath, 'r');
  try {
    for (let prefixBytes = MANIFEST_READ_START_BYTES; ; prefixBytes *= 4) {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(prefixBytes), 0, prefixBytes, 0);
      let tar: Buffer;
      try {
        tar = gunzipSync(buffer.subarray(0, bytesRead), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      } catch (error) {
        throw new Error(`${artifactPath} is not a gzip-compressed backup archive: ${(error as Error).message}`);
      }
      const manifest = manifestFromTarPrefix(tar, artifactPath);
      if (manifest) return manifest;
      if (bytesRead < prefixBytes) throw new Error(`${artifactPath} ends before its ${MANIFEST_FILE} does`);
    }
  } finally {
    await file.close();
  }
}

/** Undefined while `tar` is too short to hold the whole first entry. */
function manifestFromTarPrefix(tar: Buffer, artifactPath: string): BackupManifest | undefined {
  if (tar.length < TAR_BLOCK_BYTES) return undefined;
  const name = tar.toString('utf8', 0, 100).replace(/\0.*$/s, '');
  if (name !== MANIFEST_FILE) throw new Error(`${artifactPath} is not a Dockrev backup: its first entry is "${name}", not ${MANIFEST_FILE}`);
  const size = Number.parseInt(tar.toString('ascii', 124, 136).replace(/\0.*$/s, '').trim(), 8);
  if (tar.length < TAR_BLOCK_BYTES + size) return undefined;
  const manifest = JSON.parse(tar.toString('utf8', TAR_BLOCK_BYTES, TAR_BLOCK_BYTES + size)) as BackupManifest;
  if (manifest.format !== MANIFEST_FORMAT) throw new Error(`${artifactPath}: unknown backup format "${String(manifest.format)}"`);
  return manifest;
}
