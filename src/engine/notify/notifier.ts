// Notifications as subscribers of engine events: finished update jobs (`job_finished`), scheduled
// or pushed checks that found new versions (`new_version_discovered`) and GitHub webhook audit
// anomalies (`ghcr_webhook_anomaly`). Nothing on the check or update path calls in here; a channel
// that is slow or down only ever delays this subscriber.
import type { Logger } from 'pino';
import type { NotificationEventSwitches, NotificationSettings, Store } from '../../store/index.js';
import { nowIso } from '../../time.js';
import type { CheckFinishedEvent, EngineEvents, GhcrWebhookAnomalyEvent, JobFinishedEvent } from '../events.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { ChannelKey } from './channels/channel.js';
import { CHANNELS, channelNamed } from './channels/index.js';
import { Dispatcher, type ChannelResult, type DispatcherOptions } from './dispatcher.js';
import type { VersionInferenceSettling } from './inference.js';
import { planJobNotification } from './job-finished.js';
import { announcesNewVersions, planNewVersions } from './new-versions.js';
import { anomalyPayload, jobPayload, newVersionPayload, testPayload, type PayloadContext } from './payload.js';

export interface NotifierOptions extends Omit<DispatcherOptions, 'store' | 'logger'> {
  store: Store;
  logger: Logger;
  events: EngineEvents;
  /** Runs the retries; without one (tests) call `retryDue` yourself. */
  scheduler?: Scheduler;
  /** How often the retry task looks for due deliveries. */
  retryScanSeconds?: number;
  inference?: VersionInferenceSettling;
  inferenceWaitMs?: number;
}

export interface TestNotificationInput {
  message?: string | null;
  channel?: string | null;
}

/** The channels that send this kind of event: enabled, with the switch on (the channel's own, else the default). */
export function channelsFor(settings: NotificationSettings, event: keyof NotificationEventSwitches): ChannelKey[] {
  return CHANNELS.filter((channel) => {
    const own = settings[channel.key];
    return own.enabled && (own.events?.[event] ?? settings.events[event]);
  }).map((channel) => channel.key);
}

export class Notifier {
  readonly dispatcher: Dispatcher;

  constructor(private readonly options: NotifierOptions) {
    this.dispatcher = new Dispatcher(options);
    const { events, scheduler } = options;
    events.on('job.finished', (event) => (event.type === 'update' ? this.onUpdateFinished(event) : undefined));
    events.on('check.finished', (event) => this.onCheckFinished(event));
    events.on('ghcr_webhook.anomaly', (event) => this.onAnomaly(event));
    scheduler?.add({
      name: 'notification-retries',
      runAtStart: true,
      schedule: () => ({ everySeconds: options.retryScanSeconds ?? 30 }),
      run: () => this.dispatcher.retryDue(),
    });
  }

  /** `POST /api/notifications/test`: one channel (even disabled) or every enabled one; switches do not apply. */
  async sendTest(input: TestNotificationInput): Promise<Partial<Record<ChannelKey, ChannelResult>>> {
    const requested = input.channel ? channelNamed(input.channel) : undefined;
    const settings = await this.options.store.notifications.getSettings();
    const channels = requested ? [requested] : CHANNELS.filter((channel) => settings[channel.key].enabled);
    const context = await this.payloadContext();
    const results = await Promise.all(
      channels.map(async (channel) => {
        const payload = testPayload({ message: input.message, requestedChannel: requested?.key ?? null, channel: channel.key, label: channel.label }, context);
        const [result] = await this.dispatcher.send({ kind: 'notification_test', payload, channels: [channel.key], maxAttempts: 1 });
        return [channel.key, result!] as const;
      }),
    );
    return Object.fromEntries(results);
  }

  private async payloadContext(): Promise<PayloadContext> {
    const system = await this.options.store.settings.getSystem();
    return { appVersion: this.options.appVersion, publicBaseUrl: system.instance.publicBaseUrl ?? undefined, sentAt: nowIso() };
  }

  private async onUpdateFinished(event: Readonly<JobFinishedEvent>): Promise<void> {
    const { store } = this.options;
    const channels = channelsFor(await store.notifications.getSettings(), 'update');
    if (channels.length === 0) return;
    const plan = await planJobNotification(store, event);
    if ('skip' in plan) {
      await store.jobs.appendLog(event.jobId, 'info', `notify skipped (${plan.skip})`).catch(() => undefined);
      return;
    }
    await this.dispatcher.send({ kind: 'job_finished', jobId: event.jobId, payload: jobPayload(plan.input, await this.payloadContext()), channels });
  }

  private async onCheckFinished(event: Readonly<CheckFinishedEvent>): Promise<void> {
    if (!announcesNewVersions(event) || event.newCandidates.length === 0) return;
    const { store, logger, inference, inferenceWaitMs } = this.options;
    const channels = channelsFor(await store.notifications.getSettings(), 'newVersion');
    if (channels.length === 0) return;
    const plan = await planNewVersions({ store, logger, inference, inferenceWaitMs }, event);
    if (plan.skipped) await store.jobs.appendLog(event.jobId, 'info', plan.skipped).catch(() => undefined);
    if (plan.services.length === 0) return;
    const payload = newVersionPayload(
      { check: { jobId: event.jobId, status: 'success', scope: event.scope, servicesChecked: event.servicesChecked }, services: plan.services },
      await this.payloadContext(),
    );
    await this.dispatcher.send({ kind: 'new_version_discovered', jobId: event.jobId, payload, channels });
  }

  private async onAnomaly(event: Readonly<GhcrWebhookAnomalyEvent>): Promise<void> {
    if (event.repos.length === 0) return;
    const channels = channelsFor(await this.options.store.notifications.getSettings(), 'ghcrWebhookAnomaly');
    if (channels.length === 0) return;
    const job = await this.options.store.jobs.get(event.jobId);
    const payload = anomalyPayload({ jobId: event.jobId, status: job?.status ?? 'success', repos: event.repos.map((repo) => ({ ...repo })) }, await this.payloadContext());
    await this.dispatcher.send({ kind: 'ghcr_webhook_anomaly', jobId: event.jobId, payload, channels });
  }
}
