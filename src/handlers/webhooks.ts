import type { HandlerMap } from '../http/handler-types.js';
import { notImplemented } from './not-implemented.js';

export const webhooksHandlers: Pick<HandlerMap, 'triggerWebhook' | 'receiveGithubPackagesWebhook'> = {
  triggerWebhook: notImplemented('triggerWebhook'),
  receiveGithubPackagesWebhook: notImplemented('receiveGithubPackagesWebhook'),
};
