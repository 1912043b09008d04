// The self-upgrade state machine (behaviour.md §D.12): precheck → pull → apply → wait_healthy →
// postcheck → done, a rollback on failure or on request, and recovery after the supervisor itself
// was killed mid-operation. Every change is persisted before the next step starts, so a restart
// knows how far the operation got. No HTTP here: requests come in as plain values, refusals go
// out as failure kinds that src/supervisor/failures.ts maps to statuses.
import type { Logger } from 'pino';
import { errorText } from '../errors.js';
import { newId } from '../ids.js';
import { nowIso } from '../time.js';
import { REQUESTED_MESSAGE, trimLogs } from './history.js';
import { UNKNOWN_PREVIOUS, type LogLevel, type StateFile, type UpgradeMode, type UpgradeState, type UpgradeStep } from './state.js';
import { rollbackImageRef, targetImageRef, type OperationLog, type TargetContainer, type TargetRuntime } from './target.js';

export interface StartRequest {
  target: { tag: string; digest?: string | null };
  mode: UpgradeMode;
  rollbackOnFailure: boolean;
}

export type UpgradeFailureKind = 'invalid_argument' | 'conflict';
export type Refused = { ok: false; kind: UpgradeFailureKind; message: string };

const refuse = (kind: UpgradeFailureKind, message: string): Refused => ({ ok: false, kind, message });

export interface SelfUpgradeOptions {
  file: StateFile;
  runtime: TargetRuntime;
  /** DOCKREV_SUPERVISOR_TARGET_IMAGE_REPO: the repository tags and digests refer to. */
  imageRepo: string;
  healthTimeoutMs: number;
  logger: Logger;
}

// A tag as Docker accepts it.
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const INTERRUPTED = 'supervisor restarted; previous operation interrupted';

type Validated = { ok: true; tag: string; digest?: string; mode: UpgradeMode; rollbackOnFailure: boolean };

export function validateStart(request: StartRequest): Validated | Refused {
  const tag = request.target.tag.trim();
  if (!tag) return refuse('invalid_argument', 'target.tag is required');
  if (!TAG.test(tag)) return refuse('invalid_argument', 'target.tag must be a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-], at most 128 characters)');
  const rawDigest = request.target.digest?.trim();
  const digest = rawDigest ? (rawDigest.startsWith('sha256:') ? rawDigest : `sha256:${rawDigest}`).toLowerCase() : undefined;
  if (digest !== undefined && !DIGEST.test(digest)) return refuse('invalid_argument', 'target.digest must be sha256:<64 hex digits>');
  if (request.mode !== 'apply' && request.mode !== 'dry-run') return refuse('invalid_argument', 'mode must be apply|dry-run');
  return { ok: true, tag, ...(digest ? { digest } : {}), mode: request.mode, rollbackOnFailure: request.rollbackOnFailure };
}

export class SelfUpgrade {
  private work: Promise<void> = Promise.resolve();
  private readonly log: OperationLog = (level, message) => this.append(level, message);

  private constructor(
    private state: UpgradeState,
    private readonly options: SelfUpgradeOptions,
  ) {}

  /** Loads the state file (a missing or corrupt one gives idle) and resumes an interrupted operation. */
  static async open(options: SelfUpgradeOptions): Promise<SelfUpgrade> {
    const loaded = await options.file.load();
    if (loaded.warning) options.logger.warn({ path: options.file.path }, loaded.warning);
    const upgrade = new SelfUpgrade({ ...loaded.state, logs: trimLogs(loaded.state.logs) }, options);
    if (upgrade.state.state === 'running') upgrade.work = upgrade.recover();
    return upgrade;
  }

  /** A copy of the current state. */
  snapshot(): UpgradeState {
    return structuredClone(this.state);
  }

  /** Resolves when no operation is running (for tests and shutdown). */
  settled(): Promise<void> {
    return this.work;
  }

  async start(request: StartRequest): Promise<{ ok: true; opId: string } | Refused> {
    const valid = validateStart(request);
    if (!valid.ok) return valid;
    const { state } = this;
    if (state.state === 'running') {
      const same =
        state.request !== undefined &&
        state.target.tag === valid.tag &&
        state.target.digest === valid.digest &&
        state.request.mode === valid.mode &&
        state.request.rollbackOnFailure === valid.rollbackOnFailure;
      if (same) return { ok: true, opId: state.opId };
      return refuse('conflict', 'a self-upgrade with different parameters is already running');
    }
    // Decided and recorded before the first await, so a concurrent request sees `running`.
    const now = nowIso();
    this.state = {
      ...state,
      opId: newId('sup'),
      state: 'running',
      request: { mode: valid.mode, rollbackOnFailure: valid.rollbackOnFailure },
      target: { tag: valid.tag, ...(valid.digest ? { digest: valid.digest } : {}) },
      previous: { tag: UNKNOWN_PREVIOUS },
      startedAt: now,
      updatedAt: now,
      progress: { step: 'precheck', message: 'starting' },
    };
    await this.append('INFO', REQUESTED_MESSAGE);
    this.work = this.upgrade();
    return { ok: true, opId: this.state.opId };
  }

  async rollback(opId: string): Promise<{ ok: true } | Refused> {
    const { state } = this;
    if (state.state === 'running') return refuse('conflict', 'self-upgrade is running');
    if (!state.opId || opId !== state.opId) return refuse('invalid_argument', 'opId not found');
    if (!rollbackImageRef(this.options.imageRepo, state.previous, UNKNOWN_PREVIOUS)) return refuse('conflict', 'no rollback target available');
    const { request: _finished, ...rest } = state;
    this.state = { ...rest, state: 'running', progress: { step: 'rollback', message: 'manual rollback' } };
    await this.append('WARN', 'manual rollback requested');
    this.work = this.rollBack();
    return { ok: true };
  }

  private async upgrade(): Promise<void> {
    const { imageRepo, runtime, healthTimeoutMs } = this.options;
    const { target, request } = this.state;
    const ref = targetImageRef(imageRepo, target);
    let applied = false;
    try {
      await this.step('precheck', 'resolving the target container');
      const container = await runtime.resolve();
      await this.update((state) => {
        state.previous = { tag: container.imageRef, ...(container.repoDigest ? { digest: container.repoDigest } : {}) };
      });
      await this.append('INFO', `target ${container.name} runs ${describeImage(container)}`);

      await this.step('pull', `docker pull ${ref}`);
      await runtime.pull(ref, this.log);
      if (request?.mode === 'dry-run') {
        await this.finish('succeeded', 'dry-run completed', 'INFO', 'dry-run done');
        return;
      }

      await this.step('apply', 'docker compose up');
      applied = true;
      await runtime.recreate(ref, this.log);
      await this.step('wait_healthy', 'waiting for /api/health');
      await runtime.waitHealthy(healthTimeoutMs);
      await this.step('postcheck', 'GET /api/version');
      await this.append('INFO', `target answers version ${await runtime.version()}`);
      await this.finish('succeeded', 'ok', 'INFO', 'succeeded');
    } catch (error) {
      const message = errorText(error);
      // Before `apply` the container was not touched: there is nothing to roll back.
      if (!applied || !request?.rollbackOnFailure) {
        await this.finish('failed', `failed: ${message}`, 'ERROR', `failed: ${message}`, 'rollback');
        return;
      }
      await this.append('ERROR', `failed: ${message}`);
      await this.rollBack();
    }
  }

  /** Recreates the target from the previous image and waits for it to answer. */
  private async rollBack(): Promise<void> {
    const { imageRepo, runtime, healthTimeoutMs } = this.options;
    try {
      const ref = rollbackImageRef(imageRepo, this.state.previous, UNKNOWN_PREVIOUS);
      if (!ref) throw new Error('no rollback target available');
      await this.step('rollback', `rolling back to ${ref}`);
      await runtime.recreate(ref, this.log);
      await runtime.waitHealthy(healthTimeoutMs);
      await this.finish('rolled_back', 'rolled back', 'WARN', 'rolled back', 'done');
    } catch (error) {
      const message = errorText(error);
      await this.finish('failed', `rollback failed: ${message}`, 'ERROR', `rollback failed: ${message}`, 'rollback');
    }
  }

  /**
   * The supervisor died while this operation ran. It ends with the target running the new or the
   * previous image, and the state saying which: a running, answering target is left as it is; a
   * target that is gone or stopped, or that does not answer when the request asked for rollback
   * on failure (or was a rollback), is recreated from the previous image.
   */
  private async recover(): Promise<void> {
    const { runtime, healthTimeoutMs } = this.options;
    const wantsRollback = this.state.request ? this.state.request.rollbackOnFailure : this.state.progress.step === 'rollback';
    await this.step('postcheck', INTERRUPTED);
    await this.append('WARN', INTERRUPTED);
    const container = await runtime.resolve().catch(async (error: unknown) => {
      await this.append('WARN', `target not found: ${errorText(error)}`);
      return undefined;
    });
    if (container?.running) {
      const problem = await runtime.waitHealthy(healthTimeoutMs).then(() => '', (error: unknown) => errorText(error));
      const runs = `target runs ${describeImage(container)} (${this.whichImage(container)})`;
      if (!problem) {
        await this.finish('failed', `${INTERRUPTED}; ${runs}`, 'ERROR', `${INTERRUPTED}; ${runs}`, 'postcheck');
        return;
      }
      if (!wantsRollback || this.whichImage(container) === 'the previous image') {
        await this.finish('failed', `${INTERRUPTED}; ${runs} but it does not answer: ${problem}`, 'ERROR', `${INTERRUPTED}; ${runs}: ${problem}`, 'postcheck');
        return;
      }
      await this.append('ERROR', `failed: ${runs} and it does not answer: ${problem}`);
    }
    if (!rollbackImageRef(this.options.imageRepo, this.state.previous, UNKNOWN_PREVIOUS)) {
      await this.finish('failed', `${INTERRUPTED}; target not running and no previous image known`, 'ERROR', `${INTERRUPTED}; target not running and no previous image known`, 'postcheck');
      return;
    }
    await this.rollBack();
  }

  private whichImage(container: TargetContainer): string {
    const { target, previous } = this.state;
    const targetRef = targetImageRef(this.options.imageRepo, target);
    if (container.imageRef === targetRef || (target.digest && container.repoDigest === target.digest)) return 'the new image';
    if (container.imageRef === previous.tag || (previous.digest && container.repoDigest === previous.digest)) return 'the previous image';
    return 'neither the new nor the previous image';
  }

  private step(step: UpgradeStep, message: string): Promise<void> {
    return this.update((state) => {
      state.progress = { step, message };
    });
  }

  private async finish(final: 'succeeded' | 'failed' | 'rolled_back', message: string, level: LogLevel, line: string, step: UpgradeStep = 'done'): Promise<void> {
    await this.update((state) => {
      state.state = final;
      delete state.request;
      state.progress = { step, message };
    });
    await this.append(level, line);
  }

  private append(level: LogLevel, msg: string): Promise<void> {
    const line = { ts: nowIso(), level, msg, ...(this.state.opId ? { opId: this.state.opId } : {}) };
    const method = level === 'ERROR' ? 'error' : level === 'WARN' ? 'warn' : 'info';
    this.options.logger[method]({ opId: this.state.opId }, msg);
    return this.update((state) => {
      state.logs = trimLogs([...state.logs, line]);
    });
  }

  /** Applies a change and persists the whole document; a failed write is logged, never thrown. */
  private async update(change: (state: UpgradeState) => void): Promise<void> {
    change(this.state);
    this.state.updatedAt = nowIso();
    await this.options.file.save(this.snapshot()).catch((error: unknown) => {
      this.options.logger.error({ err: error, path: this.options.file.path }, 'cannot write the self-upgrade state');
    });
  }
}

function describeImage(container: TargetContainer): string {
  return container.repoDigest ? `${container.imageRef} (${container.repoDigest})` : container.imageRef;
}
