// The tasks that run on their own, all on the scheduler (leased, so instances sharing PostgreSQL
// never run one twice; a run that overlaps its next tick makes that tick go by).
import type { Store } from '../../store/index.js';
import type { Scheduler } from './scheduler.js';

/** Lease names; settings name their schedules by the keys of SETTINGS_SCHEDULE_TASKS. */
export const TASKS = {
  updateCheck: 'update-check',
  discovery: 'discovery',
  runtimeScan: 'runtime-scan',
  backupRetention: 'backup-retention',
  snapshotGc: 'snapshot-gc',
} as const;

/** The schedules of `GET /api/settings` and the task each one drives (the audit task belongs to the GitHub packages work). */
export const SETTINGS_SCHEDULE_TASKS = { updateCheck: TASKS.updateCheck, ghcrWebhookAudit: 'ghcr-webhook-audit' } as const;

/** Backups past their cleanup time are looked for this often (behaviour.md §E.8). */
export const BACKUP_RETENTION_SECONDS = 60;

export interface BackgroundWork {
  scheduledCheck(): Promise<unknown>;
  discovery: { everySeconds: number; run(): Promise<unknown> };
  runtimeScan: { everySeconds: number; run(): Promise<unknown> };
  backupRetention(): Promise<unknown>;
  snapshotGc: { everySeconds: number; run(): Promise<unknown> };
}

export function addBackgroundTasks(scheduler: Scheduler, store: Pick<Store, 'settings'>, work: BackgroundWork): void {
  scheduler.add({
    name: TASKS.updateCheck,
    // A tick missed while the server was down runs once at start-up.
    catchUp: true,
    schedule: async () => {
      const { updateCheck } = (await store.settings.getSystem()).schedules;
      return updateCheck.enabled ? { cron: updateCheck.cron } : undefined;
    },
    run: () => work.scheduledCheck(),
  });
  scheduler.add({ name: TASKS.discovery, runAtStart: true, schedule: () => ({ everySeconds: work.discovery.everySeconds }), run: () => work.discovery.run() });
  scheduler.add({ name: TASKS.runtimeScan, runAtStart: true, schedule: () => ({ everySeconds: work.runtimeScan.everySeconds }), run: () => work.runtimeScan.run() });
  scheduler.add({ name: TASKS.backupRetention, runAtStart: true, schedule: () => ({ everySeconds: BACKUP_RETENTION_SECONDS }), run: () => work.backupRetention() });
  scheduler.add({ name: TASKS.snapshotGc, runAtStart: true, schedule: () => ({ everySeconds: work.snapshotGc.everySeconds }), run: () => work.snapshotGc.run() });
}
