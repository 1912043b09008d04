import type { Knex } from 'knex';

interface LeaseRow {
  name: string;
  owner: string | null;
  lease_until: string | null;
  last_run_at: string | null;
}

/**
 * Leases of the background tasks. A lease is taken with one conditional UPDATE, which SQLite and
 * PostgreSQL both run atomically, so of two instances that try at the same moment one wins.
 */
export function createSchedulesRepository(knex: Knex) {
  const leases = () => knex<LeaseRow>('schedule_leases');

  /** Takes the task's lease until `until` unless another owner holds an unexpired one; true when taken. */
  async function acquire(name: string, owner: string, now: string, until: string): Promise<boolean> {
    await leases().insert({ name, owner: null, lease_until: null, last_run_at: null }).onConflict('name').ignore();
    const taken = await leases()
      .where({ name })
      .andWhere((query) => query.whereNull('lease_until').orWhere('lease_until', '<', now).orWhere({ owner }))
      .update({ owner, lease_until: until });
    return taken === 1;
  }

  /** Extends a lease this owner holds; false when it was lost (expired and taken by another). */
  async function renew(name: string, owner: string, until: string): Promise<boolean> {
    return (await leases().where({ name, owner }).update({ lease_until: until })) === 1;
  }

  /** Gives the lease back, recording when the task ran. */
  async function release(name: string, owner: string, lastRunAt: string): Promise<void> {
    await leases().where({ name, owner }).update({ owner: null, lease_until: null, last_run_at: lastRunAt });
  }

  async function lastRunAt(name: string): Promise<string | undefined> {
    return (await leases().where({ name }).first('last_run_at'))?.last_run_at ?? undefined;
  }

  return { acquire, renew, release, lastRunAt };
}

export type SchedulesRepository = ReturnType<typeof createSchedulesRepository>;
