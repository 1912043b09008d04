// The core checks of the deploy report: what Dockrev cannot work without (behaviour.md §C.15).
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { unguardedIdentityWarning, type Config } from '../../config.js';
import { errorText } from '../../errors.js';
import type { Store } from '../../store/index.js';
import { serviceImageRef } from '../check/checker.js';
import { cliEnvironment, runChecked } from '../docker/compose.js';
import type { DockerEngine } from '../docker/index.js';
import { failed, list, passed, warned, within, type DeployCheckItem } from './check.js';

/** The forward-auth side as the request that asks for the report saw it (computed by the transport). */
export interface RequestAuthorization {
  authorizationMode: 'user_or_group' | 'user_only' | 'group_only' | 'none';
  forwardHeaderName: string;
  groupHeaderName: string;
  allowAnonymousInDev: boolean;
  allowedUserMasked?: string;
  allowedGroupMasked?: string;
  currentUser?: string;
  /** Masked, as the settings show them. */
  currentGroups: string[];
  matchedBy?: 'user' | 'group' | 'anonymous_dev';
}

export interface CoreCheckDeps {
  config: Pick<Config, 'composeBin' | 'dockerHost' | 'deployCheckCommandTimeoutSeconds' | 'auth'>;
  store: Store;
  docker: Pick<DockerEngine, 'info'>;
}

export function authorizationConfigCheck(auth: RequestAuthorization): DeployCheckItem {
  const id = 'core.forward_auth_authorization_config';
  const title = 'Forward-auth allowlist';
  const evidence = [
    `mode=${auth.authorizationMode}`,
    `allowedUser=${auth.allowedUserMasked ?? 'unset'}`,
    `allowedGroup=${auth.allowedGroupMasked ?? 'unset'}`,
    `forwardHeader=${auth.forwardHeaderName}`,
    `groupHeader=${auth.groupHeaderName}`,
    `allowAnonymousInDev=${auth.allowAnonymousInDev}`,
  ].join('; ');
  if (auth.authorizationMode !== 'none') {
    return passed(id, 'core', true, {
      title,
      summary: 'Only the allow-listed user or group may use Dockrev',
      impact: 'Requests without an allowed identity from the proxy are refused.',
      evidence,
      recommendation: 'None.',
    });
  }
  return failed(id, 'core', {
    title,
    summary: 'No user or group is allow-listed',
    impact: auth.allowAnonymousInDev
      ? 'Anyone who can reach Dockrev may update the services of this host.'
      : 'Requests are refused or admitted without a configured rule.',
    evidence,
    recommendation: 'Set DOCKREV_AUTH_ALLOWED_USER or DOCKREV_AUTH_ALLOWED_GROUP to the identity your forward-auth proxy sends.',
  });
}

/** Whether the identity headers can only come from the proxy (issue 15, defect 7). */
export function trustedProxiesCheck(auth: Config['auth']): DeployCheckItem {
  const id = 'core.forward_auth_trusted_proxies';
  const title = 'Identity headers only from the proxy';
  const evidence = `trustedProxies=${auth.trustedProxies ? list(auth.trustedProxies) : 'unset'}; allowlist=${auth.allowedUser || auth.allowedGroup ? 'set' : 'unset'}`;
  const impact = 'Whoever can send the identity headers is whoever Dockrev admits.';
  const warning = unguardedIdentityWarning(auth);
  if (warning) {
    return warned(id, 'core', false, {
      title,
      summary: 'Any client that reaches the port can claim an allowed identity',
      impact,
      evidence,
      recommendation: 'Set DOCKREV_AUTH_TRUSTED_PROXIES to the address or range of your forward-auth proxy and publish the port only to it.',
    });
  }
  return passed(id, 'core', false, {
    title,
    summary: auth.trustedProxies ? 'Identity headers are honoured only from the trusted proxies' : 'No allowlist: identity headers decide nothing yet',
    impact,
    evidence,
    recommendation: 'None.',
  });
}

export function requestAuthorizationCheck(auth: RequestAuthorization): DeployCheckItem {
  const id = 'core.forward_auth_request_authorization';
  const title = 'This request was authorized';
  const evidence = `currentUser=${auth.currentUser ?? 'none'}; currentGroups=${list(auth.currentGroups)}; matchedBy=${auth.matchedBy ?? 'none'}`;
  const text = { title, impact: 'The identity headers your proxy sends decide who may use Dockrev.', evidence };
  if (auth.matchedBy === 'anonymous_dev') {
    return warned(id, 'core', true, {
      ...text,
      summary: 'Admitted without an identity (development bypass)',
      recommendation: 'Configure an allowlist and send the identity headers from the proxy.',
    });
  }
  return passed(id, 'core', true, { ...text, summary: `Admitted by ${auth.matchedBy ?? 'forward auth'}`, recommendation: 'None.' });
}

export async function dockerEngineCheck(deps: CoreCheckDeps): Promise<DeployCheckItem> {
  const id = 'core.docker_engine';
  const title = 'Docker engine reachable';
  const impact = 'Without the engine Dockrev can neither discover nor update anything.';
  try {
    const info = await within(deps.config.deployCheckCommandTimeoutSeconds * 1000, 'docker info', deps.docker.info());
    return passed(id, 'core', true, {
      title,
      summary: 'docker info succeeded',
      impact,
      evidence: `serverVersion=${info.serverVersion}; os=${info.osType}/${info.architecture}; operatingSystem=${info.operatingSystem}`,
      recommendation: 'None.',
    });
  } catch (error) {
    return failed(id, 'core', {
      title,
      summary: 'The Docker engine did not answer',
      impact,
      evidence: `dockerHost=${deps.config.dockerHost ?? 'unix:///var/run/docker.sock'}; error=${errorText(error)}`,
      recommendation: 'Mount the Docker socket (or set DOCKER_HOST) and make sure Dockrev may use it.',
    });
  }
}

async function unreadable(path: string): Promise<string | undefined> {
  if (!isAbsolute(path)) return `${path} (not absolute)`;
  try {
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return `${path} (${(error as NodeJS.ErrnoException).code ?? errorText(error)})`;
  }
}

export async function composeAccessCheck(deps: CoreCheckDeps): Promise<DeployCheckItem> {
  const id = 'core.compose_access';
  const title = 'Compose files readable';
  const impact = 'Updates run Compose with the project files; an unreadable file fails the update.';
  const [stacks, projects] = await Promise.all([deps.store.stacks.list('exclude'), deps.store.discoveryProjects.list('exclude')]);
  const files = [
    ...new Set([
      ...stacks.flatMap((stack) => [...stack.compose.composeFiles, ...(stack.compose.envFile ? [stack.compose.envFile] : [])]),
      ...projects.flatMap((project) => project.configFiles ?? []),
    ]),
  ];
  if (files.length === 0) {
    return failed(id, 'core', {
      title,
      summary: 'No Compose project is known yet',
      impact,
      evidence: `stacks=${stacks.length}; discoveredProjects=${projects.length}; files=0`,
      recommendation: 'Start a Compose project on this host and run a discovery scan.',
    });
  }
  let problems: string[];
  try {
    const checked = await within(deps.config.deployCheckCommandTimeoutSeconds * 1000, 'file access', Promise.all(files.map(unreadable)));
    problems = checked.filter((problem): problem is string => problem !== undefined);
  } catch (error) {
    problems = [`(${errorText(error)})`];
  }
  const evidence = `stacks=${stacks.length}; discoveredProjects=${projects.length}; files=${files.length}; unreadable=${list(problems)}`;
  if (problems.length > 0) {
    return failed(id, 'core', {
      title,
      summary: `${problems.length} of ${files.length} Compose or env files cannot be read`,
      impact,
      evidence,
      recommendation: 'Mount the project folders into the Dockrev container at the same absolute paths, readable.',
    });
  }
  return passed(id, 'core', true, { title, summary: `All ${files.length} Compose and env files are readable`, impact, evidence, recommendation: 'None.' });
}

export async function imageRefsCheck(deps: CoreCheckDeps): Promise<DeployCheckItem> {
  const id = 'core.service_image_ref_valid';
  const title = 'Service image references valid';
  const impact = 'A service whose image reference does not parse can be neither checked nor updated.';
  const [services, stacks] = await Promise.all([deps.store.services.list('exclude'), deps.store.stacks.list('exclude')]);
  const stackNames = new Map(stacks.map((stack) => [stack.id, stack.name]));
  const active = services.filter((service) => stackNames.has(service.stackId));
  const invalid = active.filter((service) => !serviceImageRef(service)).map((service) => `${stackNames.get(service.stackId)}/${service.name}: ${service.image.ref}:${service.image.tag}`);
  const evidence = `services=${active.length}; invalid=${list(invalid)}`;
  if (invalid.length > 0) {
    return failed(id, 'core', {
      title,
      summary: `${invalid.length} service image reference(s) do not parse`,
      impact,
      evidence,
      recommendation: 'Fix the image: lines of those services (registry/repository:tag).',
    });
  }
  return passed(id, 'core', true, { title, summary: `All ${active.length} service image references parse`, impact, evidence, recommendation: 'None.' });
}

export async function updateExecutorCheck(deps: CoreCheckDeps): Promise<DeployCheckItem> {
  const id = 'core.update_executor_ready';
  const title = 'Compose CLI ready';
  const impact = 'Updates pull and recreate services with Compose; without it no update can run.';
  const [program, ...args] = deps.config.composeBin;
  const timeoutMs = deps.config.deployCheckCommandTimeoutSeconds * 1000;
  const command = [...deps.config.composeBin, 'version'].join(' ');
  try {
    const quiet = { log: async () => undefined };
    const result = await within(timeoutMs, command, runChecked(program!, [...args, 'version'], { log: quiet, env: cliEnvironment({ dockerHost: deps.config.dockerHost }), timeoutMs }));
    const version = (result.stdout.trim().split('\n')[0] ?? '').trim();
    return passed(id, 'core', true, { title, summary: `${command} succeeded`, impact, evidence: `composeBin=${deps.config.composeBin.join(' ')}; version=${version}`, recommendation: 'None.' });
  } catch (error) {
    return failed(id, 'core', {
      title,
      summary: `${command} failed`,
      impact,
      evidence: `composeBin=${deps.config.composeBin.join(' ')}; error=${errorText(error)}`,
      recommendation: 'Install docker-compose (or the docker compose plugin) and set DOCKREV_COMPOSE_BIN.',
    });
  }
}
