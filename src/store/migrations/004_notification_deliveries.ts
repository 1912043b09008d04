import type { Knex } from 'knex';

// One row per (notification, channel): the delivery log, and the queue of sends to retry. A retry
// is a row with a due time, not a timer, so it survives a restart; `claimed_until` is the lease of
// the process attempting it, so two instances sharing the database never send one twice at once.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notification_deliveries', (t) => {
    t.string('id', 64).primary();
    t.string('channel', 32).notNullable();
    t.string('kind', 48).notNullable();
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable();
    t.integer('max_attempts').notNullable();
    t.string('job_id', 64).index();
    t.text('title').notNullable();
    // The v2 payload without its channel field; secrets are read from the settings at send time.
    t.text('payload').notNullable();
    t.text('last_error');
    t.string('created_at', 32).notNullable().index();
    t.string('updated_at', 32).notNullable();
    t.string('last_attempt_at', 32);
    t.string('next_attempt_at', 32);
    t.string('sent_at', 32);
    t.string('claimed_until', 32);
    t.index(['status', 'next_attempt_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notification_deliveries');
}
