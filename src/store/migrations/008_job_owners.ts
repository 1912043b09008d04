import type { Knex } from 'knex';

// Who runs each job: the process that started or claimed it (`owner`), and each process's last
// sign of life. A running job whose owner stopped beating is ended by whichever instance notices,
// so a crash or a lost database connection never leaves a job `running` for good.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.string('owner', 255);
  });
  await knex.schema.createTable('job_owners', (t) => {
    t.string('owner', 255).primary();
    t.string('started_at', 32).notNullable();
    t.string('heartbeat_at', 32).notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_owners');
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('owner');
  });
}
