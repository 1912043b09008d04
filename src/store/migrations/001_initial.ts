import type { Knex } from 'knex';

// Portable DDL: ids and ISO timestamps are strings (fixed width, so string order is time order),
// JSON sub-documents are text, booleans are knex booleans (0/1 on SQLite).
const ID = 64;
const TS = 32;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('stacks', (t) => {
    t.string('id', ID).primary();
    t.text('name').notNullable();
    t.string('compose_type', 32).notNullable();
    t.text('compose_files').notNullable();
    t.text('env_file');
    t.text('backup').notNullable();
    archiveColumns(t);
    t.string('created_at', TS).notNullable().index();
    t.string('updated_at', TS).notNullable();
    t.string('last_check_at', TS);
  });

  await knex.schema.createTable('services', (t) => {
    t.string('id', ID).primary();
    t.string('stack_id', ID).notNullable().references('id').inTable('stacks').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('image_ref').notNullable();
    t.text('image_tag').notNullable();
    t.text('image_digest');
    t.text('resolved_tag');
    t.text('resolved_tags');
    t.text('candidate_tag');
    t.text('candidate_resolved_tag');
    t.text('candidate_digest');
    t.string('candidate_arch_match', 16);
    t.text('candidate_arch');
    t.string('ignore_rule_id', ID);
    t.text('ignore_reason');
    t.text('homepage');
    t.boolean('auto_rollback').notNullable().defaultTo(true);
    t.text('backup_targets').notNullable();
    t.string('checked_at', TS);
    archiveColumns(t);
    t.string('created_at', TS).notNullable();
    t.string('updated_at', TS).notNullable();
    t.unique(['stack_id', 'name']);
  });

  await knex.schema.createTable('discovery_projects', (t) => {
    t.string('project').primary();
    t.string('status', 16).notNullable();
    t.string('stack_id', ID).references('id').inTable('stacks').onDelete('SET NULL');
    t.text('config_files');
    t.string('last_seen_at', TS);
    t.string('last_scan_at', TS);
    t.text('last_error');
    archiveColumns(t);
    t.string('created_at', TS).notNullable();
    t.string('updated_at', TS).notNullable();
  });

  // No foreign keys to stacks/services: jobs outlive what they touched, and GitHub sync-repo jobs
  // keep an owner/repo key in service_id.
  await knex.schema.createTable('jobs', (t) => {
    t.string('id', ID).primary();
    t.string('type', 64).notNullable();
    t.string('scope', 16).notNullable();
    t.string('stack_id', ID);
    t.string('service_id', 255);
    t.string('status', 16).notNullable();
    t.text('created_by').notNullable();
    t.string('reason', 64).notNullable();
    t.boolean('allow_arch_mismatch').notNullable().defaultTo(false);
    t.string('backup_mode', 16).notNullable().defaultTo('inherit');
    t.text('summary').notNullable();
    t.text('progress');
    t.string('created_at', TS).notNullable();
    t.string('started_at', TS);
    t.string('finished_at', TS);
    t.string('updated_at', TS).notNullable();
    t.index(['created_at', 'id']);
    t.index(['status', 'type']);
    t.index(['stack_id']);
    t.index(['service_id']);
  });

  // The autoincrement id is the SSE cursor; AUTOINCREMENT (SQLite) / a sequence (PostgreSQL) never reuse ids.
  await knex.schema.createTable('job_logs', (t) => {
    t.bigIncrements('id');
    t.string('job_id', ID).notNullable().references('id').inTable('jobs').onDelete('CASCADE');
    t.string('ts', TS).notNullable();
    t.string('level', 8).notNullable();
    t.text('msg').notNullable();
    t.index(['job_id', 'id']);
    t.index(['level', 'id']);
  });

  // service_id is not a foreign key: rules may name services that do not exist (yet).
  await knex.schema.createTable('ignore_rules', (t) => {
    t.string('id', ID).primary();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.string('scope_type', 16).notNullable();
    t.string('service_id', ID).notNullable().index();
    t.string('match_kind', 32).notNullable();
    t.text('match_value').notNullable();
    t.text('note');
    t.string('created_at', TS).notNullable().index();
  });

  // Single-row documents (system settings, notification settings, GitHub packages settings, deploy welcome).
  await knex.schema.createTable('documents', (t) => {
    t.string('key', 64).primary();
    t.text('value').notNullable();
    t.string('updated_at', TS).notNullable();
  });

  await knex.schema.createTable('web_push_subscriptions', (t) => {
    t.text('endpoint').primary();
    t.text('p256dh').notNullable();
    t.text('auth').notNullable();
    t.string('created_at', TS).notNullable().index();
    t.string('updated_at', TS).notNullable();
  });

  // One active record per service × candidate digest, so a new version is announced once.
  await knex.schema.createTable('new_version_notifications', (t) => {
    t.string('service_id', ID).notNullable();
    t.text('candidate_digest').notNullable();
    t.string('job_id', ID);
    t.string('status', 16).notNullable();
    t.text('error');
    t.string('created_at', TS).notNullable();
    t.string('updated_at', TS).notNullable();
    t.primary(['service_id', 'candidate_digest']);
  });

  await knex.schema.createTable('github_packages_targets', (t) => {
    t.text('input').primary();
    t.string('kind', 16).notNullable();
    t.text('owner').notNullable();
    t.text('warnings').notNullable();
    t.string('created_at', TS).notNullable();
  });

  // repo_key = lower(owner/repo): repositories are unique case-insensitively.
  await knex.schema.createTable('github_packages_repos', (t) => {
    t.string('repo_key').primary();
    t.text('owner').notNullable();
    t.text('repo').notNullable();
    t.boolean('selected').notNullable().defaultTo(false);
    t.string('webhook_state', 16).notNullable();
    t.string('webhook_job_id', ID);
    t.bigInteger('hook_id');
    t.string('last_sync_at', TS);
    t.string('last_audit_at', TS);
    t.string('last_op', 32);
    t.text('last_error');
    t.string('created_at', TS).notNullable();
    t.string('updated_at', TS).notNullable();
    t.index(['selected']);
  });

  await knex.schema.createTable('github_packages_deliveries', (t) => {
    t.string('delivery_id').primary();
    t.string('received_at', TS).notNullable().index();
    t.string('first_received_at', TS).notNullable();
    t.text('owner');
    t.text('repo');
    t.text('full_name');
    t.string('event', 64);
    t.string('action', 64);
    t.string('decision', 16).notNullable();
    t.string('reason', 64);
    t.integer('response_status');
    t.string('job_id', ID);
    t.text('job_ids');
    t.integer('attempt_count').notNullable();
  });

  // Feeds the deliveries SSE stream; the autoincrement id is its cursor.
  await knex.schema.createTable('github_packages_delivery_events', (t) => {
    t.bigIncrements('id');
    t.string('delivery_id').notNullable();
    t.string('ts', TS).notNullable();
    t.text('delivery').notNullable();
  });

  await knex.schema.createTable('digest_tags_snapshots', (t) => {
    t.string('image_repo').notNullable();
    t.string('digest', 128).notNullable();
    t.string('host_platform', 64).notNullable();
    t.text('tags').notNullable();
    t.text('scan').notNullable();
    t.string('checked_at', TS).notNullable().index();
    t.string('updated_at', TS).notNullable();
    t.primary(['image_repo', 'digest', 'host_platform']);
  });

  await knex.schema.createTable('backups', (t) => {
    t.string('id', ID).primary();
    t.string('job_id', ID).notNullable();
    t.string('stack_id', ID).notNullable();
    t.string('status', 16).notNullable();
    t.text('artifact_path');
    t.bigInteger('size_bytes');
    t.text('details');
    t.string('created_at', TS).notNullable();
    t.string('finished_at', TS);
    t.string('cleanup_after', TS).index();
    t.string('deleted_at', TS);
    t.index(['stack_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'backups',
    'digest_tags_snapshots',
    'github_packages_delivery_events',
    'github_packages_deliveries',
    'github_packages_repos',
    'github_packages_targets',
    'new_version_notifications',
    'web_push_subscriptions',
    'documents',
    'ignore_rules',
    'job_logs',
    'jobs',
    'discovery_projects',
    'services',
    'stacks',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}

function archiveColumns(t: Knex.CreateTableBuilder): void {
  t.boolean('archived').notNullable().defaultTo(false);
  t.string('archived_at', TS);
  t.string('archived_reason', 64);
}
