import { posix } from 'node:path';
import type { BackupMode, BackupOverride, Service, Stack, StackBackupTarget, SystemSettings } from '../../store/index.js';
import type { BackupDocker, ContainerMount } from './helper.js';

/** A target with the decision combined from the overrides of the services in scope. */
export type PlannedBackupTarget = StackBackupTarget & {
  decision: BackupOverride;
  /** `stack`: listed in the stack's backup config; `mount`: found on a container of a service in scope. */
  origin: 'stack' | 'mount';
};

export type BackupPlan =
  | { run: true; targets: PlannedBackupTarget[] }
  | { run: false; reason: 'disabled' | 'no_targets'; targets: PlannedBackupTarget[] };

/**
 * Bind sources under these hold sockets, devices and runtime state (the Docker socket, /dev/…),
 * never data an update could damage or a restore should bring back.
 */
const SYSTEM_BIND_ROOTS = ['/proc', '/sys', '/dev', '/run', '/var/run'];

/**
 * Whether the pre-update backup runs and, per target, what the services in scope ask for.
 *
 * Targets are the stack's configured `backup.targets` followed by `mountedTargets` (see
 * `backupTargetsFromMounts`) that the stack does not list already: discovery creates stacks with no
 * targets, and the data an update can damage is exactly what its containers mount writable.
 *
 * `skip` never runs; `force` runs even when backups are disabled; `inherit` follows the settings.
 * The request's mode is reported as `disabled` too, as the update summary expects.
 */
export function planBackup(
  stack: Pick<Stack, 'backup'>,
  servicesInScope: readonly Pick<Service, 'settings'>[],
  backupSettings: Pick<SystemSettings['backup'], 'enabled'>,
  backupMode: BackupMode,
  mountedTargets: readonly StackBackupTarget[] = [],
): BackupPlan {
  const targets = mergeTargets(stack.backup.targets, mountedTargets).map(({ target, origin }) => ({
    ...target,
    decision: combinedDecision(target, servicesInScope),
    origin,
  }));
  const wanted = backupMode === 'force' || (backupMode === 'inherit' && backupSettings.enabled);
  if (!wanted) return { run: false, reason: 'disabled', targets };
  if (targets.length === 0) return { run: false, reason: 'no_targets', targets };
  return { run: true, targets };
}

/** Backup targets of what the containers of these Compose services mount (see backupTargetsFromMounts). */
export async function discoverMountedTargets(docker: BackupDocker, project: string, services: readonly string[]): Promise<StackBackupTarget[]> {
  return backupTargetsFromMounts(await docker.listServiceMounts(project, services));
}

/**
 * Writable named or anonymous volumes and writable bind mounts outside the system folders, one
 * entry per volume or path. Read-only mounts are left out: what a service cannot write, its update
 * cannot damage. Anonymous volumes count because Compose carries them over when it recreates a
 * container.
 */
export function backupTargetsFromMounts(mounts: readonly ContainerMount[]): StackBackupTarget[] {
  const targets: StackBackupTarget[] = [];
  for (const mount of mounts) {
    if (!mount.readWrite) continue;
    if (mount.type === 'volume' && mount.name) targets.push({ kind: 'docker-volume', name: mount.name });
    if (mount.type === 'bind' && !isSystemPath(mount.source)) targets.push({ kind: 'bind-mount', path: mount.source });
  }
  return mergeTargets(targets, []).map(({ target }) => target);
}

/** `docker-volume:<name>` or `bind-mount:<normalized path>`: equal keys are the same data. */
export function backupTargetKey(target: StackBackupTarget): string {
  return target.kind === 'docker-volume' ? `docker-volume:${target.name}` : `bind-mount:${normalizeBindPath(target.path)}`;
}

/** "/srv/app/" and "/srv//app" name the same folder as "/srv/app". */
export function normalizeBindPath(path: string): string {
  const normalized = posix.normalize(path);
  return normalized.length > 1 ? normalized.replace(/\/$/, '') : normalized;
}

function mergeTargets(configured: readonly StackBackupTarget[], mounted: readonly StackBackupTarget[]) {
  const merged = new Map<string, { target: StackBackupTarget; origin: PlannedBackupTarget['origin'] }>();
  for (const [targets, origin] of [[configured, 'stack'], [mounted, 'mount']] as const) {
    for (const target of targets) {
      const key = backupTargetKey(target);
      if (!merged.has(key)) merged.set(key, { target, origin });
    }
  }
  return [...merged.values()];
}

/** Any `force` wins, then any `inherit`; only when every service says `skip` is it skipped. */
function combinedDecision(target: StackBackupTarget, services: readonly Pick<Service, 'settings'>[]): BackupOverride {
  if (services.length === 0) return 'inherit';
  const overrides = services.map((service) => serviceOverride(target, service));
  if (overrides.includes('force')) return 'force';
  if (overrides.includes('inherit')) return 'inherit';
  return 'skip';
}

function serviceOverride(target: StackBackupTarget, service: Pick<Service, 'settings'>): BackupOverride {
  const { bindPaths, volumeNames } = service.settings.backupTargets;
  if (target.kind === 'docker-volume') return volumeNames[target.name] ?? 'inherit';
  const path = normalizeBindPath(target.path);
  const match = Object.entries(bindPaths).find(([configured]) => normalizeBindPath(configured) === path);
  return match?.[1] ?? 'inherit';
}

function isSystemPath(path: string): boolean {
  const normalized = normalizeBindPath(path);
  return SYSTEM_BIND_ROOTS.some((root) => normalized === root || normalized.startsWith(`${root}/`));
}
