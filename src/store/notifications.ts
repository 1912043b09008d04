import type { Knex } from 'knex';
import { nowIso } from '../time.js';
import { compact, optional } from './rows.js';
import { readDocument, writeDocument } from './documents.js';

export interface NotificationEventSwitches {
  update: boolean;
  newVersion: boolean;
  ghcrWebhookAnomaly: boolean;
}

/** Mustache templates replacing a channel's title and body. */
export interface NotificationTemplate {
  title?: string;
  body?: string;
}

/** What every channel has besides its own fields: an on switch, its own event switches, templates. */
export interface ChannelOptions {
  enabled: boolean;
  /** Switches that override the default `events` block for this channel only. */
  events?: Partial<NotificationEventSwitches>;
  template?: NotificationTemplate;
}

/** Secrets are stored in clear; masking them is the API layer's job. */
export interface NotificationSettings {
  email: ChannelOptions & { smtpUrl?: string };
  webhook: ChannelOptions & { url?: string };
  telegram: ChannelOptions & { botToken?: string; chatId?: string };
  webPush: ChannelOptions & { vapidPublicKey?: string; vapidPrivateKey?: string; vapidSubject?: string };
  ntfy: ChannelOptions & { topicUrl?: string; token?: string; priority?: number; tags?: string[] };
  gotify: ChannelOptions & { serverUrl?: string; appToken?: string; priority?: number };
  discord: ChannelOptions & { webhookUrl?: string };
  slack: ChannelOptions & { webhookUrl?: string };
  /** The default event switches of every channel. */
  events: NotificationEventSwitches;
}

/** The keys of the channel objects in the settings. */
export type NotificationChannelKey = Exclude<keyof NotificationSettings, 'events'>;

export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  createdAt: string;
}

export type NewVersionNotificationStatus = 'sent' | 'failed';

/** The record that a new version (service × candidate digest) was announced, or that sending failed. */
export interface NewVersionNotification {
  serviceId: string;
  candidateDigest: string;
  jobId?: string;
  status: NewVersionNotificationStatus;
  error?: string;
  createdAt: string;
  updatedAt: string;
}

export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = {
  email: { enabled: false },
  webhook: { enabled: false },
  telegram: { enabled: false },
  webPush: { enabled: false },
  ntfy: { enabled: false },
  gotify: { enabled: false },
  discord: { enabled: false },
  slack: { enabled: false },
  events: { update: true, newVersion: true, ghcrWebhookAnomaly: true },
};

/** Web Push sends go to at most this many subscriptions, oldest first. */
export const WEB_PUSH_SEND_LIMIT = 500;

interface WebPushSubscriptionRow {
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: string;
  updated_at: string;
}

interface NewVersionNotificationRow {
  service_id: string;
  candidate_digest: string;
  job_id: string | null;
  status: string;
  error: string | null;
  created_at: string;
  updated_at: string;
}

function notificationFromRow(row: NewVersionNotificationRow): NewVersionNotification {
  return compact({
    serviceId: row.service_id,
    candidateDigest: row.candidate_digest,
    jobId: optional(row.job_id),
    status: row.status as NewVersionNotificationStatus,
    error: optional(row.error),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export function createNotificationsRepository(knex: Knex) {
  const subscriptions = () => knex<WebPushSubscriptionRow>('web_push_subscriptions');
  const newVersions = () => knex<NewVersionNotificationRow>('new_version_notifications');

  async function getSettings(): Promise<NotificationSettings> {
    const stored = (await readDocument<Partial<NotificationSettings>>(knex, 'notification_settings'))?.value ?? {};
    const defaults = structuredClone(DEFAULT_NOTIFICATION_SETTINGS);
    return {
      email: { ...defaults.email, ...stored.email },
      webhook: { ...defaults.webhook, ...stored.webhook },
      telegram: { ...defaults.telegram, ...stored.telegram },
      webPush: { ...defaults.webPush, ...stored.webPush },
      ntfy: { ...defaults.ntfy, ...stored.ntfy },
      gotify: { ...defaults.gotify, ...stored.gotify },
      discord: { ...defaults.discord, ...stored.discord },
      slack: { ...defaults.slack, ...stored.slack },
      events: { ...defaults.events, ...stored.events },
    };
  }

  async function putSettings(settings: NotificationSettings): Promise<void> {
    await writeDocument(knex, 'notification_settings', settings);
  }

  /** Insert, or replace the keys of the subscription with that endpoint (keeping its createdAt). */
  async function upsertSubscription(subscription: { endpoint: string; keys: { p256dh: string; auth: string } }): Promise<void> {
    const now = nowIso();
    await subscriptions()
      .insert({
        endpoint: subscription.endpoint,
        p256dh: subscription.keys.p256dh,
        auth: subscription.keys.auth,
        created_at: now,
        updated_at: now,
      })
      .onConflict('endpoint')
      .merge(['p256dh', 'auth', 'updated_at']);
  }

  /** False when no subscription had that endpoint. */
  async function deleteSubscription(endpoint: string): Promise<boolean> {
    return (await subscriptions().where({ endpoint }).delete()) > 0;
  }

  async function listSubscriptions(limit = WEB_PUSH_SEND_LIMIT): Promise<WebPushSubscription[]> {
    const rows = await subscriptions()
      .select('*')
      .orderBy([{ column: 'created_at' }, { column: 'endpoint' }])
      .limit(limit);
    return rows.map((row) => ({ endpoint: row.endpoint, keys: { p256dh: row.p256dh, auth: row.auth }, createdAt: row.created_at }));
  }

  async function getNewVersionNotification(serviceId: string, candidateDigest: string): Promise<NewVersionNotification | undefined> {
    const row = await newVersions().where({ service_id: serviceId, candidate_digest: candidateDigest }).first();
    return row ? notificationFromRow(row) : undefined;
  }

  async function recordNewVersionNotification(input: {
    serviceId: string;
    candidateDigest: string;
    jobId?: string;
    status: NewVersionNotificationStatus;
    error?: string;
  }): Promise<void> {
    const now = nowIso();
    await newVersions()
      .insert({
        service_id: input.serviceId,
        candidate_digest: input.candidateDigest,
        job_id: input.jobId ?? null,
        status: input.status,
        error: input.error ?? null,
        created_at: now,
        updated_at: now,
      })
      .onConflict(['service_id', 'candidate_digest'])
      .merge(['job_id', 'status', 'error', 'updated_at']);
  }

  /**
   * Claims the announcement of a new version (service × candidate digest) for a job: true when this
   * call recorded it, false when it was recorded before (by this or another instance).
   */
  async function reserveNewVersionNotification(input: { serviceId: string; candidateDigest: string; jobId: string }): Promise<boolean> {
    const now = nowIso();
    const inserted = await newVersions()
      .insert({
        service_id: input.serviceId,
        candidate_digest: input.candidateDigest,
        job_id: input.jobId,
        status: 'sent',
        error: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict(['service_id', 'candidate_digest'])
      .ignore()
      .returning('service_id');
    return inserted.length > 0;
  }

  return {
    getSettings,
    putSettings,
    upsertSubscription,
    deleteSubscription,
    listSubscriptions,
    getNewVersionNotification,
    recordNewVersionNotification,
    reserveNewVersionNotification,
  };
}

export type NotificationsRepository = ReturnType<typeof createNotificationsRepository>;
