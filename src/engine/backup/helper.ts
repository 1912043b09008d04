import type Dockerode from 'dockerode';
import { withDeadline } from '../../deadline.js';
import { COMPOSE_LABELS } from '../docker/containers.js';
import { describeEndpoint, parseDockerHost } from '../docker/endpoint.js';
import { DockerError, DockerUnavailableError } from '../docker/errors.js';

/** Every helper container carries this label (value: its purpose), so leftovers can be found. */
export const BACKUP_HELPER_LABEL = 'dockrev.backup.helper';
/** The stack a helper container works for. */
export const BACKUP_STACK_LABEL = 'dockrev.backup.stack';

export type HelperPurpose = 'probe' | 'archive' | 'restore';

export interface HelperMount {
  type: 'volume' | 'bind';
  /** Volume name, or absolute path on the Docker host. */
  source: string;
  /** Path inside the helper container. */
  target: string;
  readOnly: boolean;
}

export interface HelperContainerSpec {
  image: string;
  purpose: HelperPurpose;
  labels?: Record<string, string>;
  /** Run by `sh -c`; `args` become `$1`, `$2`, … so no value is ever spliced into the script. */
  script: string;
  args?: readonly string[];
  env?: Record<string, string>;
  mounts: readonly HelperMount[];
  /** From start to exit; the container is killed and removed when it runs longer. */
  timeoutMs: number;
}

export interface HelperContainerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** One mount of a Compose service's container, as the container list reports it. */
export interface ContainerMount {
  type: string;
  /** Volume name (volumes only). */
  name?: string;
  /** Host path (binds) or the volume's folder on the host. */
  source: string;
  destination: string;
  readWrite: boolean;
}

/** What backups need from the Docker engine. */
export interface BackupDocker {
  /**
   * Runs one throwaway container without network to completion and removes it, also on failure.
   * A non-zero exit is a result, not an error; a timeout throws HelperTimeoutError, a missing
   * image HelperImageMissingError, a missing volume HelperVolumeMissingError (volumes are never
   * created as a side effect).
   */
  runHelper(spec: HelperContainerSpec): Promise<HelperContainerResult>;
  /** Mounts of the containers (running or stopped, one-off runs excluded) of these Compose services. */
  listServiceMounts(project: string, services: readonly string[]): Promise<ContainerMount[]>;
}

export class HelperTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HelperTimeoutError';
  }
}

export class HelperImageMissingError extends Error {
  constructor(readonly image: string) {
    super(`backup helper image "${image}" is not present on the Docker host; Dockrev does not pull it: pull or load it first`);
    this.name = 'HelperImageMissingError';
  }
}

export class HelperVolumeMissingError extends Error {
  constructor(readonly volume: string) {
    super(`docker volume "${volume}" does not exist`);
    this.name = 'HelperVolumeMissingError';
  }
}

export interface BackupDockerOptions {
  /** A `DOCKER_HOST` value (`unix:///…` or `tcp://host:port`); default /var/run/docker.sock. */
  dockerHost?: string;
  /** Limit for each API call other than waiting for a helper to finish. Default 30 s. */
  apiTimeoutMs?: number;
}

const DEFAULT_API_TIMEOUT_MS = 30_000;
/** Enough to explain a failure; a helper that prints more is cut to its last lines. */
const HELPER_LOG_TAIL_LINES = 200;

const UNREACHABLE_CODES = new Set([
  'ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK', 'ECONNRESET', 'EPIPE',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT',
]);

/** BackupDocker over dockerode, talking to exactly the given endpoint. */
export function createBackupDocker(options: BackupDockerOptions = {}): BackupDocker {
  const endpoint = parseDockerHost(options.dockerHost);
  const apiTimeoutMs = options.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS;
  // Every transport field is set so docker-modem ignores DOCKER_HOST/DOCKER_CERT_PATH in the
  // environment. No socket timeout: waiting for a helper is bounded by its own timeout instead.
  // dockerode (and the gRPC stack it loads) is only needed once a backup runs.
  let loaded: Promise<Dockerode> | undefined;
  const docker = () =>
    (loaded ??= import('dockerode').then(
      ({ default: Dockerode }) =>
        new Dockerode({
          ...(endpoint.kind === 'socket'
            ? { socketPath: endpoint.socketPath, host: undefined, port: undefined }
            : { socketPath: undefined, host: endpoint.host, port: endpoint.port }),
          protocol: 'http',
          ca: undefined,
          cert: undefined,
          key: undefined,
        }),
    ));

  const where = describeEndpoint(endpoint);
  const api = async <T>(operation: string, request: () => Promise<T>): Promise<T> => {
    const noAnswer = () => new DockerUnavailableError(`Docker engine at ${where} did not answer "${operation}" within ${apiTimeoutMs} ms`);
    try {
      return await withDeadline(request(), apiTimeoutMs, noAnswer);
    } catch (error) {
      throw translateError(operation, error, where);
    }
  };

  async function requireVolume(name: string): Promise<void> {
    try {
      await api(`inspect volume ${name}`, async () => (await docker()).getVolume(name).inspect());
    } catch (error) {
      if (DockerError.isNotFound(error)) throw new HelperVolumeMissingError(name);
      throw error;
    }
  }

  async function createHelper(spec: HelperContainerSpec): Promise<Dockerode.Container> {
    try {
      return await api('create backup helper container', async () =>
        (await docker()).createContainer({
          Image: spec.image,
          Entrypoint: ['sh', '-c'],
          Cmd: [spec.script, `dockrev-backup-${spec.purpose}`, ...(spec.args ?? [])],
          Env: Object.entries(spec.env ?? {}).map(([key, value]) => `${key}=${value}`),
          // Root whatever the image says: the data belongs to other users, and restores chown it back.
          User: '0:0',
          WorkingDir: '/',
          Labels: { ...spec.labels, [BACKUP_HELPER_LABEL]: spec.purpose },
          HostConfig: {
            NetworkMode: 'none',
            Mounts: spec.mounts.map((mount) => ({ Type: mount.type, Source: mount.source, Target: mount.target, ReadOnly: mount.readOnly })),
            SecurityOpt: ['no-new-privileges'],
          },
        }),
      );
    } catch (error) {
      // Creating a container fails with "not found" only for a missing image.
      if (DockerError.isNotFound(error)) throw new HelperImageMissingError(spec.image);
      throw error;
    }
  }

  return {
    async runHelper(spec) {
      for (const mount of spec.mounts) if (mount.type === 'volume') await requireVolume(mount.source);
      const container = await createHelper(spec);
      try {
        const run = (async () => {
          await api('start backup helper container', () => container.start());
          return (await container.wait()) as { StatusCode: number };
        })();
        const timedOut = () => new HelperTimeoutError(`backup helper (${spec.purpose}) timed out after ${spec.timeoutMs} ms and was removed`);
        const { StatusCode } = await withDeadline(run, spec.timeoutMs, timedOut).catch((error: unknown) => {
          throw error instanceof HelperTimeoutError ? error : translateError('run backup helper container', error, where);
        });
        const logs = await api('read backup helper logs', () =>
          container.logs({ stdout: true, stderr: true, follow: false, tail: HELPER_LOG_TAIL_LINES }),
        );
        return { exitCode: StatusCode, ...demultiplexLogs(logs) };
      } finally {
        // Best effort: a container that cannot be removed now keeps its label and is found later.
        await api('remove backup helper container', () => container.remove({ force: true, v: true })).catch(() => undefined);
      }
    },

    async listServiceMounts(project, services) {
      if (services.length === 0) return [];
      const wanted = new Set(services);
      const containers = await api('list containers', async () =>
        (await docker()).listContainers({ all: true, filters: { label: [`${COMPOSE_LABELS.project}=${project}`] } }),
      );
      return containers
        .filter((info) => info.Labels?.[COMPOSE_LABELS.oneoff] !== 'True' && wanted.has(info.Labels?.[COMPOSE_LABELS.service] ?? ''))
        .flatMap((info) =>
          (info.Mounts ?? []).map((mount) => ({
            type: mount.Type,
            ...(mount.Name ? { name: mount.Name } : {}),
            source: mount.Source,
            destination: mount.Destination,
            readWrite: mount.RW,
          })),
        );
    },
  };
}

/** The end of what a failed helper printed, for error messages. */
export function helperOutputTail(result: HelperContainerResult, lines = 10): string {
  return (result.stderr || result.stdout).trim().split('\n').slice(-lines).join('\n') || '(no output)';
}

/** Non-TTY container logs interleave frames: 1 byte stream (1 out, 2 err), 3 padding, 4 length. */
function demultiplexLogs(frames: Buffer): { stdout: string; stderr: string } {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  for (let offset = 0; offset + 8 <= frames.length; ) {
    const length = frames.readUInt32BE(offset + 4);
    (frames[offset] === 2 ? stderr : stdout).push(frames.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
}

function translateError(operation: string, error: unknown, where: string): Error {
  if (error instanceof DockerUnavailableError || error instanceof DockerError) return error;
  const { code, statusCode, message } = error as { code?: string; statusCode?: number; message?: string };
  if (code && UNREACHABLE_CODES.has(code)) {
    return new DockerUnavailableError(`cannot reach the Docker engine at ${where} (${code})`, { cause: error });
  }
  return new DockerError(`docker ${operation} failed: ${(message ?? String(error)).trim()}`, statusCode, { cause: error });
}
