import { compact, fromJson, optional, toBool, toJson } from './rows.js';
import type { ArchMatch, NewService, Service, ServiceHomepage, ServiceSettings, ServiceStatePatch } from './service-types.js';

// Row mapping shared by the services and stacks repositories.

export const DEFAULT_SERVICE_SETTINGS: ServiceSettings = {
  autoRollback: true,
  backupTargets: { bindPaths: {}, volumeNames: {} },
};

export interface ServiceRow {
  id: string;
  stack_id: string;
  name: string;
  image_ref: string;
  image_tag: string;
  image_digest: string | null;
  resolved_tag: string | null;
  resolved_tags: string | null;
  candidate_tag: string | null;
  candidate_resolved_tag: string | null;
  candidate_digest: string | null;
  candidate_arch_match: string | null;
  candidate_arch: string | null;
  ignore_rule_id: string | null;
  ignore_reason: string | null;
  homepage: string | null;
  auto_rollback: boolean | number;
  backup_targets: string;
  checked_at: string | null;
  archived: boolean | number;
  archived_at: string | null;
  archived_reason: string | null;
  created_at: string;
  updated_at: string;
}

export function serviceFromRow(row: ServiceRow): Service {
  return compact({
    id: row.id,
    stackId: row.stack_id,
    name: row.name,
    image: compact({
      ref: row.image_ref,
      tag: row.image_tag,
      digest: optional(row.image_digest),
      resolvedTag: optional(row.resolved_tag),
      resolvedTags: fromJson<string[] | undefined>(row.resolved_tags, undefined),
    }),
    candidate:
      row.candidate_tag === null || row.candidate_digest === null
        ? undefined
        : compact({
            tag: row.candidate_tag,
            resolvedTag: optional(row.candidate_resolved_tag),
            digest: row.candidate_digest,
            archMatch: (row.candidate_arch_match ?? 'unknown') as ArchMatch,
            arch: fromJson<string[]>(row.candidate_arch, []),
          }),
    ignore:
      row.ignore_rule_id === null
        ? undefined
        : { matched: true as const, ruleId: row.ignore_rule_id, reason: row.ignore_reason ?? '' },
    homepage: fromJson<ServiceHomepage | undefined>(row.homepage, undefined),
    settings: {
      autoRollback: toBool(row.auto_rollback),
      backupTargets: fromJson(row.backup_targets, DEFAULT_SERVICE_SETTINGS.backupTargets),
    },
    checkedAt: optional(row.checked_at),
    archived: toBool(row.archived),
    archivedAt: optional(row.archived_at),
    archivedReason: optional(row.archived_reason),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export function newServiceRow(id: string, stackId: string, service: NewService, now: string): Partial<ServiceRow> {
  const settings = service.settings ?? DEFAULT_SERVICE_SETTINGS;
  return {
    id,
    stack_id: stackId,
    name: service.name,
    image_ref: service.image.ref,
    image_tag: service.image.tag,
    homepage: service.homepage ? toJson(service.homepage) : null,
    auto_rollback: settings.autoRollback,
    backup_targets: toJson(settings.backupTargets),
    archived: false,
    created_at: now,
    updated_at: now,
  };
}

export function statePatchColumns(patch: ServiceStatePatch): Partial<ServiceRow> {
  const columns: Partial<ServiceRow> = {};
  if (patch.digest !== undefined) columns.image_digest = patch.digest;
  if (patch.resolvedTag !== undefined) columns.resolved_tag = patch.resolvedTag;
  if (patch.resolvedTags !== undefined) columns.resolved_tags = patch.resolvedTags === null ? null : toJson(patch.resolvedTags);
  if (patch.candidate !== undefined) {
    const candidate = patch.candidate;
    columns.candidate_tag = candidate?.tag ?? null;
    columns.candidate_resolved_tag = candidate?.resolvedTag ?? null;
    columns.candidate_digest = candidate?.digest ?? null;
    columns.candidate_arch_match = candidate?.archMatch ?? null;
    columns.candidate_arch = candidate ? toJson(candidate.arch) : null;
  }
  if (patch.ignore !== undefined) {
    columns.ignore_rule_id = patch.ignore?.ruleId ?? null;
    columns.ignore_reason = patch.ignore?.reason ?? null;
  }
  if (patch.checkedAt !== undefined) columns.checked_at = patch.checkedAt;
  return columns;
}

