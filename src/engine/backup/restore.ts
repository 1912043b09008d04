import { basename, dirname, isAbsolute } from 'node:path';
import type { StackBackupTarget } from '../../store/index.js';
import { helperMountFor, readBackupManifest } from './archive.js';
import { BACKUP_STACK_LABEL, helperOutputTail, type BackupDocker } from './helper.js';
import { backupTargetKey } from './plan.js';

export interface RestoreBackupOptions {
  docker: BackupDocker;
  helperImage: string;
  /** An archive written by runBackup; same path for Dockrev and the Docker engine. */
  artifactPath: string;
  /** Must exist: restores go into what Compose created, so volumes keep their Compose labels. */
  target: StackBackupTarget;
  timeoutMs?: number;
}

const DEFAULT_RESTORE_TIMEOUT_MS = 60 * 60_000;

/**
 * $1: archive file name, $2: slot. A folder target is emptied and refilled, owners kept by number
 * (names could map to other ids in the helper image). A bind-mounted file cannot be replaced, only
 * rewritten, so it is extracted aside and copied over, mode and owner included.
 */
const RESTORE_SCRIPT = `set -e
archive="/backup/$1"; slot=$2
if [ -d "/data/$slot" ]; then
  find "/data/$slot" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  tar -xzf "$archive" --numeric-owner -C /data "$slot"
else
  mkdir /restore
  tar -xzf "$archive" --numeric-owner -C /restore "$slot"
  if [ ! -f "/restore/$slot" ]; then echo "the archive holds a folder for $slot, but the target is a file" >&2; exit 1; fi
  cat "/restore/$slot" > "/data/$slot"
  chown "$(stat -c %u:%g "/restore/$slot")" "/data/$slot"
  chmod "$(stat -c %a "/restore/$slot")" "/data/$slot"
fi`;

/**
 * Replaces a target's content with its slot of an archive. Destructive: stop the services that
 * use the target first. Resolves with the slot restored; throws with the helper's output on failure.
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<{ slot: string }> {
  if (!isAbsolute(options.artifactPath)) throw new Error(`artifact path "${options.artifactPath}" is not absolute`);
  const manifest = await readBackupManifest(options.artifactPath);
  const wanted = backupTargetKey(options.target);
  const archived = manifest.targets.find((target) => backupTargetKey(target) === wanted);
  if (!archived) throw new Error(`${options.artifactPath} holds no backup of ${wanted}`);
  const result = await options.docker.runHelper({
    image: options.helperImage,
    purpose: 'restore',
    labels: { [BACKUP_STACK_LABEL]: manifest.stackId },
    script: RESTORE_SCRIPT,
    args: [basename(options.artifactPath), archived.slot],
    mounts: [
      { type: 'bind', source: dirname(options.artifactPath), target: '/backup', readOnly: true },
      helperMountFor(options.target, `/data/${archived.slot}`, false),
    ],
    timeoutMs: options.timeoutMs ?? DEFAULT_RESTORE_TIMEOUT_MS,
  });
  if (result.exitCode !== 0) {
    throw new Error(`restore of ${wanted} from ${options.artifactPath} failed (exit ${result.exitCode}): ${helperOutputTail(result)}`);
  }
  return { slot: archived.slot };
}
