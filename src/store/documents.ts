import type { Knex } from 'knex';
import { nowIso } from '../time.js';
import { fromJson, toJson } from './rows.js';

/** Keys of the single-row documents kept in the `documents` table. */
export type DocumentKey = 'system_settings' | 'deploy_welcome' | 'notification_settings' | 'github_packages_settings' | 'registry_webhook_settings';

interface DocumentRow {
  key: string;
  value: string;
  updated_at: string;
}

export interface StoredDocument<T> {
  value: T;
  updatedAt: string;
}

export async function readDocument<T>(knex: Knex, key: DocumentKey): Promise<StoredDocument<T> | undefined> {
  const row = await knex<DocumentRow>('documents').where({ key }).first();
  return row ? { value: fromJson<T>(row.value, undefined as T), updatedAt: row.updated_at } : undefined;
}

export async function writeDocument(knex: Knex, key: DocumentKey, value: unknown): Promise<string> {
  const updatedAt = nowIso();
  await knex<DocumentRow>('documents')
    .insert({ key, value: toJson(value), updated_at: updatedAt })
    .onConflict('key')
    .merge(['value', 'updated_at']);
  return updatedAt;
}
