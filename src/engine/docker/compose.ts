// The Compose CLI and the docker CLI as an update drives them: every command is logged on its job,
// bounded by a timeout, and idempotent steps are retried with back-off (behaviour.md §E.5).
import { spawn } from 'node:child_process';
import { copyFile, mkdir, rm, stat, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RetryPolicy } from '../../config.js';
import { errorText } from '../../errors.js';

export type { RetryPolicy };

/** Where command lines and their results go: the job's log. */
export interface CommandLog {
  log(level: 'info' | 'warn' | 'error', message: string): Promise<void>;
}

export interface CommandResult {
  /** Exit code; null when the process was killed or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface RunCommandOptions {
  log: CommandLog;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  cwd?: string;
  /** Each output line (stdout and stderr) as it arrives, e.g. to follow pull progress. */
  onLine?: (line: string) => void;
}

export const LOGGED_OUTPUT_LIMIT = 2000;
/** Time a command gets to exit after SIGTERM at its timeout before it is killed. */
const KILL_GRACE_MS = 5000;
/** Output kept in memory per stream; logs show at most LOGGED_OUTPUT_LIMIT characters anyway. */
const KEPT_OUTPUT_LIMIT = 256 * 1024;

export const DEFAULT_COMMAND_TIMEOUTS_MS = { pull: 300_000, up: 300_000, tag: 60_000 };
export type CommandTimeouts = typeof DEFAULT_COMMAND_TIMEOUTS_MS;

/** A command that ran and did not exit with 0. */
export class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    const why = result.timedOut
      ? 'timed out'
      : result.code === null
        ? `ended without exit code (${result.signal ?? result.stderr.trim()})`
        : `exited with ${result.code}`;
    const detail = lastLines(result.stderr) || lastLines(result.stdout);
    super(`${command} ${why}${detail ? `: ${detail}` : ''}`);
    this.name = 'CommandFailedError';
  }
}

export interface RetryReport {
  attempts: number;
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

/** An update step failed for good; `failureStep` names it in the job summary. */
export class UpdateStepError extends Error {
  readonly failureStep: string;
  /** Present for retried (idempotent) steps. */
  readonly retry?: RetryReport;
  readonly lastError: string;

  constructor(message: string, details: { failureStep: string; lastError: string; retry?: RetryReport }, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UpdateStepError';
    this.failureStep = details.failureStep;
    this.lastError = details.lastError;
    if (details.retry) this.retry = details.retry;
  }
}


function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}

export function truncateOutput(text: string, limit = LOGGED_OUTPUT_LIMIT): string {
  const trimmed = text.trim();
  return trimmed.length > limit ? `${trimmed.slice(0, limit)}...(truncated)` : trimmed;
}

/** Arguments as a person would type them: quoted only when they need it. */
export function formatCommand(program: string, args: readonly string[]): string {
  return [program, ...args].map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part))).join(' ');
}

/**
 * Runs a program without a shell, logging `$ <command>` before and `status=… stdout=… stderr=…`
 * after (warn when it failed). At the timeout the process gets SIGTERM, then SIGKILL. Never throws:
 * the caller decides what a failure means.
 */
export async function runCommand(program: string, args: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  await options.log.log('info', `$ ${formatCommand(program, args)}`);
  const result = await spawnCollecting(program, args, options);
  const status = result.timedOut ? `timeout(${options.timeoutMs}ms)` : String(result.code ?? result.signal ?? 'error');
  await options.log.log(
    result.code === 0 ? 'info' : 'warn',
    `status=${status} stdout=${truncateOutput(result.stdout)} stderr=${truncateOutput(result.stderr)}`,
  );
  return result;
}

function spawnCollecting(program: string, args: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const output = { stdout: '', stderr: '' };
    let timedOut = false;
    let settled = false;
    const child = spawn(program, [...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const finish = (result: Omit<CommandResult, 'stdout' | 'stderr' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      resolve({ ...result, timedOut, ...output });
    };
    let killTimer: NodeJS.Timeout | undefined;
    const termTimer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, options.timeoutMs);

    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        if (output[stream].length < KEPT_OUTPUT_LIMIT) output[stream] += chunk;
        if (!options.onLine) return;
        // Progress writers redraw lines with '\r'; each redraw counts as a line.
        const lines = (partial + chunk).split(/\r\n|\r|\n/);
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) options.onLine(line);
      });
      child[stream].on('end', () => {
        if (options.onLine && partial.trim()) options.onLine(partial);
      });
    }
    child.on('error', (error) => {
      output.stderr += `${output.stderr ? '\n' : ''}${error.message}`;
      finish({ code: null, signal: null });
    });
    child.on('close', (code, signal) => finish({ code, signal }));
  });
}

/** min(max, base·2^(attempt−1)) plus jitter of at most base/3, never above max. */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.min(policy.maxMs, exponential + random() * (policy.baseMs / 3));
}

export interface RetryOptions {
  log?: CommandLog;
  sleep?: (ms: number) => Promise<void>;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs an idempotent step up to `maxAttempts` times. Exhaustion throws UpdateStepError
 * "update step '<step>' failed after a/m attempts: <last error>" with the retry parameters.
 */
export async function retryStep<T>(step: string, policy: RetryPolicy, operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const sleep = options.sleep ?? sleepMs;
  const maxAttempts = Math.max(1, policy.maxAttempts);
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      lastError = error;
      if (attempt === maxAttempts) break;
      const delay = Math.round(retryDelayMs(attempt, policy));
      await options.log?.log('warn', `update step '${step}' attempt ${attempt}/${maxAttempts} failed; retrying in ${delay} ms: ${errorText(error)}`);
      await sleep(delay);
    }
  }
  const message = errorText(lastError);
  throw new UpdateStepError(
    `update step '${step}' failed after ${maxAttempts}/${maxAttempts} attempts: ${message}`,
    { failureStep: step, lastError: message, retry: { attempts: maxAttempts, maxAttempts, baseMs: policy.baseMs, maxMs: policy.maxMs } },
    { cause: lastError },
  );
}

/** A step that is not safe to repeat (e.g. `up`): one attempt, failures tagged with the step. */
export async function runStepOnce<T>(step: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof UpdateStepError) throw error;
    const message = errorText(error);
    throw new UpdateStepError(`update step '${step}' failed: ${message}`, { failureStep: step, lastError: message }, { cause: error });
  }
}

/** Environment for docker and Compose: ours, with the engine and credentials of this Dockrev. */
export function cliEnvironment(options: { dockerHost?: string; dockerConfigDir?: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...(options.dockerHost ? { DOCKER_HOST: options.dockerHost } : {}),
    ...(options.dockerConfigDir ? { DOCKER_CONFIG: options.dockerConfigDir } : {}),
  };
}

export interface StagedDockerConfig {
  /** The private folder to pass as DOCKER_CONFIG. */
  dir: string;
  /** Set when the configured file could not be read: the CLI then runs without credentials. */
  warning?: string;
  dispose(): Promise<void>;
}

async function isDirectory(path: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return undefined;
  }
}

/**
 * Copies the config.json of DOCKREV_DOCKER_CONFIG (a file, or a folder holding one) into `dir`, a
 * folder only its owner can read (replaced when it exists), because the CLI wants a writable
 * folder while the mounted config is often a read-only file. DOCKER_CONFIG also moves where
 * `docker` looks for CLI plugins (Compose v2 is one), so the staged folder links the plugin folder
 * of the configured folder, else of the CLI's usual one.
 */
export async function stageDockerConfig(configPath: string, dir: string): Promise<StagedDockerConfig> {
  const configIsDirectory = await isDirectory(configPath);
  const configFile = configIsDirectory ? join(configPath, 'config.json') : configPath;
  await mkdir(dirname(dir), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  const dispose = () => rm(dir, { recursive: true, force: true });
  let warning: string | undefined;
  try {
    await copyFile(configFile, join(dir, 'config.json'));
  } catch (error) {
    warning = `docker config ${configPath} unreadable (${errorText(error)}); docker and Compose run without registry credentials`;
  }
  const pluginCandidates = [
    join(configIsDirectory ? configPath : dirname(configPath), 'cli-plugins'),
    join(process.env.DOCKER_CONFIG || join(homedir(), '.docker'), 'cli-plugins'),
  ];
  for (const candidate of pluginCandidates) {
    if (await isDirectory(candidate)) {
      await symlink(candidate, join(dir, 'cli-plugins'));
      break;
    }
  }
  return { dir, ...(warning ? { warning } : {}), dispose };
}

export interface CliContext {
  log: CommandLog;
  env: NodeJS.ProcessEnv;
  retry: RetryPolicy;
  timeoutsMs: CommandTimeouts;
}

/** `label` names the command in errors ("docker-compose pull web"); the log has the full line. */
async function runOrThrow(program: string, args: readonly string[], options: RunCommandOptions, label: string): Promise<CommandResult> {
  const result = await runCommand(program, args, options);
  if (result.code !== 0) throw new CommandFailedError(label, result);
  return result;
}

/** The docker CLI steps of an update: pulling and tagging, both safe to repeat. */
export class DockerCli {
  constructor(
    private readonly context: CliContext,
    private readonly program = 'docker',
  ) {}

  pull(ref: string, step: string): Promise<void> {
    return this.retried(step, ['pull', ref], this.context.timeoutsMs.pull);
  }

  tag(source: string, target: string, step: string): Promise<void> {
    return this.retried(step, ['tag', source, target], this.context.timeoutsMs.tag);
  }

  private async retried(step: string, args: string[], timeoutMs: number): Promise<void> {
    const { log, env, retry } = this.context;
    const label = formatCommand(this.program, args);
    await retryStep(step, retry, () => runOrThrow(this.program, args, { log, env, timeoutMs }, label), { log });
  }
}

export interface ComposeProjectFiles {
  /** Compose project name (`-p`). */
  project: string;
  /** Absolute paths, in `-f` order. */
  composeFiles: readonly string[];
  envFile?: string;
}

export interface ComposeCallOptions {
  /** An extra `-f` after the project's files (the update's image pins). */
  overrideFile?: string;
}

/**
 * Compose v1 (`docker-compose`) or v2 (`docker compose`) for one project. Both take the same
 * global flags: `-p P -f a.yml [-f override.yml] [--env-file E] <command>`.
 */
export class ComposeRunner {
  constructor(
    /** argv prefix: ["docker-compose"] or ["docker", "compose"]. */
    private readonly composeBin: readonly string[],
    private readonly files: ComposeProjectFiles,
    private readonly context: CliContext,
  ) {
    if (composeBin.length === 0) throw new Error('compose command is empty');
    if (files.composeFiles.length === 0) throw new Error(`project ${files.project} has no compose files`);
  }

  /** The full argv (program first) of a Compose command. */
  argv(command: readonly string[], options: ComposeCallOptions = {}): string[] {
    const files = [...this.files.composeFiles, ...(options.overrideFile ? [options.overrideFile] : [])];
    return [
      ...this.composeBin,
      '-p', this.files.project,
      ...files.flatMap((file) => ['-f', file]),
      ...(this.files.envFile ? ['--env-file', this.files.envFile] : []),
      ...command,
    ];
  }

  async pull(services: readonly string[], options: ComposeCallOptions & { onLine?: (line: string) => void } = {}): Promise<void> {
    await retryStep('pull', this.context.retry, () => this.run(['pull', ...services], this.context.timeoutsMs.pull, options), {
      log: this.context.log,
    });
  }

  /** `up -d --no-deps`: recreates just these services; not repeated on failure. */
  async up(services: readonly string[], options: ComposeCallOptions & { step?: string } = {}): Promise<void> {
    await runStepOnce(options.step ?? 'up', () => this.run(['up', '-d', '--no-deps', ...services], this.context.timeoutsMs.up, options));
  }

  private run(command: string[], timeoutMs: number, options: ComposeCallOptions & { onLine?: (line: string) => void } = {}) {
    const [program, ...args] = this.argv(command, options);
    const label = formatCommand(this.composeBin[0]!, [...this.composeBin.slice(1), ...command]);
    return runOrThrow(program!, args, {
      log: this.context.log,
      env: this.context.env,
      timeoutMs,
      // Relative paths inside the files (env_file, volumes) resolve as when the user runs Compose there.
      cwd: dirname(this.files.composeFiles[0]!),
      ...(options.onLine ? { onLine: options.onLine } : {}),
    }, label);
  }
}

export interface PullProgress {
  servicesDone: number;
  servicesTotal: number;
  /** Share of the pull that is done, 0..1. */
  fraction: number;
  download: { completedLayers: number; totalLayers: number; activeLayers: number; status?: string };
}

const LAYER_DONE = new Set(['Pull complete', 'Already exists']);
const LAYER_ACTIVE = new Set(['Downloading', 'Verifying Checksum', 'Download complete', 'Extracting']);

/**
 * Follows `compose pull` output. Without a terminal, v1 prints "Pulling web ... downloading (3.4%)"
 * and "Pulling web ... done" per service; v2 prints "web Pulled" per service and
 * "<layer> Downloading/Pull complete" per layer.
 */
export class PullProgressTracker {
  /** Per service: share pulled, 0..1. */
  private readonly shares: Map<string, number>;
  private readonly layers = new Map<string, string>();
  private status?: string;

  constructor(services: readonly string[]) {
    this.shares = new Map(services.map((service) => [service, 0]));
  }

  /** True when the line changed the progress. */
  feed(line: string): boolean {
    const text = line.trim();
    const finished = /^Pulling (\S+)\s+\.\.\.\s*(?:done|error)\b/.exec(text)?.[1] ?? /^(\S+) (?:Pulled|Error)\b/.exec(text)?.[1];
    if (finished !== undefined) return this.setShare(finished, 1, text);
    const partial = /^Pulling (\S+)\s+\.\.\.\s*(?:downloading|extracting) \((\d+(?:\.\d+)?)%\)/.exec(text);
    // Downloading and extracting each run to 100 %; count them as the two halves of the pull.
    if (partial) return this.setShare(partial[1]!, (Number(partial[2]) / 100) * 0.5 + (text.includes('extracting') ? 0.5 : 0), text);
    const layer = /^([0-9a-f]{12}) (Pulling fs layer|Waiting|Downloading|Verifying Checksum|Download complete|Extracting|Pull complete|Already exists)/.exec(text);
    if (layer && this.layers.get(layer[1]!) !== layer[2]) {
      this.layers.set(layer[1]!, layer[2]!);
      this.status = text;
      return true;
    }
    return false;
  }

  snapshot(): PullProgress {
    const shares = [...this.shares.values()];
    const servicesTotal = shares.length;
    const servicesDone = shares.filter((share) => share === 1).length;
    const states = [...this.layers.values()];
    const completedLayers = states.filter((state) => LAYER_DONE.has(state)).length;
    const activeLayers = states.filter((state) => LAYER_ACTIVE.has(state)).length;
    const byServices = servicesTotal > 0 ? shares.reduce((sum, share) => sum + share, 0) / servicesTotal : 1;
    // Layers finish before their service does; they only move the bar within the pull.
    const byLayers = states.length > 0 ? (completedLayers / states.length) * 0.99 : 0;
    return {
      servicesDone,
      servicesTotal,
      fraction: Math.max(byServices, byLayers),
      download: { completedLayers, totalLayers: states.length, activeLayers, ...(this.status ? { status: this.status } : {}) },
    };
  }

  private setShare(service: string, share: number, text: string): boolean {
    const previous = this.shares.get(service);
    if (previous === undefined || share <= previous) return false;
    this.shares.set(service, share);
    this.status = text;
    return true;
  }
}
