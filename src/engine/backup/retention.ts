// Backup retention (behaviour.md §E.5, §E.6): an update that finished well makes its backups
// removable `deleteAfterStableSeconds` later; every minute the ones past that time go, archive and
// record, except the stack's `keepLast` newest, and only while the stack runs healthy (a stack in
// trouble may still need them).
import { rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Logger } from 'pino';
import { errorText } from '../../errors.js';
import type { BackupRecord, Stack, Store } from '../../store/index.js';
import { nowIso, toIso } from '../../time.js';
import type { StackStatus } from '../docker/index.js';
import type { EngineEvents, UpdateFinishedEvent } from '../events.js';

export interface RetentionDeps {
  store: Store;
  /** Health of the stacks' containers right now (`unknown` when Docker cannot say). */
  stackStatuses(stacks: readonly Pick<Stack, 'id' | 'name'>[]): Promise<Map<string, StackStatus>>;
  logger: Logger;
}

export interface RetentionRun {
  removed: string[];
  /** Due backups kept because they are among the stack's newest, or the stack is not healthy. */
  kept: string[];
  failed: { id: string; error: string }[];
}

export class BackupRetention {
  constructor(private readonly deps: RetentionDeps) {}

  subscribe(events: EngineEvents): void {
    events.on('update.finished', (event) => this.scheduleAfterUpdate(event));
  }

  /** The successful stacks of an applied update: their backups become due after the stable period. */
  async scheduleAfterUpdate(event: Readonly<UpdateFinishedEvent>): Promise<void> {
    if (event.mode !== 'apply') return;
    const finishedAt = Date.parse((await this.deps.store.jobs.get(event.jobId))?.finishedAt ?? nowIso());
    for (const { stackId, status } of event.stacks) {
      if (status !== 'success') continue;
      const stack = await this.deps.store.stacks.get(stackId);
      if (!stack) continue;
      const cleanupAfter = toIso(finishedAt + stack.backup.retention.deleteAfterStableSeconds * 1000);
      await this.deps.store.backups.scheduleCleanup(event.jobId, stackId, cleanupAfter);
    }
  }

  /** One retention pass. */
  async run(now: Date = new Date()): Promise<RetentionRun> {
    const result: RetentionRun = { removed: [], kept: [], failed: [] };
    const due = await this.deps.store.backups.listDueForCleanup(toIso(now));
    const byStack = new Map<string, BackupRecord[]>();
    for (const backup of due) byStack.set(backup.stackId, [...(byStack.get(backup.stackId) ?? []), backup]);
    if (byStack.size === 0) return result;

    const stacks = (await Promise.all([...byStack.keys()].map((id) => this.deps.store.stacks.get(id)))).filter((stack): stack is Stack => stack !== undefined);
    const statuses = await this.deps.stackStatuses(stacks);
    for (const [stackId, backups] of byStack) {
      const stack = stacks.find((each) => each.id === stackId);
      // A stack that is gone has nothing left to restore into.
      if (stack && statuses.get(stackId) !== 'healthy') {
        result.kept.push(...backups.map((backup) => backup.id));
        continue;
      }
      const keepLast = stack?.backup.retention.keepLast ?? 0;
      const newest = new Set((await this.deps.store.backups.listKept(stackId)).slice(0, Math.max(0, keepLast)).map((backup) => backup.id));
      for (const backup of backups) {
        if (newest.has(backup.id)) {
          result.kept.push(backup.id);
          continue;
        }
        try {
          await removeArchive(backup);
          await this.deps.store.backups.remove(backup.id);
          result.removed.push(backup.id);
        } catch (error) {
          result.failed.push({ id: backup.id, error: errorText(error) });
        }
      }
    }
    if (result.removed.length > 0 || result.failed.length > 0) this.deps.logger.info({ retention: result }, 'backup retention');
    return result;
  }
}

async function removeArchive(backup: BackupRecord): Promise<void> {
  const path = backup.artifactPath;
  if (!path) return;
  // Only what the backup step wrote: an absolute path to a .tar.gz archive.
  if (!isAbsolute(path) || !path.endsWith('.tar.gz')) throw new Error(`refusing to remove ${path}: not a backup archive`);
  await rm(path, { force: true });
}
