// What an update job works through and what it reports: the per-stack plan built from a validated
// request, and the summary shapes of the job and of each stack.
import type { BackupMode, Service, Stack, Store } from '../../store/index.js';
import type { JobProgressRecord, RunningJob } from '../jobs/runner.js';
import type { VersionAnomaly } from './selection.js';
import type { RetryReport } from './steps.js';
import type { ValidatedUpdatePlan } from './validate.js';

export type { VersionAnomaly };

export type UpdateMode = 'apply' | 'dry-run';
export type UpdateStatus = 'success' | 'failed' | 'rolled_back';

export interface UpdateTarget {
  service: Service;
  /** The configured tag: updates move a tag to a newer digest, never to another tag. */
  targetTag: string;
  targetDigest: string;
  /** Further tags of the same repository to pull afterwards, best effort. */
  pullTags: string[];
  skipTagFollowups: boolean;
}

export interface StackUpdatePlan {
  /** `stack.name` is the Compose project name. */
  stack: Stack;
  services: UpdateTarget[];
  /** Services the selection left out as semver downgrades; reported in the summary. */
  skippedVersionAnomaly?: VersionAnomaly[];
}

export interface UpdatePlan {
  mode: UpdateMode;
  reason: string;
  backupMode: BackupMode;
  allowArchMismatch: boolean;
  stacks: StackUpdatePlan[];
}

export interface BackupResult {
  status: 'success' | 'failed' | 'skipped';
  /** With status `failed`: stop the job before any container is touched. */
  requireSuccess?: boolean;
  error?: string;
  reason?: string;
  [field: string]: unknown;
}

export type BackupCallback = (
  stack: Stack,
  context: { job: RunningJob; services: Service[]; backupMode: BackupMode; reason: string },
) => Promise<BackupResult>;

export interface PullTagWarning {
  serviceId: string;
  tagRef: string;
  step?: string;
  retry?: RetryReport;
  lastError?: string;
  error?: string;
}

/** `update` part of one stack's summary. Digest maps are keyed by service id and hold image ids. */
export type StackUpdateSummary = {
  mode: UpdateMode;
  changedServices: number;
  /** Image ids the services ran before. */
  oldDigests: Record<string, string>;
  /** Image ids the recreated containers ran. */
  newDigests: Record<string, string>;
  /** Image ids running when the stack finished (the old ones after a rollback). */
  finalDigests: Record<string, string>;
  targetTagsPulled: string[];
  pullTagsPulled: string[];
  pullTagWarnings: PullTagWarning[];
  skippedVersionAnomaly: VersionAnomaly[];
  /** Legacy fields older clients read; always empty. */
  semverPulled: string[];
  semverPullWarnings: Record<string, never>;
  rollback?: { trigger: string; toDigests: Record<string, string>; error?: string };
  failureStep?: string;
  error?: string;
  retry?: RetryReport;
  lastError?: string;
};

export type StackUpdateResult = { stackId: string; backup: BackupResult; update: StackUpdateSummary };

export type UpdateJobSummary = {
  mode: UpdateMode;
  stacks: StackUpdateResult[];
  error?: string;
  progress?: JobProgressRecord;
};

export interface UpdateOutcome {
  status: UpdateStatus;
  summary: UpdateJobSummary;
}

/** What an update job records in its summary while it runs, so start-up recovery can finish its work. */
export type UpdateTargetRecord = {
  stackId: string;
  serviceId: string;
  service: string;
  targetTag: string;
  targetDigest: string;
  pullTags: string[];
  skipTagFollowups: boolean;
};

/** `summary.applying`: the services whose containers the job may be changing right now. */
export type ApplyingRecord = { stackId: string; services: string[] };


/** Turns a validated request into the per-stack plan the executor works through. */
export async function executionPlan(store: Store, validated: ValidatedUpdatePlan): Promise<{ plan: UpdatePlan; missingStackIds: string[] }> {
  const stacks: StackUpdatePlan[] = [];
  const missingStackIds: string[] = [];
  for (const stackId of validated.stackIds) {
    const stack = await store.stacks.getWithServices(stackId);
    if (!stack) {
      missingStackIds.push(stackId);
      continue;
    }
    const byId = new Map(stack.services.map((service) => [service.id, service]));
    const services = validated.targets
      .filter((target) => target.stackId === stackId && byId.has(target.serviceId))
      .map((target) => ({
        service: byId.get(target.serviceId)!,
        targetTag: target.targetTag,
        targetDigest: target.targetDigest,
        pullTags: target.pullTags,
        skipTagFollowups: target.skipTagFollowups,
      }));
    const skippedVersionAnomaly = validated.skippedVersionAnomaly.filter((anomaly) => byId.has(anomaly.serviceId));
    stacks.push({ stack, services, skippedVersionAnomaly });
  }
  const { mode, reason, backupMode, allowArchMismatch } = validated;
  return { plan: { mode, reason, backupMode, allowArchMismatch, stacks }, missingStackIds };
}

/** The plan's targets as the job summary records them, so that recovery and concurrent requests can read them. */
export function targetRecords(plan: UpdatePlan): UpdateTargetRecord[] {
  return plan.stacks.flatMap(({ stack, services }) =>
    services.map((target) => ({
      stackId: stack.id,
      serviceId: target.service.id,
      service: target.service.name,
      targetTag: target.targetTag,
      targetDigest: target.targetDigest,
      pullTags: target.pullTags,
      skipTagFollowups: target.skipTagFollowups,
    })),
  );
}

