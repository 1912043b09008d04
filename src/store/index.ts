import type { Knex } from 'knex';
import { migrateLatest, openDatabase, type DatabaseOptions } from './db.js';
import { createBackupsRepository, type BackupsRepository } from './backups.js';
import { createDiscoveryProjectsRepository, type DiscoveryProjectsRepository } from './discovery-projects.js';
import { createGithubPackagesRepository, type GithubPackagesRepository } from './github-packages.js';
import { createIgnoreRulesRepository, type IgnoreRulesRepository } from './ignore-rules.js';
import { createJobsRepository, type JobsRepository } from './jobs.js';
import { createNotificationsRepository, type NotificationsRepository } from './notifications.js';
import { createServicesRepository, type ServicesRepository } from './services.js';
import { createSettingsRepository, type SettingsRepository } from './settings.js';
import { createSnapshotsRepository, type SnapshotsRepository } from './snapshots.js';
import { createStacksRepository, type StacksRepository } from './stacks.js';
import { errorText } from '../errors.js';

export type { DatabaseEngine, DatabaseOptions } from './db.js';
export { databaseEngine, migrateLatest, openDatabase } from './db.js';
export type { ArchiveFilter } from './rows.js';
export * from './backups.js';
export * from './discovery-projects.js';
export * from './github-packages.js';
export * from './ignore-rules.js';
export * from './jobs.js';
export * from './notifications.js';
export * from './services.js';
export * from './settings.js';
export * from './snapshots.js';
export * from './stacks.js';

export interface Store {
  knex: Knex;
  stacks: StacksRepository;
  services: ServicesRepository;
  discoveryProjects: DiscoveryProjectsRepository;
  jobs: JobsRepository;
  ignoreRules: IgnoreRulesRepository;
  settings: SettingsRepository;
  notifications: NotificationsRepository;
  githubPackages: GithubPackagesRepository;
  snapshots: SnapshotsRepository;
  backups: BackupsRepository;
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
    stacks: createStacksRepository(knex),
    services: createServicesRepository(knex),
    discoveryProjects: createDiscoveryProjectsRepository(knex),
    jobs: createJobsRepository(knex),
    ignoreRules: createIgnoreRulesRepository(knex),
    settings: createSettingsRepository(knex),
    notifications: createNotificationsRepository(knex),
    githubPackages: createGithubPackagesRepository(knex),
    snapshots: createSnapshotsRepository(knex),
    backups: createBackupsRepository(knex),
    close: () => knex.destroy(),
  };
}
