// The CLI commands of an update and of restart recovery, as steps: Compose pull (retried) and up
// (once) for a stack, docker pull and tag (retried), with the job's log, timeouts and the staged
// Docker credentials. Execution and recovery build them here, the same way.
import type { Stack } from '../../store/index.js';
import { cliEnvironment, ComposeRunner, formatCommand, runChecked } from '../docker/compose.js';
import { stageDockerConfig, type StagedDockerConfig } from '../docker/staged-config.js';
import { stagedDockerConfigPath } from './scratch.js';
import { retryStep, runStepOnce, type RetryPolicy, type StepLog } from './steps.js';

export const DEFAULT_COMMAND_TIMEOUTS_MS = { pull: 300_000, up: 300_000, tag: 60_000 };
export type CommandTimeouts = typeof DEFAULT_COMMAND_TIMEOUTS_MS;

/** What the CLI steps need from the configuration; execution and recovery share it. */
export interface CommandDeps {
  /** argv prefix of the Compose CLI: ["docker-compose"] or ["docker", "compose"]. */
  composeBin: readonly string[];
  dockerHost?: string;
  /** DOCKREV_DOCKER_CONFIG: a config.json (or its folder) staged privately for the CLI. */
  dockerConfigPath?: string;
  retry: RetryPolicy;
  /** Dockrev's folder for per-job scratch (see scratch.ts). */
  overrideDir: string;
  commandTimeoutsMs?: Partial<CommandTimeouts>;
}

export interface CliContext {
  log: StepLog;
  env: NodeJS.ProcessEnv;
  retry: RetryPolicy;
  timeoutsMs: CommandTimeouts;
}

/** A CLI context for `owner` (a job id, or "recovery"), with the Docker credentials staged when configured. */
export interface CommandSession {
  context: CliContext;
  /** Compose for one stack's project, as its plain files (plus an override per call) describe it; commands log to `log` when given. */
  composeFor(stack: Pick<Stack, 'name' | 'compose'>, log?: StepLog): StackCompose;
  docker: DockerCli;
  /** Removes the staged credentials. */
  dispose(): Promise<void>;
}

export async function openCommandSession(deps: CommandDeps, owner: string, log: StepLog, options: { stageCredentials: boolean } = { stageCredentials: true }): Promise<CommandSession> {
  let staged: StagedDockerConfig | undefined;
  if (options.stageCredentials && deps.dockerConfigPath) {
    staged = await stageDockerConfig(deps.dockerConfigPath, stagedDockerConfigPath(deps.overrideDir, owner));
    if (staged.warning) await log.log('warn', staged.warning);
  }
  const context: CliContext = {
    log,
    env: cliEnvironment({ dockerHost: deps.dockerHost, dockerConfigDir: staged?.dir }),
    retry: deps.retry,
    timeoutsMs: { ...DEFAULT_COMMAND_TIMEOUTS_MS, ...deps.commandTimeoutsMs },
  };
  return {
    context,
    composeFor: (stack, own) => composeFor(deps.composeBin, stack, own ? { ...context, log: own } : context),
    docker: new DockerCli(context),
    dispose: async () => {
      await staged?.dispose();
    },
  };
}

/** The one way a stack's Compose runner is built: project name, files and env file from the stack. */
export function composeFor(composeBin: readonly string[], stack: Pick<Stack, 'name' | 'compose'>, context: CliContext): StackCompose {
  const { composeFiles, envFile } = stack.compose;
  return new StackCompose(new ComposeRunner(composeBin, { project: stack.name, composeFiles, ...(envFile ? { envFile } : {}) }, context), context);
}

/** Compose steps of an update for one project. */
export class StackCompose {
  constructor(
    private readonly runner: ComposeRunner,
    private readonly context: CliContext,
  ) {}

  /** `pull` of these services, retried. */
  async pull(services: readonly string[], options: { overrideFile?: string; onLine?: (line: string) => void } = {}): Promise<void> {
    const timeoutMs = this.context.timeoutsMs.pull;
    await retryStep('pull', this.context.retry, () => this.runner.run(['pull', ...services], { ...options, timeoutMs }), { log: this.context.log });
  }

  /** `up -d --no-deps`: recreates just these services; not repeated on failure. */
  async up(services: readonly string[], options: { overrideFile?: string; step?: string } = {}): Promise<void> {
    const timeoutMs = this.context.timeoutsMs.up;
    await runStepOnce(options.step ?? 'up', () => this.runner.run(['up', '-d', '--no-deps', ...services], { overrideFile: options.overrideFile, timeoutMs }));
  }
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
    await retryStep(step, retry, () => runChecked(this.program, args, { log, env, timeoutMs }, label), { log });
  }
}
