// The docker and Compose CLIs as processes: every command is logged on its job with its result and
// bounded by a timeout. What a failure means (retry, roll back) is the caller's decision.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';

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

/** Environment for docker and Compose: ours, with the engine and credentials of this Dockrev. */
export function cliEnvironment(options: { dockerHost?: string; dockerConfigDir?: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...(options.dockerHost ? { DOCKER_HOST: options.dockerHost } : {}),
    ...(options.dockerConfigDir ? { DOCKER_CONFIG: options.dockerConfigDir } : {}),
  };
}

/**
 * Runs a command (see {@link runCommand}) and throws CommandFailedError unless it exits with 0.
 * `label` names the command in the error ("docker-compose pull web"); the log has the full line.
 */
export async function runChecked(program: string, args: readonly string[], options: RunCommandOptions, label = formatCommand(program, args)): Promise<CommandResult> {
  const result = await runCommand(program, args, options);
  if (result.code !== 0) throw new CommandFailedError(label, result);
  return result;
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
  timeoutMs: number;
  onLine?: (line: string) => void;
}

/** Where a Compose process logs and what environment it gets. */
export interface ComposeProcessContext {
  log: CommandLog;
  env: NodeJS.ProcessEnv;
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
    private readonly context: ComposeProcessContext,
  ) {
    if (composeBin.length === 0) throw new Error('compose command is empty');
    if (files.composeFiles.length === 0) throw new Error(`project ${files.project} has no compose files`);
  }

  /** The full argv (program first) of a Compose command. */
  argv(command: readonly string[], options: Pick<ComposeCallOptions, 'overrideFile'> = {}): string[] {
    const files = [...this.files.composeFiles, ...(options.overrideFile ? [options.overrideFile] : [])];
    return [
      ...this.composeBin,
      '-p', this.files.project,
      ...files.flatMap((file) => ['-f', file]),
      ...(this.files.envFile ? ['--env-file', this.files.envFile] : []),
      ...command,
    ];
  }

  /** Runs `<compose> <global flags> <command>`; throws CommandFailedError unless it exits with 0. */
  run(command: readonly string[], options: ComposeCallOptions): Promise<CommandResult> {
    const [program, ...args] = this.argv(command, options);
    const label = formatCommand(this.composeBin[0]!, [...this.composeBin.slice(1), ...command]);
    return runChecked(program!, args, {
      log: this.context.log,
      env: this.context.env,
      timeoutMs: options.timeoutMs,
      // Relative paths inside the files (env_file, volumes) resolve as when the user runs Compose there.
      cwd: dirname(this.files.composeFiles[0]!),
      ...(options.onLine ? { onLine: options.onLine } : {}),
    }, label);
  }
}
