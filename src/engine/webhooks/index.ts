// Registry push receivers' engine side (distribution, Harbor, Docker Hub, Quay): their settings,
// the deliveries, the checks they ask for, and the Quay notifications Dockrev manages.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DomainError } from '../../errors.js';
import type { Job, RegistryDeliveryQuery, RegistryWebhookSettings, Service, Store } from '../../store/index.js';
import type { PushOrigin } from '../check/push.js';
import type { JobOrigin } from '../check/targets.js';
import type { JobRunner } from '../jobs/runner.js';
import type { RegistryHosts } from '../registry/hosts/index.js';
import type { Scheduler } from '../schedule/scheduler.js';
import { PushCoalescer } from './coalescer.js';
import { QuayNotifications, type QuayNotificationsOp } from './quay/notifications.js';
import { RegistryPushReceiver, type PushReceipt } from './receiver.js';
import { putRegistryWebhookSettings, type RegistryWebhookSettingsInput, type RevealedTokens } from './settings.js';
import type { RegistryWebhookSource } from './sources.js';

export { QUAY_JOB_TYPE } from './quay/notifications.js';
export type { PushReceipt } from './receiver.js';
export type { RegistryWebhookSettingsInput, RevealedTokens } from './settings.js';
export { callbackUrl, SOURCE_TOKEN_PLACEMENT, TOKEN_MASK, type RegistryWebhookSource, type TokenPlacement } from './sources.js';

export interface RegistryWebhooksDeps {
  store: Store;
  jobs: JobRunner;
  hosts: RegistryHosts;
  scheduler: Scheduler;
  logger: Logger;
  checkForPush(serviceIds: readonly string[], origin: PushOrigin): Promise<{ serviceId: string; job: Job; reused: boolean }[]>;
  servicesUsing(repositoryKey: string, tag: string): Promise<Service[]>;
}

/** Deliveries are kept this long, and at most this many. */
const DELIVERY_RETENTION_MS = 30 * 24 * 60 * 60_000;
const DELIVERY_RETENTION_COUNT = 10_000;
/** Event keys are needed for de-duplication only (the longest window is a day). */
const SEEN_KEY_RETENTION_MS = 24 * 60 * 60_000;
/** A check another instance runs is looked at this often, for at most the stale-check age. */
const FOREIGN_JOB_POLL_MS = 1_000;
const FOREIGN_JOB_WAIT_MS = 2 * 60 * 60_000;
const DELIVERY_ID = /^rwd_[0-9A-HJKMNP-TV-Z]{26}$/;

export class RegistryWebhooks {
  readonly quay: QuayNotifications;
  private readonly coalescer: PushCoalescer;
  private readonly receiver: RegistryPushReceiver;
  private stopped = false;

  constructor(private readonly deps: RegistryWebhooksDeps) {
    const { store, logger } = deps;
    this.coalescer = new PushCoalescer({
      checkForPush: async (serviceId, origin) => (await deps.checkForPush([serviceId], origin))[0]!,
      finished: (jobId) => this.finished(jobId),
      service: (serviceId) => store.services.get(serviceId),
      logger,
    });
    this.receiver = new RegistryPushReceiver({ store, servicesUsing: deps.servicesUsing, coalescer: this.coalescer, logger });
    this.quay = new QuayNotifications({ store, jobs: deps.jobs, hosts: deps.hosts });
    deps.scheduler.add({
      name: 'quay-notification-audit',
      schedule: async () => {
        const settings = await store.registryWebhooks.getSettings();
        if (!settings.quay.audit.enabled) return undefined;
        try {
          this.quay.managed(settings, await store.settings.getSystem());
        } catch {
          return undefined;
        }
        return { cron: settings.quay.audit.cron };
      },
      run: async () => {
        const { job } = await this.quay.start('audit', { createdBy: 'schedule', reason: 'schedule' });
        await deps.jobs.settled(job.id);
      },
    });
    deps.scheduler.add({ name: 'registry-webhook-retention', schedule: () => ({ everySeconds: 3600 }), runAtStart: true, run: () => this.prune() });
  }

  /** The token a source accepts; undefined while it is disabled (or has none), so nothing is accepted. */
  async acceptedToken(source: RegistryWebhookSource): Promise<string | undefined> {
    const { enabled, token } = (await this.deps.store.registryWebhooks.getSettings()).sources[source];
    return enabled && token ? token : undefined;
  }

  /** One authenticated delivery: recorded, and checks of exactly the services it concerns. */
  receive(source: RegistryWebhookSource, body: unknown, rawBody: Buffer): Promise<PushReceipt> {
    return this.receiver.receive(source, body, rawBody);
  }

  async settings(): Promise<{ settings: RegistryWebhookSettings; publicBaseUrl: string | null }> {
    const settings = await this.deps.store.registryWebhooks.getSettings();
    return { settings, publicBaseUrl: (await this.deps.store.settings.getSystem()).instance.publicBaseUrl };
  }

  putSettings(body: RegistryWebhookSettingsInput): Promise<RevealedTokens> {
    return putRegistryWebhookSettings(this.deps.store, body);
  }

  /** The delivery log, newest first; `cursor` is a page's `nextCursor`. */
  deliveries(query: Omit<RegistryDeliveryQuery, 'before'> & { cursor?: string }): ReturnType<Store['registryWebhooks']['listDeliveries']> {
    const { cursor, ...filters } = query;
    if (cursor !== undefined && !DELIVERY_ID.test(cursor)) throw new DomainError('invalid_input', 'invalid deliveries cursor', { field: 'cursor' });
    return this.deps.store.registryWebhooks.listDeliveries({ ...filters, before: cursor });
  }

  startQuayNotifications(op: QuayNotificationsOp, origin: JobOrigin): Promise<{ job: Job; reused: boolean }> {
    return this.quay.start(op, origin);
  }

  /** No follow-up check starts after this; resolves when the ones in flight have and verifications are written. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.coalescer.stop();
    await this.receiver.drain();
  }

  /** Tests: every follow-up check and verification started so far is done. */
  async settled(): Promise<void> {
    await this.coalescer.settled();
    await this.receiver.drain();
  }

  /** A check's final row: this instance's from its runner, another instance's by polling. */
  private async finished(jobId: string): Promise<Job | undefined> {
    await this.deps.jobs.settled(jobId);
    const deadline = Date.now() + FOREIGN_JOB_WAIT_MS;
    for (;;) {
      const job = await this.deps.store.jobs.get(jobId);
      if (!job || (job.status !== 'running' && job.status !== 'queued') || this.stopped || Date.now() > deadline) return job;
      await sleep(FOREIGN_JOB_POLL_MS);
    }
  }

  private async prune(): Promise<void> {
    const now = Date.now();
    const removed = await this.deps.store.registryWebhooks.prune(
      new Date(now - DELIVERY_RETENTION_MS).toISOString(),
      DELIVERY_RETENTION_COUNT,
      new Date(now - SEEN_KEY_RETENTION_MS).toISOString(),
    );
    if (removed.deliveries > 0 || removed.keys > 0) this.deps.logger.info(removed, 'registry webhook deliveries pruned');
  }
}
