import type { AuthConfig } from '../config.js';
import type { components } from '../generated/dockrev.js';
import type { ServiceInferenceState } from '../engine/inference/service-state.js';
import { authorizationMode, maskValue, type Identity, type Principal } from '../http/auth.js';
import type { DigestTagsSnapshot, DiscoveryProject, IgnoreRule, Job, JobLog, Service, Stack, StackListItem } from '../store/index.js';

// Store records → API shapes. Optional fields are omitted when absent, never sent as null.
type Schemas = components['schemas'];

/** Forward auth as the settings and the deploy report show it: the allowlist masked, who asked. */
export function authView(auth: AuthConfig, identity: Identity, principal: Principal): Schemas['SettingsAuth'] {
  const view: Schemas['SettingsAuth'] = {
    forwardHeaderName: auth.forwardHeaderName,
    groupHeaderName: auth.groupHeaderName,
    allowAnonymousInDev: auth.allowAnonymousInDev,
    authorizationMode: authorizationMode(auth),
    currentGroups: identity.groups.map(maskValue),
  };
  if (auth.allowedUser) view.allowedUserMasked = maskValue(auth.allowedUser);
  if (auth.allowedGroup) view.allowedGroupMasked = maskValue(auth.allowedGroup);
  if (identity.user) view.currentUser = identity.user;
  if (principal.matchedBy) view.matchedBy = principal.matchedBy;
  return view;
}

/**
 * Views built from a source object the engine keeps (and replaces when it changes) are built once
 * per source: a pure function of the source, remembered by its identity, so the transport can
 * also serialise the view once.
 */
const viewsBySource = new WeakMap<object, unknown>();

export function viewOnce<T>(source: object, build: () => T): T {
  if (viewsBySource.has(source)) return viewsBySource.get(source) as T;
  const view = build();
  viewsBySource.set(source, view);
  return view;
}

export function stackListItemView(stack: StackListItem, status: Schemas['StackStatus']): Schemas['StackListItem'] {
  return {
    id: stack.id,
    name: stack.name,
    status,
    services: stack.serviceCount,
    updates: stack.updateCount,
    lastCheckAt: stack.lastCheckAt ?? stack.createdAt,
    archived: stack.archived,
    archivedServices: stack.archivedServiceCount,
  };
}

export function serviceView(service: Service, inference?: ServiceInferenceState): Schemas['ServiceDetail'] {
  const view: Schemas['ServiceDetail'] = {
    id: service.id,
    name: service.name,
    image: { ref: service.image.ref, tag: service.image.tag },
    settings: service.settings,
    archived: service.archived,
  };
  if (service.image.digest) view.image.digest = service.image.digest;
  if (service.image.resolvedTag) view.image.resolvedTag = service.image.resolvedTag;
  if (service.image.resolvedTags && service.image.resolvedTags.length > 1) view.image.resolvedTags = service.image.resolvedTags;
  if (service.homepage && Object.keys(service.homepage).length > 0) view.homepage = service.homepage;
  if (service.candidate) view.candidate = service.candidate;
  if (service.ignore) view.ignore = service.ignore;
  if (inference) view.versionInference = inference;
  return view;
}

export function stackDetailView(stack: Stack, services: Service[], inference: ReadonlyMap<string, ServiceInferenceState> = new Map()): Schemas['StackDetail'] {
  const compose: Schemas['StackCompose'] = { type: stack.compose.type, composeFiles: stack.compose.composeFiles };
  if (stack.compose.envFile) compose.envFile = stack.compose.envFile;
  return { id: stack.id, name: stack.name, compose, archived: stack.archived, services: services.map((service) => serviceView(service, inference.get(service.id))) };
}

export function snapshotView(snapshot: DigestTagsSnapshot): Schemas['DigestTagsSnapshot'] {
  return { digest: snapshot.digest, tags: snapshot.tags, checkedAt: snapshot.checkedAt, scan: snapshot.scan };
}

export function discoveryProjectView(project: DiscoveryProject): Schemas['DiscoveryProject'] {
  const view: Schemas['DiscoveryProject'] = { project: project.project, status: project.status, archived: project.archived };
  if (project.stackId) view.stackId = project.stackId;
  if (project.configFiles) view.configFiles = project.configFiles;
  if (project.lastSeenAt) view.lastSeenAt = project.lastSeenAt;
  if (project.lastScanAt) view.lastScanAt = project.lastScanAt;
  if (project.lastError) view.lastError = project.lastError;
  return view;
}

export function ignoreRuleView(rule: IgnoreRule): Schemas['IgnoreRule'] {
  const view: Schemas['IgnoreRule'] = {
    id: rule.id,
    enabled: rule.enabled,
    scope: rule.scope,
    match: rule.match as Schemas['IgnoreRule']['match'],
  };
  if (rule.note) view.note = rule.note;
  return view;
}

export function jobListItemView(job: Job): Schemas['JobListItem'] {
  const view: Schemas['JobListItem'] = {
    id: job.id,
    type: job.type as Schemas['JobType'],
    scope: job.scope,
    status: job.status,
    createdBy: job.createdBy,
    reason: job.reason as Schemas['JobReason'],
    createdAt: job.createdAt,
    allowArchMismatch: job.allowArchMismatch,
    backupMode: job.backupMode,
    summary: job.summary,
  };
  if (job.stackId) view.stackId = job.stackId;
  if (job.serviceId) view.serviceId = job.serviceId;
  if (job.startedAt) view.startedAt = job.startedAt;
  if (job.finishedAt) view.finishedAt = job.finishedAt;
  if (job.progress) view.progress = job.progress as Schemas['JobProgress'];
  return view;
}

export function jobDetailView(job: Job, logs: JobLog[], logsLastId: number): Schemas['JobDetail'] {
  return {
    ...jobListItemView(job),
    logs: logs.map((log) => ({ id: log.id, ts: log.ts, level: log.level, msg: log.msg })),
    logsLastId,
  };
}
