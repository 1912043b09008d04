import { mkdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { BackupOverride, StackBackupTarget } from '../../store/index.js';
import { DockerUnavailableError } from '../docker/errors.js';
import { helperMountFor, MANIFEST_FILE, MANIFEST_FORMAT, slotName, type BackupManifest } from './archive.js';
import { BACKUP_STACK_LABEL, HelperImageMissingError, helperOutputTail, type BackupDocker } from './helper.js';
import { errorText } from '../../errors.js';

export type BackupTargetStatus = 'included' | 'skipped_by_user' | 'skipped_by_size' | 'skipped_by_probe_error';

export type BackupTargetReport = StackBackupTarget & {
  decision: BackupOverride;
  status: BackupTargetStatus;
  /** Apparent size from the probe. */
  sizeBytes?: number;
  /** Why the probe failed. */
  error?: string;
};

export interface BackupRunResult {
  status: 'success' | 'skipped' | 'failed';
  /** The archive, on success. */
  artifactPath?: string;
  /** Size of the archive, on success. */
  sizeBytes?: number;
  reason?: 'no_included_targets';
  error?: string;
  /** Every target once all were probed; empty when the run failed before that. */
  targets: BackupTargetReport[];
}

export interface RunBackupOptions {
  docker: BackupDocker;
  /** An image with busybox-compatible `sh`, `du` and `tar` (with gzip), present on the Docker host. */
  helperImage: string;
  /**
   * Absolute folder for archives. It is bind-mounted into a helper container *and* read here, so it
   * must be the same path for Dockrev and for the Docker engine (same machine, or the same host path
   * mounted into Dockrev's container).
   */
  baseDir: string;
  stackId: string;
  targets: readonly (StackBackupTarget & { decision: BackupOverride })[];
  /** `inherit` targets larger than this are left out; `force` ones never are. */
  skipTargetsOverBytes: number;
  /** Names the archive. Default: the current time. */
  now?: Date;
  timeouts?: { probeMs?: number; archiveMs?: number };
}

const DEFAULT_PROBE_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_ARCHIVE_TIMEOUT_MS = 60 * 60_000;
const MANIFEST_ENV = 'DOCKREV_BACKUP_MANIFEST';

/** Prints "bytes N", or "kib N" where `du` has no -b (apparent size). */
const PROBE_SCRIPT = `
if out=$(du -sb /data 2>/dev/null); then set -- $out; echo "bytes $1"
else out=$(du -sk /data) || exit 1; set -- $out; echo "kib $1"; fi`;

/**
 * $1: archive file name, then the slots. Written under a hidden partial name and renamed at the
 * end, so an archive with the final name is always complete. Backups hold secrets: owner-only.
 */
const ARCHIVE_SCRIPT = `set -e
umask 077
name=$1; shift
printf '%s' "$${MANIFEST_ENV}" > /data/${MANIFEST_FILE}
tar czf "/backup/.$name.partial" -C /data ${MANIFEST_FILE} "$@"
mv "/backup/.$name.partial" "/backup/$name"`;

/**
 * Probes each target's size, then archives the included ones into
 * `<baseDir>/<stackId>/<timestamp>.tar.gz` (slots under /data of one helper container, plus a
 * manifest). Whether a failure should stop the update (`requireSuccess`) is the caller's call.
 */
export async function runBackup(options: RunBackupOptions): Promise<BackupRunResult> {
  let targets: BackupTargetReport[] = [];
  try {
    if (!isAbsolute(options.baseDir)) throw new Error(`backup baseDir must be an absolute path, got "${options.baseDir}"`);
    if (!/^[A-Za-z0-9_-]+$/.test(options.stackId)) throw new Error(`stack id "${options.stackId}" cannot name a backup folder`);
    // One probe at a time: starting containers in parallel gained nothing measurable (runc start dominates).
    const examined: BackupTargetReport[] = [];
    for (const target of options.targets) examined.push(await examineTarget(options, target));
    targets = examined;
    const included = targets.filter((target) => target.status === 'included');
    if (included.length === 0) return { status: 'skipped', reason: 'no_included_targets', targets };
    return { ...(await archiveTargets(options, included)), targets };
  } catch (error) {
    return { status: 'failed', error: errorText(error), targets };
  }
}

async function examineTarget(
  options: RunBackupOptions,
  target: StackBackupTarget & { decision: BackupOverride },
): Promise<BackupTargetReport> {
  const report = { ...withoutExtraFields(target), decision: target.decision };
  if (target.decision === 'skip') return { ...report, status: 'skipped_by_user' };
  let sizeBytes: number;
  try {
    sizeBytes = await probeSize(options, target);
  } catch (error) {
    // Engine-wide problems fail the backup; only what is wrong with this target skips it.
    if (error instanceof DockerUnavailableError || error instanceof HelperImageMissingError) throw error;
    return { ...report, status: 'skipped_by_probe_error', error: errorText(error) };
  }
  const tooLarge = target.decision === 'inherit' && sizeBytes > options.skipTargetsOverBytes;
  return { ...report, status: tooLarge ? 'skipped_by_size' : 'included', sizeBytes };
}

async function probeSize(options: RunBackupOptions, target: StackBackupTarget): Promise<number> {
  if (target.kind === 'bind-mount' && !isAbsolute(target.path)) throw new Error(`bind path "${target.path}" is not absolute`);
  const result = await options.docker.runHelper({
    image: options.helperImage,
    purpose: 'probe',
    labels: { [BACKUP_STACK_LABEL]: options.stackId },
    script: PROBE_SCRIPT,
    mounts: [helperMountFor(target, '/data', true)],
    timeoutMs: options.timeouts?.probeMs ?? DEFAULT_PROBE_TIMEOUT_MS,
  });
  const size = /^(bytes|kib) (\d+)$/m.exec(result.stdout);
  if (result.exitCode !== 0 || !size) {
    throw new Error(`size probe exited with ${result.exitCode}: ${helperOutputTail(result)}`);
  }
  return Number(size[2]) * (size[1] === 'kib' ? 1024 : 1);
}

async function archiveTargets(
  options: RunBackupOptions,
  included: readonly BackupTargetReport[],
): Promise<Pick<BackupRunResult, 'status' | 'artifactPath' | 'sizeBytes' | 'error'>> {
  const now = options.now ?? new Date();
  const stackDir = join(options.baseDir, options.stackId);
  const fileName = `${now.toISOString().replace(/:/g, '-')}.tar.gz`;
  const artifactPath = join(stackDir, fileName);
  const slots = included.map((target, index) => ({ target, slot: slotName(index, target) }));
  const manifest: BackupManifest = {
    format: MANIFEST_FORMAT,
    stackId: options.stackId,
    createdAt: now.toISOString(),
    targets: slots.map(({ target, slot }) => ({ ...withoutExtraFields(target), slot, sizeBytes: target.sizeBytes })),
  };
  await mkdir(stackDir, { recursive: true, mode: 0o700 });
  let archived = false;
  try {
    const result = await options.docker.runHelper({
      image: options.helperImage,
      purpose: 'archive',
      labels: { [BACKUP_STACK_LABEL]: options.stackId },
      script: ARCHIVE_SCRIPT,
      args: [fileName, ...slots.map(({ slot }) => slot)],
      env: { [MANIFEST_ENV]: JSON.stringify(manifest) },
      mounts: [
        ...slots.map(({ target, slot }) => helperMountFor(target, `/data/${slot}`, true)),
        { type: 'bind', source: stackDir, target: '/backup', readOnly: false },
      ],
      timeoutMs: options.timeouts?.archiveMs ?? DEFAULT_ARCHIVE_TIMEOUT_MS,
    });
    if (result.exitCode !== 0) throw new Error(`archive helper exited with ${result.exitCode}: ${helperOutputTail(result)}`);
    archived = true;
  } finally {
    // A killed helper leaves its partial file; one killed late may even have finished the archive,
    // which a failed backup must not leave behind either.
    await rm(join(stackDir, `.${fileName}.partial`), { force: true });
    if (!archived) await rm(artifactPath, { force: true });
  }
  const written = await stat(artifactPath).catch(() => undefined);
  if (!written) {
    return {
      status: 'failed',
      error: `the helper wrote ${artifactPath} on the Docker host, but Dockrev cannot see it: baseDir must be the same path for both`,
    };
  }
  return { status: 'success', artifactPath, sizeBytes: written.size };
}

/** Planned targets carry more (origin, …); reports and manifests hold only what names the data. */
function withoutExtraFields(target: StackBackupTarget): StackBackupTarget {
  return target.kind === 'docker-volume' ? { kind: target.kind, name: target.name } : { kind: target.kind, path: target.path };
}

