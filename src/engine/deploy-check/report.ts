// `GET /api/deploy-check/report`: whether this deployment can do its work, check by check, in the
// order of behaviour.md §C.15. Read-only: it creates no job and sends nothing; every probe of
// something outside the process (Docker, Compose, files) is bounded by
// DOCKREV_DEPLOY_CHECK_LOCAL_COMMAND_TIMEOUT_SECONDS, and the independent ones run at once.
import { nowIso } from '../../time.js';
import type { DeployCheckItem, DeployCheckReport } from './check.js';
import {
  authorizationConfigCheck,
  composeAccessCheck,
  dockerEngineCheck,
  imageRefsCheck,
  requestAuthorizationCheck,
  trustedProxiesCheck,
  updateExecutorCheck,
  type CoreCheckDeps,
  type RequestAuthorization,
} from './core.js';
import { githubPackagesCheck, notificationChecks, registryAuthCheck, type FeatureCheckDeps } from './features.js';

export type { RequestAuthorization } from './core.js';
export type { DeployCheckReport } from './check.js';

export type DeployCheckDeps = CoreCheckDeps & FeatureCheckDeps;

export async function deployCheckReport(deps: DeployCheckDeps, request: RequestAuthorization): Promise<DeployCheckReport> {
  // A probe that fails is a failed check; a store that fails fails the report (it could not be trusted).
  const [docker, compose, images, executor, registry, notifications, github] = await Promise.all([
    dockerEngineCheck(deps),
    composeAccessCheck(deps),
    imageRefsCheck(deps),
    updateExecutorCheck(deps),
    registryAuthCheck(deps),
    notificationChecks(deps),
    githubPackagesCheck(deps),
  ]);
  const checks: DeployCheckItem[] = [
    authorizationConfigCheck(request),
    requestAuthorizationCheck(request),
    trustedProxiesCheck(deps.config.auth),
    docker,
    compose,
    images,
    executor,
    registry,
    ...notifications,
    github,
  ];
  const blockingCheckIds = checks.filter((check) => check.required && check.status === 'fail').map((check) => check.id);
  return {
    generatedAt: nowIso(),
    overall: {
      result: blockingCheckIds.length > 0 ? 'fail' : 'pass',
      blockingCheckIds,
      summary: blockingCheckIds.length > 0 ? 'At least one required capability is unavailable' : 'All required capabilities are available',
    },
    checks,
  };
}
