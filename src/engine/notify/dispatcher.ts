// Sends notifications: one delivery row per channel, every channel started at once in §F.1 order
// and bounded by its own timeout, so a channel that is down or slow delays no other. Each result is
// logged on the job the notification is about and kept in the delivery log; a failed send is
// retried with back-off from its row (a due time, not a timer), so retries survive a restart.
import type { Logger } from 'pino';
import type { EngineEvents } from '../events.js';
import { mapConcurrently } from '../../concurrency.js';
import { withDeadline } from '../../deadline.js';
import { errorText } from '../../errors.js';
import { newId } from '../../ids.js';
import type { NotificationDelivery, NotificationSettings, Store } from '../../store/index.js';
import { toIso } from '../../time.js';
import type { AnyChannel, ChannelKey, NotificationKind, NotificationPayload, SendContext } from './channels/channel.js';
import { CHANNELS, channelNamed } from './channels/index.js';
import type { UnaddressedPayload } from './payload.js';
import { redactSecrets } from './redact.js';
import { settingsSecrets } from './settings.js';
import { channelMessage } from './template.js';

/** The first send and three retries. */
export const MAX_ATTEMPTS = 4;
/** A claim outlives the longest send by this much, so a crashed sender's deliveries come back. */
const CLAIM_MARGIN_MS = 30_000;
const RETRY_BATCH = 50;
const RETRY_CONCURRENCY = 4;

export type ChannelResult = { ok: true } | { ok: false; error: string };

export interface DispatcherOptions {
  store: Store;
  logger: Logger;
  appVersion: string;
  telegramApiBaseUrl: string;
  /** The first retry waits this long, each later one twice as long as the one before. */
  retryBaseMs: number;
  /** Per-channel send timeouts instead of each channel's own (tests). */
  timeoutsMs?: Partial<Record<ChannelKey, number>>;
  now?: () => number;
  /** Where each attempt is announced (`notification.attempted`, for metrics). */
  events?: EngineEvents;
}

export interface Notification {
  kind: NotificationKind;
  /** The job the notification is about; results are logged on it. */
  jobId?: string;
  payload: UnaddressedPayload;
  channels: readonly ChannelKey[];
  /** 1 for test sends: the person asking wants the answer now, not a retry later. */
  maxAttempts?: number;
}

export class Dispatcher {
  private readonly now: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Records one delivery per channel and sends them all; resolves with the results in channel order. */
  async send(notification: Notification): Promise<ChannelResult[]> {
    if (notification.channels.length === 0) return [];
    const createdAt = toIso(this.now());
    const rows = notification.channels.map((channel) => ({
      id: newId('ntf'),
      channel,
      kind: notification.kind,
      maxAttempts: notification.maxAttempts ?? MAX_ATTEMPTS,
      jobId: notification.jobId,
      title: notification.payload.human.title,
      payload: notification.payload as Record<string, unknown>,
      createdAt,
      claimedUntil: toIso(this.now() + this.timeoutOf(channelNamed(channel)) + CLAIM_MARGIN_MS),
    }));
    await this.options.store.notificationDeliveries.create(rows);
    const settings = await this.options.store.notifications.getSettings();
    return Promise.all(
      rows.map((row) => this.attempt({ ...row, attempts: 0 }, settings)),
    );
  }

  /** Sends the deliveries whose retry is due and that no other process is sending; returns how many. */
  async retryDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = this.now();
      const claimed = await this.options.store.notificationDeliveries.claimDue(toIso(now), toIso(now + this.longestTimeout() + CLAIM_MARGIN_MS), RETRY_BATCH);
      if (claimed.length === 0) return total;
      const settings = await this.options.store.notifications.getSettings();
      await mapConcurrently(claimed, RETRY_CONCURRENCY, (delivery) => this.attempt(delivery, settings));
      total += claimed.length;
      if (claimed.length < RETRY_BATCH) return total;
    }
  }

  /** One send of a delivery, recorded; never throws. */
  private async attempt(delivery: Pick<NotificationDelivery, 'id' | 'channel' | 'kind' | 'attempts' | 'maxAttempts' | 'jobId' | 'payload'>, settings: NotificationSettings): Promise<ChannelResult> {
    let error: string | undefined;
    try {
      await this.deliver(channelNamed(delivery.channel), delivery.payload, settings);
    } catch (failure) {
      error = redactSecrets(errorText(failure), settingsSecrets(settings)) || 'send failed';
    }
    const at = this.now();
    const attempt = delivery.attempts + 1;
    const retryIn = error !== undefined && attempt < delivery.maxAttempts ? this.options.retryBaseMs * 2 ** (attempt - 1) : undefined;
    const status = error === undefined ? 'sent' : retryIn !== undefined ? 'pending' : 'failed';
    try {
      await this.options.store.notificationDeliveries.recordAttempt(delivery.id, {
        at: toIso(at),
        status,
        lastError: error,
        nextAttemptAt: retryIn !== undefined ? toIso(at + retryIn) : undefined,
      });
    } catch (failure) {
      this.options.logger.error({ err: failure, deliveryId: delivery.id }, 'cannot record a notification delivery');
    }
    this.options.events?.publish('notification.attempted', { deliveryId: delivery.id, channel: delivery.channel, kind: delivery.kind, status, attempt });
    await this.report(delivery, attempt, error, retryIn);
    return error === undefined ? { ok: true } : { ok: false, error };
  }

  private async deliver(channel: AnyChannel, unaddressed: Record<string, unknown>, settings: NotificationSettings): Promise<void> {
    const stored = settings[channel.key] as never;
    const problem = channel.problem(stored);
    if (problem) throw new Error(problem);
    const payload = { ...unaddressed, channel: channel.key } as NotificationPayload;
    const timeoutMs = this.timeoutOf(channel);
    const controller = new AbortController();
    const context: SendContext = {
      signal: controller.signal,
      timeoutMs,
      appVersion: this.options.appVersion,
      telegramApiBaseUrl: this.options.telegramApiBaseUrl,
      webPushSubscriptions: {
        list: () => this.options.store.notifications.listSubscriptions(),
        remove: async (endpoint) => void (await this.options.store.notifications.deleteSubscription(endpoint)),
      },
    };
    const message = channelMessage(payload, (settings[channel.key] as { template?: never }).template);
    // A channel that ignores the signal still cannot hold the delivery past its deadline.
    await withDeadline(channel.send(channel.render(message, stored), stored, context), timeoutMs, () => {
      controller.abort();
      return new Error(`timed out after ${timeoutMs} ms`);
    });
  }

  /** `notify: webhook=ok` / `notify: telegram=failed error=…` on the job, and a warning in the server log. */
  private async report(delivery: Pick<NotificationDelivery, 'id' | 'channel' | 'kind' | 'maxAttempts' | 'jobId'>, attempt: number, error: string | undefined, retryIn: number | undefined): Promise<void> {
    const of = delivery.maxAttempts > 1 && (attempt > 1 || error !== undefined) ? ` (attempt ${attempt}/${delivery.maxAttempts}` : '';
    const next = error === undefined || delivery.maxAttempts === 1 ? '' : retryIn !== undefined ? `; retry in ${Math.round(retryIn / 1000)}s` : '; giving up';
    const suffix = of ? `${of}${next})` : '';
    const line = error === undefined ? `notify: ${delivery.channel}=ok${suffix}` : `notify: ${delivery.channel}=failed error=${error}${suffix}`;
    if (error !== undefined) {
      this.options.logger.warn({ deliveryId: delivery.id, channel: delivery.channel, kind: delivery.kind, jobId: delivery.jobId, attempt, error }, 'notification send failed');
    }
    if (!delivery.jobId) return;
    try {
      await this.options.store.jobs.appendLog(delivery.jobId, error === undefined ? 'info' : 'warn', line);
    } catch (failure) {
      this.options.logger.debug({ err: failure, jobId: delivery.jobId }, 'cannot log a notification result on its job');
    }
  }

  private timeoutOf(channel: AnyChannel): number {
    return this.options.timeoutsMs?.[channel.key] ?? channel.timeoutMs;
  }

  private longestTimeout(): number {
    return Math.max(...CHANNELS.map((channel) => this.timeoutOf(channel)));
  }
}
