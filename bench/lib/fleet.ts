// A fleet of Compose services for the scale benchmark, made through the Engine API: images built
// from the infra base image (offline), pushed through the counting registry proxy, and
// containers labelled exactly as Compose labels them, with their Compose files on disk for
// discovery to read. Thousands of containers this way take a minute instead of a Compose
// process per project, and never a network (the engine's address pools are shared).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { mapConcurrently } from '../../src/concurrency.js';
import { COMPOSE_LABELS } from '../../src/engine/docker/containers.js';

/** A one-file tar archive (ustar): the build context of a Dockerfile. */
function tarOf(name: string, content: string): Buffer {
  const body = Buffer.from(content, 'utf8');
  const header = Buffer.alloc(512, 0);
  const field = (text: string, offset: number, length: number) => header.write(text.slice(0, length), offset, 'ascii');
  field(name, 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  field(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512, 0);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024, 0)]);
}

/** Waits for a build or push stream to end; an `error` line in it fails. */
async function follow(docker: Docker, stream: NodeJS.ReadableStream, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
      const failed = error?.message ?? output?.find((line) => line.error)?.error;
      if (failed) reject(new Error(`${what}: ${failed}`));
      else resolve();
    }),
  );
}

export interface FleetOptions {
  socketPath: string;
  baseImage: string;
  /** Registry host (the counting proxy) the repositories live on. */
  registryHost: string;
  runId: string;
  /** Where the Compose files are written. */
  dir: string;
  projectSize: number;
  /** Services per repository: service i runs repository floor(i / servicesPerRepo). */
  servicesPerRepo: number;
  /** Label every container of the fleet carries (key=value), for narrowing and teardown. */
  runLabel: [string, string];
}

/** The bench's fleet; grows, never shrinks, and `remove()` takes everything it made away. */
export class Fleet {
  readonly docker: Docker;
  private readonly pushed: string[] = [];
  private services = 0;

  constructor(private readonly options: FleetOptions) {
    this.docker = new Docker({ socketPath: options.socketPath });
  }

  ref(repository: number): string {
    return `${this.options.registryHost}/bench/r${repository}:latest`;
  }

  get size(): number {
    return this.services;
  }

  /** Repositories r0…r(count−1), each its own image (a LABEL on the base image), pushed. */
  async publishImages(count: number, concurrency = 4): Promise<void> {
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !this.pushed.includes(this.ref(i)));
    await mapConcurrently(missing, concurrency, async (i) => {
      const ref = this.ref(i);
      const dockerfile = `FROM ${this.options.baseImage}\nLABEL dockrev.bench.repo="r${i}" ${this.options.runLabel[0]}="${this.options.runLabel[1]}"\n`;
      await follow(this.docker, await this.docker.buildImage(Readable.from(tarOf('Dockerfile', dockerfile)), { t: ref, q: true } as Docker.ImageBuildOptions), `build ${ref}`);
      this.pushed.push(ref);
      const [name, tag] = [ref.slice(0, ref.lastIndexOf(':')), 'latest'];
      await follow(this.docker, await this.docker.getImage(name).push({ tag, authconfig: {} as Docker.AuthConfig }), `push ${ref}`);
    });
  }

  /** Adds Compose projects of `projectSize` services until the fleet runs `total` services. */
  async grow(total: number, concurrency = 8): Promise<void> {
    const { projectSize, runId, dir, servicesPerRepo, runLabel } = this.options;
    if (total % projectSize !== 0 || this.services % projectSize !== 0) throw new Error(`fleet sizes must be multiples of ${projectSize}`);
    const projects = Array.from({ length: (total - this.services) / projectSize }, (_, k) => this.services / projectSize + k);
    await mapConcurrently(projects, concurrency, async (p) => {
      const project = `scale-${runId}-p${p}`;
      const workingDir = join(dir, project);
      const file = join(workingDir, 'compose.yml');
      const names = Array.from({ length: projectSize }, (_, k) => p * projectSize + k);
      const services = Object.fromEntries(names.map((i) => [`s${i}`, { image: this.ref(Math.floor(i / servicesPerRepo)), network_mode: 'none', labels: { [runLabel[0]]: runLabel[1] } }]));
      await mkdir(workingDir, { recursive: true });
      await writeFile(file, `${JSON.stringify({ services }, null, 2)}\n`);
      for (const [service, definition] of Object.entries(services)) {
        const container = await this.docker.createContainer({
          name: `${project}-${service}-1`,
          Image: definition.image,
          Labels: {
            [COMPOSE_LABELS.project]: project,
            [COMPOSE_LABELS.service]: service,
            [COMPOSE_LABELS.oneoff]: 'False',
            [COMPOSE_LABELS.configFiles]: file,
            [COMPOSE_LABELS.workingDir]: workingDir,
            'com.docker.compose.container-number': '1',
            [runLabel[0]]: runLabel[1],
          },
          HostConfig: { NetworkMode: 'none' },
        });
        await container.start();
      }
    });
    this.services = total;
  }

  /** Every container and image this run made (by its label and its names). */
  async remove(): Promise<void> {
    const [key, value] = this.options.runLabel;
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${key}=${value}`] } });
    await mapConcurrently(containers, 8, (info) => this.docker.getContainer(info.Id).remove({ force: true, v: true }).catch(() => undefined));
    await mapConcurrently(this.pushed, 8, (ref) => this.docker.getImage(ref).remove({ force: true }).catch(() => undefined));
  }
}
