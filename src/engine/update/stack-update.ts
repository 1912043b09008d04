// The per-stack state machine of an update (behaviour.md §E.5).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { errorText } from '../../errors.js';
import type { Stack } from '../../store/index.js';
import { nowIso } from '../../time.js';
import { mergeComposeServices, parseComposeServices } from '../discovery/compose-file.js';
import { parseEnvFile } from '../discovery/env-file.js';
import type { ComposeContainer } from '../docker/containers.js';
import type { RunningJob } from '../jobs/runner.js';
import { parseImageRef } from '../registry/reference.js';
import type { CommandSession, DockerCli, StackCompose } from './commands.js';
import type { UpdateDeps } from './deps.js';
import type { UpdatedServiceOutcome, UpdateFinishedEvent } from '../events.js';
import type { ApplyingRecord, BackupResult, StackUpdatePlan, StackUpdateResult, StackUpdateSummary, UpdateMode, UpdatePlan, UpdateStatus, UpdateTarget, VersionAnomaly } from './plan.js';
import { MILESTONE, type UpdateProgress } from './progress.js';
import { PullProgressTracker } from './pull-progress.js';
import { overrideFilePath } from './scratch.js';
import { retryStep, UpdateStepError } from './steps.js';

export type StackOutcome = UpdateFinishedEvent['stacks'][number];

export const DEFAULT_HEALTH_TIMEOUT_MS = 90_000;
export const DEFAULT_HEALTH_POLL_MS = 2000;

const emptyUpdate = (mode: UpdateMode, skippedVersionAnomaly: VersionAnomaly[]): StackUpdateSummary => ({
  mode,
  changedServices: 0,
  oldDigests: {},
  newDigests: {},
  finalDigests: {},
  targetTagsPulled: [],
  pullTagsPulled: [],
  pullTagWarnings: [],
  skippedVersionAnomaly,
  semverPulled: [],
  semverPullWarnings: {},
});

function failureFields(error: unknown): Pick<StackUpdateSummary, 'error' | 'failureStep' | 'retry' | 'lastError'> {
  if (!(error instanceof UpdateStepError)) return { error: errorText(error) };
  return { error: error.message, failureStep: error.failureStep, lastError: error.lastError, ...(error.retry ? { retry: error.retry } : {}) };
}

/** A selected service whose container runs and is about to be recreated. */
interface ActiveTarget extends UpdateTarget {
  name: string;
  oldImageId: string;
  /** The image as the plain Compose files name it; re-tagged when it is tag-based. */
  configuredImage: string;
  newImageId?: string;
}

/**
 * One stack of an update job: backup, then for the running selected services pin → pull → up →
 * health gate → tag follow-ups, and a rollback to the old images when anything fails after a
 * container may have changed.
 */
export class StackUpdate {
  private readonly stack: Stack;
  private readonly compose: StackCompose;
  private readonly dockerCli: DockerCli;
  private readonly update: StackUpdateSummary;
  /** Repository digests the updated services run now, as recorded on them. */
  private readonly recordedDigests = new Map<string, string>();

  constructor(
    private readonly job: RunningJob,
    private readonly plan: UpdatePlan,
    private readonly entry: StackUpdatePlan,
    private readonly index: number,
    private readonly deps: UpdateDeps,
    commands: CommandSession,
    private readonly progress: UpdateProgress,
  ) {
    this.stack = entry.stack;
    this.compose = commands.composeFor(this.stack);
    this.dockerCli = commands.docker;
    this.update = emptyUpdate(plan.mode, entry.skippedVersionAnomaly ?? []);
  }

  async run(): Promise<{ status: UpdateStatus; summary: StackUpdateResult; outcome: StackOutcome }> {
    const names = this.entry.services.map((target) => target.service.name);
    await this.progress.stackPhase(this.index, 'backup', `processing stack ${this.stack.name}`, names);
    const backup = await this.runBackup();
    const finish = (status: UpdateStatus) => ({ status, summary: { stackId: this.stack.id, backup, update: this.update }, outcome: this.outcome(status) });
    if (backup.status === 'failed' && backup.requireSuccess) {
      Object.assign(this.update, { error: `backup failed: ${backup.error ?? 'unknown error'}`, failureStep: 'backup' });
      return finish('failed');
    }

    await this.progress.stackPhase(this.index, 'apply', `applying updates for stack ${this.stack.name}`, names);
    if (this.plan.mode === 'dry-run') {
      for (const target of this.entry.services) {
        await this.job.log('info', `dry-run: would update ${target.service.name} to ${target.service.image.ref}@${target.targetDigest}`);
      }
      this.update.changedServices = this.entry.services.length;
      return finish('success');
    }
    if (this.entry.services.length === 0) return finish('success');
    return finish(await this.apply());
  }

  private async runBackup(): Promise<BackupResult> {
    if (this.plan.mode === 'dry-run') return { status: 'skipped', reason: 'dry_run' };
    if (this.entry.services.length === 0) {
      const anomaliesOnly = (this.entry.skippedVersionAnomaly ?? []).length > 0;
      return { status: 'skipped', reason: anomaliesOnly ? 'no_actionable_services_after_anomaly_skip' : 'no_services' };
    }
    if (!this.deps.backup) return { status: 'skipped', reason: 'not_configured' };
    let result: BackupResult;
    try {
      result = await this.deps.backup(this.stack, {
        job: this.job,
        services: this.entry.services.map((target) => target.service),
        backupMode: this.plan.backupMode,
        reason: this.plan.reason,
      });
    } catch (error) {
      // Whether this stack may go ahead without a backup is unknown here: assume it may not.
      result = { status: 'failed', error: errorText(error), requireSuccess: true };
    }
    if (result.status === 'failed') await this.job.log('warn', `backup failed: ${result.error ?? 'unknown error'}`);
    return result;
  }

  private async apply(): Promise<UpdateStatus> {
    const overrideFile = overrideFilePath(this.deps.overrideDir, this.job.id, this.stack.id);
    let active: ActiveTarget[] = [];
    // From here on containers may differ from before: recorded for recovery, rolled back on failure.
    let containersMayHaveChanged = false;
    try {
      active = await this.runningTargets();
      if (active.length === 0) return 'success';
      const names = active.map((target) => target.name);

      await this.writeOverride(overrideFile, active);
      await this.progress.milestone(names, MILESTONE.pullStart, `pulling image for ${names.join(', ')}`);
      await this.pull(names, overrideFile);
      await this.progress.milestone(names, MILESTONE.pullDone, `pull completed for ${names.join(', ')}`);

      await this.deps.store.jobs.mergeSummary(this.job.id, { applying: { stackId: this.stack.id, services: names } satisfies ApplyingRecord });
      containersMayHaveChanged = true;
      await this.progress.milestone(names, MILESTONE.upStart, `recreating service ${names.join(', ')}`);
      await this.compose.up(names, { overrideFile });
      await this.progress.milestone(names, MILESTONE.upDone, `service ${names.join(', ')} updated`);

      for (const target of active) await this.healthGate(target);
      for (const target of active) await this.tagFollowups(target);
    } catch (error) {
      Object.assign(this.update, failureFields(error));
      await this.job.log('error', `stack ${this.stack.name}: ${errorText(error)}`);
      if (!containersMayHaveChanged) return 'failed';
      return this.rollBack(active, this.update.failureStep ?? 'unexpected_error');
    } finally {
      await rm(overrideFile, { force: true });
      if (containersMayHaveChanged) await this.deps.store.jobs.mergeSummary(this.job.id, { applying: null });
    }

    for (const target of active) {
      this.update.finalDigests[target.service.id] = target.newImageId!;
      await this.recordNewDigest(target);
      await this.progress.milestone([target.name], MILESTONE.done, `finished service ${target.name}`);
    }
    this.update.changedServices = active.length;
    return 'success';
  }

  /**
   * Selected services with a running container, each with the image id it runs now. The engine's
   * label query is what `compose ps` does too, without a Compose process (about 0.7 s for v1).
   */
  private async runningTargets(): Promise<ActiveTarget[]> {
    for (const target of this.entry.services) {
      await this.progress.milestone([target.service.name], MILESTONE.start, `starting service ${target.service.name}`);
    }
    const running = await this.containers();
    const configured = await this.configuredImages();
    const active: ActiveTarget[] = [];
    for (const target of this.entry.services) {
      const name = target.service.name;
      const container = running.find((candidate) => candidate.service === name);
      if (!container) {
        await this.job.log('info', `skipped service ${name} (container not running)`);
        continue;
      }
      this.update.oldDigests[target.service.id] = container.imageId;
      const configuredImage = configured.get(name) ?? `${target.service.image.ref}:${target.service.image.tag}`;
      active.push({ ...target, name, oldImageId: container.imageId, configuredImage });
    }
    return active;
  }

  private containers(options: { service?: string; includeStopped?: boolean } = {}): Promise<ComposeContainer[]> {
    return retryStep('inspect', this.deps.retry, () => this.deps.docker.listComposeContainers({ project: this.stack.name, ...options }), {
      log: this.job,
    });
  }

  /**
   * `image:` of each service as the plain Compose files say (interpolated with the env file): it
   * tells tag-based references, which the update re-tags, from digest-pinned ones.
   */
  private async configuredImages(): Promise<Map<string, string>> {
    const { composeFiles, envFile } = this.stack.compose;
    try {
      const variables = envFile ? parseEnvFile(await readFile(envFile, 'utf8')) : {};
      const parsed = await Promise.all(composeFiles.map(async (file) => parseComposeServices(await readFile(file, 'utf8'), variables)));
      const images = new Map<string, string>();
      for (const [name, definition] of mergeComposeServices(parsed)) if (definition.image) images.set(name, definition.image);
      return images;
    } catch (error) {
      await this.job.log('warn', `cannot read the compose files of stack ${this.stack.name} (${errorText(error)}); assuming tag-based images`);
      return new Map();
    }
  }

  private async writeOverride(path: string, active: readonly ActiveTarget[]): Promise<void> {
    const services = Object.fromEntries(active.map((target) => [target.name, { image: `${target.service.image.ref}@${target.targetDigest}` }]));
    await mkdir(this.deps.overrideDir, { recursive: true });
    // JSON is YAML; Compose v1 and v2 both merge a file without `version` into any project file.
    await writeFile(path, `${JSON.stringify({ services }, null, 2)}\n`);
  }

  private async pull(names: string[], overrideFile: string): Promise<void> {
    const tracker = new PullProgressTracker(names);
    let reporting = Promise.resolve();
    await this.compose.pull(names, {
      overrideFile,
      onLine: (line) => {
        if (!tracker.feed(line)) return;
        const { fraction, download } = tracker.snapshot();
        const overall = MILESTONE.pullStart + (MILESTONE.pullEnd - MILESTONE.pullStart) * fraction;
        // Lines arrive synchronously; progress writes are chained so they stay in order.
        reporting = reporting.then(() => this.progress.pulling(names, overall, download)).catch(() => undefined);
      },
    });
    await reporting;
  }

  /** The recreated container must exist and run; with a healthcheck it must report healthy in time. */
  private async healthGate(target: ActiveTarget): Promise<void> {
    const timeoutMs = this.deps.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    const pollMs = this.deps.healthPollMs ?? DEFAULT_HEALTH_POLL_MS;
    const deadline = Date.now() + timeoutMs;
    const fail = async (failureStep: string, message: string): Promise<never> => {
      if (failureStep === 'healthcheck') await this.progress.milestone([target.name], MILESTONE.healthStart, `healthcheck failed for ${target.name}; rolling back`);
      throw new UpdateStepError(message, { failureStep, lastError: message });
    };
    let announced = false;
    for (;;) {
      const containers = await this.containers({ service: target.name, includeStopped: true });
      if (containers.length === 0) return fail('container_missing_after_update', `container_missing_after_update: service ${target.name} has no container`);
      target.newImageId = containers[0]!.imageId;
      this.update.newDigests[target.service.id] = target.newImageId;
      const stopped = containers.find((container) => container.state !== 'running');
      if (stopped) return fail('healthcheck', `container ${stopped.name} of ${target.name} is ${stopped.state}, not running`);
      if (containers.every((container) => container.health === undefined)) return;
      if (containers.some((container) => container.health === 'unhealthy')) return fail('healthcheck', `healthcheck failed for ${target.name} (unhealthy)`);
      if (containers.every((container) => container.health === 'healthy')) {
        await this.progress.milestone([target.name], MILESTONE.healthDone, `healthcheck passed for ${target.name}`);
        return;
      }
      if (!announced) {
        announced = true;
        await this.progress.milestone([target.name], MILESTONE.healthStart, `waiting for healthcheck on ${target.name}`);
      }
      if (Date.now() >= deadline) return fail('healthcheck', `healthcheck of ${target.name} not healthy within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
    }
  }

  /**
   * Makes the plain Compose file keep resolving to the new image: pull the tag, point the
   * configured tag-based reference at the new image id; extra tags are best effort.
   */
  private async tagFollowups(target: ActiveTarget): Promise<void> {
    if (target.skipTagFollowups) return;
    const { ref } = target.service.image;
    const targetTagRef = `${ref}:${target.targetTag}`;
    await this.progress.milestone([target.name], MILESTONE.healthDone, `pulling target tag for ${target.name}`);
    await this.dockerCli.pull(targetTagRef, 'pull_target_tag');
    this.update.targetTagsPulled.push(targetTagRef);
    await this.progress.milestone([target.name], MILESTONE.healthDone, `target tag pulled for ${target.name}`);

    if (!target.configuredImage.includes('@')) {
      await this.progress.milestone([target.name], MILESTONE.healthDone, `syncing compose tag for ${target.name}`);
      await this.dockerCli.tag(target.newImageId!, target.configuredImage, 'sync_configured_tag');
      await this.progress.milestone([target.name], MILESTONE.healthDone, `compose tag synced for ${target.name}`);
    }

    if (target.pullTags.length === 0) return;
    await this.progress.milestone([target.name], MILESTONE.healthDone, `pulling compatibility tags for ${target.name}`);
    for (const tag of target.pullTags) {
      const tagRef = `${ref}:${tag}`;
      try {
        await this.dockerCli.pull(tagRef, 'pull_tag');
        this.update.pullTagsPulled.push(tagRef);
      } catch (error) {
        this.update.pullTagWarnings.push(
          error instanceof UpdateStepError
            ? { serviceId: target.service.id, tagRef, step: error.failureStep, ...(error.retry ? { retry: error.retry } : {}), lastError: error.lastError }
            : { serviceId: target.service.id, tagRef, error: errorText(error) },
        );
        await this.job.log('warn', `pull of ${tagRef} failed (ignored): ${errorText(error)}`);
      }
    }
  }

  /**
   * The stored service now runs the new digest: no candidate left, and the ignore was about that
   * candidate. The containers are updated by now, so a failure here is only logged.
   */
  /** The stack's part of `update.finished`: which services changed, were rolled back or failed. */
  private outcome(status: UpdateStatus): StackOutcome {
    const services = this.entry.services.map(({ service }): UpdatedServiceOutcome => {
      const oldImageId = this.update.oldDigests[service.id];
      const newImageId = this.update.finalDigests[service.id];
      const newDigest = this.recordedDigests.get(service.id) ?? (status === 'rolled_back' ? service.image.digest : undefined);
      return {
        serviceId: service.id,
        serviceName: service.name,
        ...(service.image.digest ? { oldDigest: service.image.digest } : {}),
        ...(newDigest ? { newDigest } : {}),
        ...(oldImageId ? { oldImageId } : {}),
        ...(newImageId ? { newImageId } : {}),
      };
    });
    const applied = this.plan.mode === 'apply';
    const rolledBackIds = new Set(Object.keys(this.update.rollback?.toDigests ?? {}));
    return {
      stackId: this.stack.id,
      stackName: this.stack.name,
      status,
      changed: applied && status === 'success' ? services.filter((entry) => this.recordedDigests.has(entry.serviceId) || entry.newImageId) : [],
      rolledBack: status === 'rolled_back' ? services.filter((entry) => rolledBackIds.has(entry.serviceId)) : [],
      failed: status === 'failed' ? services : [],
      ...(this.update.failureStep ? { failureStep: this.update.failureStep } : {}),
    };
  }

  private async recordNewDigest(target: ActiveTarget): Promise<void> {
    try {
      const repoKey = parseImageRef(target.service.image.ref).key;
      const digest = (await this.deps.docker.runtimeDigest([{ imageId: target.newImageId! }], repoKey)) ?? target.targetDigest;
      this.recordedDigests.set(target.service.id, digest);
      const candidate = target.service.candidate;
      await this.deps.store.services.updateState(target.service.id, {
        digest,
        // Version inference named the candidate's tags; they now describe the running image.
        resolvedTag: candidate?.digest === digest ? (candidate.resolvedTag ?? null) : null,
        resolvedTags: null,
        candidate: null,
        ignore: null,
        checkedAt: nowIso(),
      });
    } catch (error) {
      await this.job.log('warn', `service ${target.name} updated, but its new digest was not recorded: ${errorText(error)}`);
    }
  }

  /** Old images back under the configured references, then `up` from the plain files. */
  private async rollBack(active: readonly ActiveTarget[], trigger: string): Promise<UpdateStatus> {
    const names = active.map((target) => target.name);
    const toDigests = Object.fromEntries(active.map((target) => [target.service.id, target.oldImageId]));
    this.update.rollback = { trigger, toDigests };
    await this.job.log('warn', `rolling back ${names.join(', ')} of stack ${this.stack.name} (${trigger})`);
    try {
      for (const target of active) {
        if (!target.configuredImage.includes('@')) await this.dockerCli.tag(target.oldImageId, target.configuredImage, 'rollback_tag');
      }
      await this.compose.up(names, { step: 'rollback' });
      const running = await this.containers();
      for (const target of active) {
        const container = running.find((candidate) => candidate.service === target.name);
        if (!container) throw new Error(`service ${target.name} has no running container after the rollback`);
        this.update.finalDigests[target.service.id] = container.imageId;
      }
      await this.job.log('warn', `rolled back ${names.join(', ')} of stack ${this.stack.name}`);
      return 'rolled_back';
    } catch (error) {
      this.update.rollback.error = errorText(error);
      await this.job.log('error', `rollback of stack ${this.stack.name} failed: ${errorText(error)}`);
      return 'failed';
    }
  }
}
