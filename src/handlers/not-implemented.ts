import type { operations } from '../generated/dockrev.js';
import { envelope } from '../http/errors.js';
import type { Handler, OperationId } from '../http/handler-types.js';

/**
 * Operations that are in the contract but not built yet. Each documents a 501 response, and the
 * contract tests fail when this list and the spec's 501s disagree, so the list only shrinks.
 */
export const NOT_IMPLEMENTED = [
  'getServiceDigestTags',
  'getServiceDigestTagsSnapshot',
  'refreshServiceVersionInference',
  'getVersionInferenceOverview',
  'streamVersionInferenceEvents',
  'sendTestNotification',
  'getGithubPackagesSettings',
  'putGithubPackagesSettings',
  'listGithubPackagesRepos',
  'setGithubPackagesRepoSelected',
  'deleteGithubPackagesRepo',
  'bulkSetGithubPackagesReposSelected',
  'addGithubPackagesTarget',
  'removeGithubPackagesTarget',
  'resolveGithubPackagesInput',
  'getGithubPackagesWebhookOverview',
  'streamGithubPackagesWebhookDeliveries',
  'syncAllGithubPackagesWebhooks',
  'syncGithubPackagesWebhookRepo',
  'syncGithubPackages',
  'receiveGithubPackagesWebhook',
  'getDeployCheckReport',
] as const satisfies readonly OperationId[];

type NotImplementedId = (typeof NOT_IMPLEMENTED)[number];

/** A handler answering 501; only compiles for operations whose spec documents the 501. */
export function notImplemented<K extends NotImplementedId>(
  operationId: K & (501 extends keyof operations[K]['responses'] ? K : never),
): Handler<operations[K]> {
  const handler = async () => ({
    status: 501 as const,
    body: envelope('not_implemented', `${operationId} is not implemented yet`, { operationId }),
  });
  return handler as unknown as Handler<operations[K]>;
}
