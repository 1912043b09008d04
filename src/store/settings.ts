import type { Knex } from 'knex';
import { readDocument, writeDocument } from './documents.js';

export interface SystemSettings {
  backup: { enabled: boolean; requireSuccess: boolean; baseDir: string; skipTargetsOverBytes: number };
  resourceMonitor: { enabled: boolean; sampleIntervalSeconds: number; retentionDays: number };
  schedules: {
    updateCheck: { enabled: boolean; cron: string };
    ghcrWebhookAudit: { enabled: boolean; cron: string };
  };
  instance: { publicBaseUrl: string | null };
}

export interface DeployWelcome {
  neverAutoOpen: boolean;
  /** Null until the first PUT. */
  updatedAt: string | null;
}

export const DEFAULT_SYSTEM_SETTINGS: SystemSettings = {
  backup: { enabled: true, requireSuccess: true, baseDir: '/data/backups', skipTargetsOverBytes: 104_857_600 },
  resourceMonitor: { enabled: true, sampleIntervalSeconds: 30, retentionDays: 30 },
  schedules: {
    updateCheck: { enabled: false, cron: '*/30 * * * *' },
    ghcrWebhookAudit: { enabled: true, cron: '0 3 * * *' },
  },
  instance: { publicBaseUrl: null },
};

export function createSettingsRepository(knex: Knex) {
  /** Stored settings over the defaults, section by section, so sections added later get defaults. */
  async function getSystem(): Promise<SystemSettings> {
    const stored = (await readDocument<Partial<SystemSettings>>(knex, 'system_settings'))?.value ?? {};
    const defaults = structuredClone(DEFAULT_SYSTEM_SETTINGS);
    return {
      backup: { ...defaults.backup, ...stored.backup },
      resourceMonitor: { ...defaults.resourceMonitor, ...stored.resourceMonitor },
      schedules: {
        updateCheck: { ...defaults.schedules.updateCheck, ...stored.schedules?.updateCheck },
        ghcrWebhookAudit: { ...defaults.schedules.ghcrWebhookAudit, ...stored.schedules?.ghcrWebhookAudit },
      },
      instance: { ...defaults.instance, ...stored.instance },
    };
  }

  async function putSystem(settings: SystemSettings): Promise<void> {
    await writeDocument(knex, 'system_settings', settings);
  }

  async function getDeployWelcome(): Promise<DeployWelcome> {
    const stored = await readDocument<{ neverAutoOpen: boolean }>(knex, 'deploy_welcome');
    return stored ? { neverAutoOpen: stored.value.neverAutoOpen, updatedAt: stored.updatedAt } : { neverAutoOpen: false, updatedAt: null };
  }

  async function putDeployWelcome(neverAutoOpen: boolean): Promise<DeployWelcome> {
    const updatedAt = await writeDocument(knex, 'deploy_welcome', { neverAutoOpen });
    return { neverAutoOpen, updatedAt };
  }

  return { getSystem, putSystem, getDeployWelcome, putDeployWelcome };
}

export type SettingsRepository = ReturnType<typeof createSettingsRepository>;
