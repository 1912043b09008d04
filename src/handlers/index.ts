import type { HandlerMap } from '../http/handler-types.js';
import { checksHandlers } from './checks.js';
import { coreHandlers } from './core.js';
import { deployHandlers } from './deploy.js';
import { discoveryHandlers } from './discovery.js';
import { githubPackagesHandlers } from './github-packages.js';
import { ignoresHandlers } from './ignores.js';
import { jobsHandlers } from './jobs.js';
import { notificationsHandlers } from './notifications.js';
import { registryWebhooksHandlers } from './registry-webhooks.js';
import { servicesHandlers } from './services.js';
import { settingsHandlers } from './settings.js';
import { stacksHandlers } from './stacks.js';
import { updatesHandlers } from './updates.js';
import { versionInferenceHandlers } from './version-inference.js';
import { webPushHandlers } from './web-push.js';
import { webhooksHandlers } from './webhooks.js';

/** Every operation of the contract; a missing one is a compile error. */
export const handlers: HandlerMap = {
  ...coreHandlers,
  ...stacksHandlers,
  ...servicesHandlers,
  ...versionInferenceHandlers,
  ...discoveryHandlers,
  ...checksHandlers,
  ...updatesHandlers,
  ...jobsHandlers,
  ...ignoresHandlers,
  ...notificationsHandlers,
  ...settingsHandlers,
  ...githubPackagesHandlers,
  ...webPushHandlers,
  ...webhooksHandlers,
  ...deployHandlers,
  ...registryWebhooksHandlers,
};
