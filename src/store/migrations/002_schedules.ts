import type { Knex } from 'knex';

// One row per background task: who runs it now (a lease, so instances sharing the database never
// run it twice at once) and when it last ran (so a start-up can tell a missed tick).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('schedule_leases', (t) => {
    t.string('name', 64).primary();
    t.string('owner', 64);
    t.string('lease_until', 32);
    t.string('last_run_at', 32);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('schedule_leases');
}
