export { MANIFEST_FILE, readBackupManifest, slotName } from './archive.js';
export { BACKUP_HELPER_LABEL, BACKUP_STACK_LABEL, type BackupDocker, type ContainerMount, createBackupDocker, HelperTimeoutError } from './helper.js';
export { backupTargetKey, backupTargetsFromMounts, discoverMountedTargets, planBackup, type PlannedBackupTarget } from './plan.js';
export { restoreBackup } from './restore.js';
export { type BackupRunResult, runBackup, type RunBackupOptions } from './run.js';
