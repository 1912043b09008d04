import type { HandlerMap } from '../http/handler-types.js';
import { notImplemented } from './not-implemented.js';

type GithubPackagesHandlers = Pick<
  HandlerMap,
  | 'getGithubPackagesSettings'
  | 'putGithubPackagesSettings'
  | 'listGithubPackagesRepos'
  | 'setGithubPackagesRepoSelected'
  | 'deleteGithubPackagesRepo'
  | 'bulkSetGithubPackagesReposSelected'
  | 'addGithubPackagesTarget'
  | 'removeGithubPackagesTarget'
  | 'resolveGithubPackagesInput'
  | 'getGithubPackagesWebhookOverview'
  | 'streamGithubPackagesWebhookDeliveries'
  | 'syncAllGithubPackagesWebhooks'
  | 'syncGithubPackagesWebhookRepo'
  | 'syncGithubPackages'
>;

export const githubPackagesHandlers: GithubPackagesHandlers = {
  getGithubPackagesSettings: notImplemented('getGithubPackagesSettings'),
  putGithubPackagesSettings: notImplemented('putGithubPackagesSettings'),
  listGithubPackagesRepos: notImplemented('listGithubPackagesRepos'),
  setGithubPackagesRepoSelected: notImplemented('setGithubPackagesRepoSelected'),
  deleteGithubPackagesRepo: notImplemented('deleteGithubPackagesRepo'),
  bulkSetGithubPackagesReposSelected: notImplemented('bulkSetGithubPackagesReposSelected'),
  addGithubPackagesTarget: notImplemented('addGithubPackagesTarget'),
  removeGithubPackagesTarget: notImplemented('removeGithubPackagesTarget'),
  resolveGithubPackagesInput: notImplemented('resolveGithubPackagesInput'),
  getGithubPackagesWebhookOverview: notImplemented('getGithubPackagesWebhookOverview'),
  streamGithubPackagesWebhookDeliveries: notImplemented('streamGithubPackagesWebhookDeliveries'),
  syncAllGithubPackagesWebhooks: notImplemented('syncAllGithubPackagesWebhooks'),
  syncGithubPackagesWebhookRepo: notImplemented('syncGithubPackagesWebhookRepo'),
  syncGithubPackages: notImplemented('syncGithubPackages'),
};
