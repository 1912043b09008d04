import type { Knex } from 'knex';

const ID = 64;
const TS = 32;

// Registry push notices: every delivery the receivers took after authentication (the delivery
// log), and the event keys already seen (an event id, or a body hash where a registry sends
// none), so that a retried or replayed delivery starts nothing twice, also across instances.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registry_webhook_deliveries', (t) => {
    t.string('id', ID).primary();
    t.string('source', 16).notNullable();
    t.string('received_at', TS).notNullable().index();
    t.string('outcome', 16).notNullable();
    t.string('reason', 64);
    t.text('message');
    t.text('registry');
    t.text('event_ids').notNullable();
    t.text('repositories').notNullable();
    t.text('tags').notNullable();
    t.text('digests').notNullable();
    t.integer('event_count').notNullable();
    t.text('ignored').notNullable();
    t.text('matched_service_ids').notNullable();
    t.text('job_ids').notNullable();
    t.string('verification', 16);
    t.string('duplicate_of', ID);
    t.index(['source', 'id']);
  });

  await knex.schema.createTable('registry_webhook_seen', (t) => {
    t.string('source', 16).notNullable();
    t.string('event_key', 200).notNullable();
    t.string('seen_at', TS).notNullable().index();
    t.string('delivery_id', ID).notNullable();
    t.primary(['source', 'event_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('registry_webhook_seen');
  await knex.schema.dropTable('registry_webhook_deliveries');
}
