import type { Knex } from 'knex';
import { migrateLatest, openDatabase, type DatabaseOptions } from './db.js';
import { unavailabilityOf } from './unavailable.js';
import { createBackupsRepository, type BackupsRepository } from './backups.js';
import { createDiscoveryProjectsRepository, type DiscoveryProjectsRepository } from './discovery-projects.js';
import { createGithubPackagesRepository, type GithubPackagesRepository } from './github-packages.js';
import { createIgnoreRulesRepository, type IgnoreRulesRepository } from './ignore-rules.js';
import { createJobsRepository, type JobsRepository } from './jobs.js';
import { createNotificationDeliveriesRepository, type NotificationDeliveriesRepository } from './notification-deliveries.js';
import { createNotificationsRepository, type NotificationsRepository } from './notifications.js';
import { createRegistryWebhooksRepository, type RegistryWebhooksRepository } from './registry-webhooks.js';
import { createServicesRepository, type ServicesRepository } from './services.js';
import { createSchedulesRepository, type SchedulesRepository } from './schedules.js';
import { createSettingsRepository, type SettingsRepository } from './settings.js';
import { createSnapshotsRepository, type SnapshotsRepository } from './snapshots.js';
import { createStacksRepository, type StacksRepository } from './stacks.js';
import { errorText } from '../errors.js';
import { watchTableChanges, type TableChanges } from './changes.js';

export { type DatabaseOptions } from './db.js';
export { type TableChanges } from './changes.js';
export { type DiscoveryProject } from './discovery-projects.js';
export {
  type DeliveryDecision,
  type GithubDelivery,
  type GithubDeliveryEvent,
  type GithubPackagesRepo,
  type GithubPackagesSettings,
  type GithubPackagesTarget,
  repoKey,
  type SelectedFilter,
  type WebhookState,
} from './github-packages.js';
export { type IgnoreRule } from './ignore-rules.js';
export { type BackupMode, decodeJobsCursor, encodeJobsCursor, InvalidJobsCursorError, type Job, type JobLog, type JobScope, type JobStatus, type JobSummary, type NewJob, type RunningJobOwner } from './jobs.js';
export { type DeliveryAttempt, type DeliveryListQuery, type NewNotificationDelivery, type NotificationDelivery, type NotificationDeliveryStatus } from './notification-deliveries.js';
export { type ChannelOptions, DEFAULT_NOTIFICATION_SETTINGS, type NotificationChannelKey, type NotificationEventSwitches, type NotificationSettings, type NotificationTemplate, type WebPushSubscription } from './notifications.js';
export {
  DEFAULT_REGISTRY_WEBHOOK_SETTINGS,
  type EventKeyClaim,
  type IgnoredRegistryEvent,
  REGISTRY_WEBHOOK_SOURCES,
  type RegistryDelivery,
  type RegistryDeliveryOutcome,
  type RegistryDeliveryQuery,
  type RegistryDeliveryVerification,
  type RegistryWebhookSettings,
  type RegistryWebhookSource,
} from './registry-webhooks.js';
export { type ArchiveFilter } from './rows.js';
export { DEFAULT_SERVICE_SETTINGS } from './service-rows.js';
export { type BackupOverride, type NewService, type Service, type ServiceCandidate, type ServiceHomepage, type ServiceIgnore, type ServiceSettings, type ServiceStatePatch } from './service-types.js';
export { DEFAULT_SYSTEM_SETTINGS, type SystemSettings } from './settings.js';
export { type DigestTagsSnapshot, type SnapshotKey, type SnapshotScan } from './snapshots.js';
export { type BackupRecord } from './backups.js';
export { type ComposeConfig, DEFAULT_STACK_BACKUP, type Stack, type StackBackupConfig, type StackBackupTarget, type StackListItem, type StackWithServices } from './stacks.js';


/**
 * Tables whose writes are counted (`Store.changes`): what kept views of stacks and services are
 * built from. A table that starts feeding those views joins this list.
 */
export const WATCHED_TABLES = ['stacks', 'services', 'ignore_rules'] as const;

export interface Store {
  knex: Knex;
  /** Write counters of {@link WATCHED_TABLES}, for readers that keep what they read. */
  changes: TableChanges;
  stacks: StacksRepository;
  services: ServicesRepository;
  discoveryProjects: DiscoveryProjectsRepository;
  jobs: JobsRepository;
  ignoreRules: IgnoreRulesRepository;
  settings: SettingsRepository;
  schedules: SchedulesRepository;
  notifications: NotificationsRepository;
  notificationDeliveries: NotificationDeliveriesRepository;
  githubPackages: GithubPackagesRepository;
  registryWebhooks: RegistryWebhooksRepository;
  snapshots: SnapshotsRepository;
  backups: BackupsRepository;
  /** Rejects while the database does not answer (readiness). */
  ping(): Promise<void>;
  /** Whether a failure means the database is not answering (an outage), not a bug. */
  isUnavailable(error: unknown): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens the database, brings its schema up to date and returns the repositories. */
export async function openStore(opts: DatabaseOptions): Promise<Store> {
  const knex = await openDatabase(opts);
  try {
    await migrateLatest(knex);
  } catch (error) {
    await knex.destroy();
    throw new Error(`database migration failed: ${errorText(error)}`);
  }
  return {
    knex,
    changes: watchTableChanges(knex, WATCHED_TABLES),
    stacks: createStacksRepository(knex),
    services: createServicesRepository(knex),
    discoveryProjects: createDiscoveryProjectsRepository(knex),
    jobs: createJobsRepository(knex),
    ignoreRules: createIgnoreRulesRepository(knex),
    settings: createSettingsRepository(knex),
    schedules: createSchedulesRepository(knex),
    notifications: createNotificationsRepository(knex),
    notificationDeliveries: createNotificationDeliveriesRepository(knex),
    githubPackages: createGithubPackagesRepository(knex),
    registryWebhooks: createRegistryWebhooksRepository(knex),
    snapshots: createSnapshotsRepository(knex),
    backups: createBackupsRepository(knex),
    ping: async () => {
      await knex.raw('select 1');
    },
    isUnavailable: unavailabilityOf(knex),
    close: () => knex.destroy(),
  };
}
