import { access, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ComposeConfig, NewService, StackWithServices, Store } from '../../store/index.js';
import { SerialLock } from '../../concurrency.js';
import { toIso } from '../../time.js';
import { COMPOSE_LABELS, type ComposeContainer, type DockerEngine } from '../docker/index.js';
import {
  ComposeFileError,
  mergeComposeServices,
  parseComposeServices,
  sameHomepage,
  servicesFromCompose,
  type ComposeServices,
} from './compose-file.js';
import { normalizeConfigFiles, resolveConfigFiles, sameList } from './config-files.js';
import { parseEnvFile } from './env-file.js';
import { errorText } from '../../errors.js';
import { projectExcludedByLabels, scopeServices, type DiscoveryScope, type ExcludedService } from './scope.js';

export type DiscoveryActionKind = 'created' | 'updated' | 'skipped' | 'failed' | 'marked_missing';

export interface DiscoveryAction {
  project: string;
  action: DiscoveryActionKind;
  stackId?: string;
  reason?: string;
  details?: Record<string, unknown>;
  /** What the scan ignored and why (e.g. a `dockrev.enable` label with an invalid value). */
  warnings?: string[];
}

/** The reason of a project none of whose services Dockrev manages; its stack is archived with it. */
export const EXCLUDED_REASON = 'excluded';

export interface DiscoveryScanSummary {
  projectsSeen: number;
  stacksCreated: number;
  stacksUpdated: number;
  stacksSkipped: number;
  stacksFailed: number;
  stacksMarkedMissing: number;
}

/** The `DiscoveryScanResult` of the API: stored as `summary.scan` of a discovery job. */
export interface DiscoveryScanResult {
  startedAt: string;
  durationMs: number;
  summary: DiscoveryScanSummary;
  /** At most `maxActions` entries; the summary counts every project. */
  actions: DiscoveryAction[];
}

export interface DiscoveryScanOptions {
  docker: Pick<DockerEngine, 'listComposeContainers'>;
  store: Pick<Store, 'stacks' | 'discoveryProjects'>;
  maxActions: number;
  /** Which services are managed; default: every one but Dockrev's own default image. */
  scope?: DiscoveryScope;
  now?: () => Date;
}

const DEFAULT_SCOPE: DiscoveryScope = { requireLabel: false, selfImageRepo: 'ghcr.io/ivanli-cn/dockrev' };

/**
 * Finds the running Compose projects and makes stacks, services and discovery projects match them
 * (behaviour.md §E.1). Problems with one project make that project `invalid`; an unreachable
 * Docker engine throws DockerUnavailableError before anything is written. Callers that may scan
 * concurrently go through a {@link DiscoveryScanner}.
 */
export function runDiscoveryScan(options: DiscoveryScanOptions): Promise<DiscoveryScanResult> {
  return scan(options);
}

/** Runs the scans of one process (API, periodic loop, webhook fallback) one at a time. */
export class DiscoveryScanner {
  private readonly lock = new SerialLock();

  constructor(private readonly options: DiscoveryScanOptions) {}

  scan(): Promise<DiscoveryScanResult> {
    return this.lock.run(() => scan(this.options));
  }
}

const UNREADABLE_HINT = '(mount missing? ensure host path is mounted read-only at the same absolute path)';

interface ProjectCompose {
  composeFiles: string[];
  envFile?: string;
  services: NewService[];
  /** Each service's labels as the Compose files declare them. */
  declaredLabels: Map<string, Record<string, string>>;
}

interface ProjectFailure {
  reason: string;
  details: Record<string, unknown>;
  composeFiles?: string[];
}

type ProjectReading = { ok: true; compose: ProjectCompose } | ({ ok: false } & ProjectFailure);

async function scan({ docker, store, maxActions, scope = DEFAULT_SCOPE, now = () => new Date() }: DiscoveryScanOptions): Promise<DiscoveryScanResult> {
  const started = now();
  const scanAt = toIso(started);
  const containersByProject = groupByProject(await docker.listComposeContainers());

  const summary: DiscoveryScanSummary = {
    projectsSeen: 0, stacksCreated: 0, stacksUpdated: 0, stacksSkipped: 0, stacksFailed: 0, stacksMarkedMissing: 0,
  };
  const actions: DiscoveryAction[] = [];
  for (const [project, containers] of containersByProject) {
    summary.projectsSeen += 1;
    const action = await discoverProject(store, project, containers, scope, scanAt);
    actions.push(action);
    if (action.action === 'created') summary.stacksCreated += 1;
    else if (action.action === 'updated') summary.stacksUpdated += 1;
    else if (action.action === 'skipped') summary.stacksSkipped += 1;
    else summary.stacksFailed += 1;
  }

  const unseen = (await store.discoveryProjects.list('include')).filter((known) => !containersByProject.has(known.project));
  const newlyMissing = new Set(await store.discoveryProjects.markMissing(unseen.map((known) => known.project), scanAt));
  for (const known of unseen.filter((candidate) => newlyMissing.has(candidate.project))) {
    summary.stacksMarkedMissing += 1;
    actions.push({ project: known.project, action: 'marked_missing', ...(known.stackId ? { stackId: known.stackId } : {}) });
  }

  return {
    startedAt: scanAt,
    durationMs: Math.max(0, now().getTime() - started.getTime()),
    summary,
    actions: actions.slice(0, Math.max(0, maxActions)),
  };
}

/** One project: left out by its labels before its files are read, or read, scoped and reconciled. */
async function discoverProject(
  store: DiscoveryScanOptions['store'],
  project: string,
  containers: readonly ComposeContainer[],
  scope: DiscoveryScope,
  scanAt: string,
): Promise<DiscoveryAction> {
  const early = projectExcludedByLabels(containers, scope);
  if (early) return withWarnings(await recordExcludedProject(store, project, early.excluded, scanAt), early.warnings);
  const reading = await readProject(containers);
  if (!reading.ok) return recordInvalidProject(store, project, reading, scanAt);
  const running = new Map(containers.map((container) => [container.service, container.labels]));
  const scoped = scopeServices(reading.compose.services, { running, declared: reading.compose.declaredLabels }, scope);
  if (scoped.included.length === 0) return withWarnings(await recordExcludedProject(store, project, scoped.excluded, scanAt), scoped.warnings);
  const action = await reconcileProject(store, project, { ...reading.compose, services: scoped.included }, scanAt);
  if (scoped.excluded.length > 0) action.details = { ...action.details, excluded: scoped.excluded };
  return withWarnings(action, scoped.warnings);
}

function withWarnings(action: DiscoveryAction, warnings: readonly string[]): DiscoveryAction {
  return warnings.length > 0 ? { ...action, warnings: [...warnings] } : action;
}

/** Projects sorted by name, so actions come in a stable order. */
function groupByProject(containers: readonly ComposeContainer[]): Map<string, ComposeContainer[]> {
  const byProject = new Map<string, ComposeContainer[]>();
  for (const container of containers) {
    if (!container.project) continue;
    const group = byProject.get(container.project);
    if (group) group.push(container);
    else byProject.set(container.project, [container]);
  }
  return new Map([...byProject].sort(([a], [b]) => a.localeCompare(b)));
}

/** Compose files from the containers' labels, then the services those files declare. */
async function readProject(containers: readonly ComposeContainer[]): Promise<ProjectReading> {
  const located = locateComposeFiles(containers);
  if (!located.ok) return located;
  const { candidates } = located;

  let chosen: { files: string[]; texts: string[] } | undefined;
  let firstUnreadable: ProjectFailure | undefined;
  for (const files of candidates) {
    const read = await readAll(files);
    if (read.ok) {
      chosen = { files, texts: read.texts };
      break;
    }
    firstUnreadable ??= {
      reason: `compose_file_unreadable: ${read.path} (${read.message}) ${UNREADABLE_HINT}`,
      details: {},
      composeFiles: files,
    };
  }
  if (!chosen) return { ok: false, ...firstUnreadable! };

  const envFile = await projectEnvFile(containers, chosen.files[0]!);
  const variables = envFile ? await readEnvVariables(envFile) : {};
  const parsed: ComposeServices[] = [];
  for (const [index, path] of chosen.files.entries()) {
    try {
      parsed.push(parseComposeServices(chosen.texts[index]!, variables));
    } catch (error) {
      if (!(error instanceof ComposeFileError)) throw error;
      return { ok: false, reason: `compose_file_invalid: ${path} (${error.message})`, details: {}, composeFiles: chosen.files };
    }
  }
  const merged = mergeComposeServices(parsed);
  const services = servicesFromCompose(merged);
  if (services.length === 0) return { ok: false, reason: 'compose_no_services', details: {}, composeFiles: chosen.files };
  const declaredLabels = new Map([...merged].map(([name, definition]) => [name, definition.labels]));
  return { ok: true, compose: { composeFiles: chosen.files, ...(envFile ? { envFile } : {}), services, declaredLabels } };
}

/** Every container that carries a `config_files` label must name the same files. */
function locateComposeFiles(
  containers: readonly ComposeContainer[],
): { ok: true; candidates: string[][] } | ({ ok: false } & ProjectFailure) {
  const variants = new Map<string, { candidates: string[][]; services: Set<string> }>();
  for (const container of containers) {
    const raw = container.labels[COMPOSE_LABELS.configFiles];
    if (raw === undefined) continue;
    const workingDir = container.labels[COMPOSE_LABELS.workingDir];
    const resolved = resolveConfigFiles(raw, workingDir);
    if (!resolved.ok) {
      return {
        ok: false,
        reason: resolved.reason,
        details: { service: container.service, configFiles: raw, ...(workingDir !== undefined ? { workingDir } : {}) },
      };
    }
    const key = JSON.stringify(resolved.candidates[0]);
    const variant = variants.get(key) ?? { candidates: resolved.candidates, services: new Set<string>() };
    variant.services.add(container.service);
    variants.set(key, variant);
  }
  if (variants.size === 0) return { ok: false, reason: 'config_files_missing', details: {} };
  if (variants.size > 1) {
    const described = [...variants.values()].map((variant) => ({
      configFiles: variant.candidates[0],
      services: [...variant.services].sort(),
    }));
    return { ok: false, reason: 'config_files_conflict', details: { variants: described } };
  }
  return { ok: true, candidates: [...variants.values()][0]!.candidates };
}

async function readAll(
  files: readonly string[],
): Promise<{ ok: true; texts: string[] } | { ok: false; path: string; message: string }> {
  const texts: string[] = [];
  for (const path of files) {
    try {
      texts.push(await readFile(path, 'utf8'));
    } catch (error) {
      return { ok: false, path, message: errorText(error) };
    }
  }
  return { ok: true, texts };
}

/**
 * The project's env file: Compose v2's `environment_file` label when present, else the `.env`
 * beside the first Compose file if there is one.
 */
async function projectEnvFile(containers: readonly ComposeContainer[], firstComposeFile: string): Promise<string | undefined> {
  const labelled = containers.find((container) => container.labels[COMPOSE_LABELS.environmentFile]);
  if (labelled) {
    const first = normalizeConfigFiles(labelled.labels[COMPOSE_LABELS.environmentFile]!)[0];
    const workingDir = labelled.labels[COMPOSE_LABELS.workingDir];
    if (first && posix.isAbsolute(first)) return first;
    if (first && workingDir && posix.isAbsolute(workingDir)) return posix.resolve(workingDir, first);
  }
  const besideComposeFile = posix.join(posix.dirname(firstComposeFile), '.env');
  return (await exists(besideComposeFile)) ? besideComposeFile : undefined;
}

/** Variables for interpolation; an unreadable env file only means no variables. */
async function readEnvVariables(path: string): Promise<Record<string, string>> {
  try {
    return parseEnvFile(await readFile(path, 'utf8'));
  } catch {
    return {};
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function reconcileProject(
  store: DiscoveryScanOptions['store'],
  project: string,
  compose: ProjectCompose,
  scanAt: string,
): Promise<DiscoveryAction> {
  const composeConfig: ComposeConfig = {
    type: 'path',
    composeFiles: compose.composeFiles,
    ...(compose.envFile ? { envFile: compose.envFile } : {}),
  };
  const known = await store.discoveryProjects.get(project);
  const stack = known?.stackId ? await store.stacks.getWithServices(known.stackId) : undefined;
  // Back in scope: the stack archived when the project was left out comes back with it.
  if (stack?.archived && stack.archivedReason === EXCLUDED_REASON) await store.stacks.setArchived(stack.id, false);

  let action: DiscoveryAction;
  if (stack && stackMatches(stack, compose)) {
    action = { project, action: 'skipped', stackId: stack.id };
  } else {
    // A stack deleted since the read makes syncServices answer undefined: create it afresh.
    const synced = stack ? await store.stacks.syncServices(stack.id, composeConfig, compose.services) : undefined;
    if (stack && synced) {
      const details = { servicesAdded: synced.added, servicesUpdated: synced.updated, servicesRemoved: synced.removed };
      action = { project, action: 'updated', stackId: stack.id, details };
    } else {
      const created = await store.stacks.create({ name: project, compose: composeConfig, services: compose.services });
      action = { project, action: 'created', stackId: created.id };
    }
  }
  await store.discoveryProjects.upsert({
    project,
    status: 'active',
    stackId: action.stackId,
    configFiles: compose.composeFiles,
    lastSeenAt: scanAt,
    lastScanAt: scanAt,
    lastError: null,
  });
  return action;
}

/**
 * Unchanged when the files and every service's (ref, tag) are the same; the env file and homepage
 * labels count too, or edits to them would never reach the stack.
 */
function stackMatches(stack: StackWithServices, compose: ProjectCompose): boolean {
  if (!sameList(stack.compose.composeFiles, compose.composeFiles) || stack.compose.envFile !== compose.envFile) return false;
  if (stack.services.length !== compose.services.length) return false;
  const storedByName = new Map(stack.services.map((service) => [service.name, service]));
  return compose.services.every((wanted) => {
    const stored = storedByName.get(wanted.name);
    return (
      stored !== undefined &&
      stored.image.ref === wanted.image.ref &&
      stored.image.tag === wanted.image.tag &&
      sameHomepage(stored.homepage, wanted.homepage)
    );
  });
}

/**
 * A project none of whose services Dockrev manages: no stack is made for it. A stack it had
 * loses its services (as if they were removed from the files) and is archived, so it costs no
 * check and leaves the overview; back in scope, the next scan brings it back.
 */
async function recordExcludedProject(
  store: DiscoveryScanOptions['store'],
  project: string,
  excluded: ExcludedService[],
  scanAt: string,
): Promise<DiscoveryAction> {
  const known = await store.discoveryProjects.get(project);
  const stack = known?.stackId ? await store.stacks.getWithServices(known.stackId) : undefined;
  const action: DiscoveryAction = { project, action: 'skipped', reason: EXCLUDED_REASON, ...(stack ? { stackId: stack.id } : {}), details: { excluded } };
  if (!stack || (stack.services.length === 0 && stack.archived)) return action;
  const synced = stack.services.length > 0 ? await store.stacks.syncServices(stack.id, stack.compose, []) : undefined;
  if (!stack.archived) await store.stacks.setArchived(stack.id, true, EXCLUDED_REASON);
  await store.discoveryProjects.upsert({ project, status: 'active', stackId: stack.id, lastSeenAt: scanAt, lastScanAt: scanAt, lastError: null });
  return { ...action, action: 'updated', details: { excluded, servicesRemoved: synced?.removed ?? [] } };
}

async function recordInvalidProject(
  store: DiscoveryScanOptions['store'],
  project: string,
  failure: ProjectFailure,
  scanAt: string,
): Promise<DiscoveryAction> {
  await store.discoveryProjects.upsert({
    project,
    status: 'invalid',
    configFiles: failure.composeFiles,
    lastSeenAt: scanAt,
    lastScanAt: scanAt,
    lastError: failure.reason,
  });
  return { project, action: 'failed', reason: failure.reason, details: failure.details };
}
