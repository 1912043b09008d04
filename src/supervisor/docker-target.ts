// The target container through the docker and Compose CLIs (DOCKREV_SUPERVISOR_DOCKER_BIN,
// _COMPOSE_BIN, with DOCKER_HOST = DOCKREV_SUPERVISOR_DOCKER_HOST): the supervisor needs a handful
// of commands, and the CLIs are what a person would run by hand to do the same.
import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { resolveConfigFiles } from '../engine/discovery/config-files.js';
import { COMPOSE_LABELS } from '../engine/docker/containers.js';
// Only the stable part of the engine's CLI runner: spawning with a log, the environment, and the
// Compose argv (project, files, override, env file).
import { cliEnvironment, ComposeRunner, runCommand, type CommandLog } from '../engine/docker/compose.js';
import type { SupervisorConfig } from './config.js';
import { apiPortOf, httpGet } from './probe.js';
import type { OperationLog, TargetContainer, TargetRuntime } from './target.js';

const PULL_TIMEOUT_MS = 300_000;
const UP_TIMEOUT_MS = 600_000;
const READ_TIMEOUT_MS = 30_000;
const HEALTH_POLL_MS = 700;
const HEALTH_REQUEST_TIMEOUT_MS = 800;
/** A registry hiccup should not fail an upgrade: the pull is tried twice, a second apart. */
const PULL_ATTEMPTS = 2;
const NO_RETRY = { maxAttempts: 1, baseMs: 0, maxMs: 0 };

interface InspectJson {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  Config: { Image: string; Labels: Record<string, string> | null; Env: string[] | null };
  State: { Running: boolean };
  NetworkSettings: { Networks: Record<string, { IPAddress?: string }> | null };
}

const quiet: CommandLog = { log: async () => undefined };

function commandLog(log: OperationLog): CommandLog {
  return { log: (level, message) => log(level === 'info' ? 'INFO' : level === 'warn' ? 'WARN' : 'ERROR', message) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type TargetSettings = Pick<SupervisorConfig, 'target' | 'dockerBin' | 'dockerHost' | 'composeBin'> & {
  /** Where the Compose override pinning the image is written. */
  overridePath: string;
};

export class DockerTarget implements TargetRuntime {
  private readonly env: NodeJS.ProcessEnv;
  /** The Compose service of the last container found by id: ids change when Compose recreates it. */
  private lastService?: { project: string; service: string };

  constructor(private readonly settings: TargetSettings) {
    this.env = cliEnvironment({ dockerHost: settings.dockerHost });
  }

  async resolve(): Promise<TargetContainer> {
    const container = await this.find();
    const repoDigest = await this.repoDigest(container.Image);
    return {
      id: container.Id,
      name: container.Name.replace(/^\//, ''),
      running: container.State.Running,
      imageRef: container.Config.Image,
      imageId: container.Image,
      ...(repoDigest ? { repoDigest } : {}),
    };
  }

  async pull(ref: string, log: OperationLog): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.logged(this.settings.dockerBin, ['pull', ref], log, { timeoutMs: PULL_TIMEOUT_MS, label: `docker pull ${ref}` });
        return;
      } catch (error) {
        if (attempt >= PULL_ATTEMPTS) throw error;
        await log('WARN', `pull attempt ${attempt}/${PULL_ATTEMPTS} failed; retrying`);
        await sleep(1000);
      }
    }
  }

  async recreate(imageRef: string, log: OperationLog): Promise<void> {
    const container = await this.find();
    const labels = container.Config.Labels ?? {};
    const project = labels[COMPOSE_LABELS.project];
    const service = labels[COMPOSE_LABELS.service];
    if (!project || !service) {
      throw new Error(`target ${container.Name.replace(/^\//, '')} was not created by Compose; the supervisor recreates Compose services only`);
    }
    const composeFiles = await this.composeFiles(labels);
    const envFile = labels[COMPOSE_LABELS.environmentFile];
    const { overridePath } = this.settings;
    await mkdir(dirname(overridePath), { recursive: true });
    // JSON is YAML; only the image changes, everything else stays as the project's files say.
    await writeFile(overridePath, `${JSON.stringify({ services: { [service]: { image: imageRef } } }, null, 2)}\n`);
    await log('INFO', `compose override: ${service}.image = ${imageRef}`);
    // argv() uses only the project's files; the rest is what the runner's constructor takes.
    const context = { log: commandLog(log), env: this.env, retry: NO_RETRY, timeoutsMs: { pull: PULL_TIMEOUT_MS, up: UP_TIMEOUT_MS, tag: READ_TIMEOUT_MS } };
    const runner = new ComposeRunner(this.settings.composeBin, { project, composeFiles, ...(envFile ? { envFile } : {}) }, context);
    const [program, ...args] = runner.argv(['up', '-d', '--no-deps', service], { overrideFile: overridePath });
    // From the project folder, as a person runs Compose: relative paths in the files resolve there.
    await this.logged(program!, args, log, { timeoutMs: UP_TIMEOUT_MS, cwd: dirname(composeFiles[0]!), label: `compose up ${service}` });
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let problem: string;
    for (;;) {
      problem = await this.healthProblem().catch((error: Error) => error.message);
      if (!problem) return;
      if (Date.now() + HEALTH_POLL_MS > deadline) break;
      await sleep(HEALTH_POLL_MS);
    }
    throw new Error(`target did not answer /api/health within ${Math.round(timeoutMs / 1000)} s (${problem})`);
  }

  async version(): Promise<string> {
    const container = await this.find();
    let lastError = 'no network address';
    for (const url of this.urls(container, '/api/version')) {
      try {
        const answer = await httpGet(url, 5000);
        const version = (JSON.parse(answer.body) as { version?: unknown }).version;
        if (answer.status === 200 && typeof version === 'string') return version;
        lastError = `${url} answered ${answer.status}`;
      } catch (error) {
        lastError = `${url}: ${(error as Error).message}`;
      }
    }
    throw new Error(`GET /api/version failed: ${lastError}`);
  }

  /** Empty when the target answers `GET /api/health` with 200, else what is wrong. */
  private async healthProblem(): Promise<string> {
    const container = await this.find();
    if (!container.State.Running) return `container ${container.Name.replace(/^\//, '')} is not running`;
    const urls = this.urls(container, '/api/health');
    if (urls.length === 0) return 'container has no network address';
    const problems: string[] = [];
    for (const url of urls) {
      try {
        const answer = await httpGet(url, HEALTH_REQUEST_TIMEOUT_MS);
        if (answer.status === 200) return '';
        problems.push(`${url} answered ${answer.status}`);
      } catch (error) {
        problems.push(`${url}: ${(error as Error).message}`);
      }
    }
    return problems.join('; ');
  }

  private urls(container: InspectJson, path: string): string[] {
    const port = apiPortOf(container.Config.Env ?? []);
    return Object.values(container.NetworkSettings.Networks ?? {})
      .map((network) => network.IPAddress)
      .filter((ip): ip is string => Boolean(ip))
      .map((ip) => `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}${path}`);
  }

  /** Runs a command with its line and result in the operation's log; throws unless it exits 0. */
  private async logged(program: string, args: string[], log: OperationLog, options: { timeoutMs: number; label: string; cwd?: string }): Promise<void> {
    const { timeoutMs, label, cwd } = options;
    const result = await runCommand(program, args, { log: commandLog(log), env: this.env, timeoutMs, ...(cwd ? { cwd } : {}) });
    if (result.code === 0) return;
    const why = result.timedOut ? `timed out after ${timeoutMs / 1000} s` : `exited with ${result.code ?? result.signal ?? 'an error'}`;
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${label} ${why}${detail ? `: ${detail}` : ''}`);
  }

  private async docker(args: string[]): Promise<string> {
    const result = await runCommand(this.settings.dockerBin, args, { log: quiet, env: this.env, timeoutMs: READ_TIMEOUT_MS });
    if (result.code !== 0) throw new Error(`${this.settings.dockerBin} ${args[0]} ${args[1] ?? ''} failed: ${(result.stderr || result.stdout).trim()}`);
    return result.stdout;
  }

  private async inspect(ids: string[]): Promise<InspectJson[]> {
    if (ids.length === 0) return [];
    const result = await runCommand(this.settings.dockerBin, ['container', 'inspect', ...ids], { log: quiet, env: this.env, timeoutMs: READ_TIMEOUT_MS });
    // A missing id makes inspect exit 1 but still print the others.
    if (result.code !== 0 && !/no such (object|container)/i.test(result.stderr)) {
      throw new Error(`docker container inspect failed: ${result.stderr.trim()}`);
    }
    return result.stdout.trim() ? (JSON.parse(result.stdout) as InspectJson[]) : [];
  }

  /** The configured container, else the newest (running first) container of the Compose service. */
  private async find(): Promise<InspectJson> {
    const { containerId, composeProject, composeService } = this.settings.target;
    if (containerId) {
      const [byId] = await this.inspect([containerId]);
      if (byId) {
        const labels = byId.Config.Labels ?? {};
        const project = labels[COMPOSE_LABELS.project];
        const service = labels[COMPOSE_LABELS.service];
        if (project && service) this.lastService = { project, service };
        return byId;
      }
    }
    const wanted = composeProject && composeService ? { project: composeProject, service: composeService } : this.lastService;
    if (!wanted) {
      throw new Error(
        containerId
          ? `target container ${containerId} not found`
          : 'no target configured: set DOCKREV_SUPERVISOR_TARGET_CONTAINER_ID, or DOCKREV_SUPERVISOR_TARGET_COMPOSE_PROJECT and _SERVICE',
      );
    }
    const ids = (await this.docker([
      'ps', '-a', '--no-trunc', '--format', '{{.ID}}',
      '--filter', `label=${COMPOSE_LABELS.project}=${wanted.project}`,
      '--filter', `label=${COMPOSE_LABELS.service}=${wanted.service}`,
    ])).split('\n').map((id) => id.trim()).filter(Boolean);
    const candidates = (await this.inspect(ids))
      .filter((container) => container.Config.Labels?.[COMPOSE_LABELS.oneoff] !== 'True')
      .sort((a, b) => Number(b.State.Running) - Number(a.State.Running) || b.Created.localeCompare(a.Created));
    const found = candidates[0];
    if (!found) throw new Error(`no container of Compose service ${wanted.project}/${wanted.service}`);
    return found;
  }

  private async repoDigest(imageId: string): Promise<string | undefined> {
    const out = await this.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', imageId]).catch(() => '[]');
    const digests = JSON.parse(out.trim() || '[]') as string[] | null;
    const prefix = `${this.settings.target.imageRepo}@`;
    return digests?.find((entry) => entry.startsWith(prefix))?.slice(prefix.length);
  }

  /** DOCKREV_SUPERVISOR_TARGET_COMPOSE_FILES, else the project's files from the labels (without our override). */
  private async composeFiles(labels: Record<string, string>): Promise<string[]> {
    if (this.settings.target.composeFiles.length > 0) return this.settings.target.composeFiles;
    const resolved = resolveConfigFiles(labels[COMPOSE_LABELS.configFiles] ?? '', labels[COMPOSE_LABELS.workingDir]);
    if (!resolved.ok) throw new Error(`cannot tell the target's Compose files from its labels (${resolved.reason})`);
    for (const candidate of resolved.candidates) {
      const files = candidate.filter((file) => file !== this.settings.overridePath);
      const readable = await Promise.all(files.map((file) => access(file).then(() => true, () => false)));
      if (files.length > 0 && readable.every(Boolean)) return files;
    }
    throw new Error(
      `the target's Compose files are not readable here (${resolved.candidates[0]!.join(', ')}); mount the project folder into the supervisor at the same path`,
    );
  }
}
