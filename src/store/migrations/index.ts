import type { Knex } from 'knex';
import * as initial from './001_initial.js';
import * as schedules from './002_schedules.js';
import * as notificationDeliveries from './004_notification_deliveries.js';
import * as registryWebhooks from './006_registry_webhooks.js';
import * as jobOwners from './008_job_owners.js';

/** Migrations live in code (named without extensions) so compiled and source runs agree. */
const migrations: ReadonlyArray<[name: string, migration: Knex.Migration]> = [
  ['001_initial', initial],
  ['002_schedules', schedules],
  ['004_notification_deliveries', notificationDeliveries],
  ['006_registry_webhooks', registryWebhooks],
  ['008_job_owners', jobOwners],
];

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return migrations.map(([name]) => name);
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    const found = migrations.find(([candidate]) => candidate === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};
