// The kept Docker listings (DockerStateCache) on the real engine: served without engine calls while
// nothing changes, read again after every change the event stream reports, and passed straight to
// the engine while the stream is down.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerEngine, DockerStateCache, type ListComposeContainersOptions } from '../src/engine/docker/index.js';
import { buildImage, createComposeProject, docker, infraOrSkip, pushImage, uniqueName, waitFor, type ComposeProject } from './fixtures/index.js';

const { infra, skip } = infraOrSkip();

/** The real engine, counting the listings the cache asks it for. */
function countingEngine(dockerHost: string) {
  const engine = new DockerEngine({ dockerHost });
  const calls = { containers: 0, images: 0 };
  const counted = Object.assign(Object.create(engine) as DockerEngine, {
    listComposeContainers: (options?: ListComposeContainersOptions) => {
      calls.containers += 1;
      return engine.listComposeContainers(options);
    },
    imageRepoDigests: (ids: readonly string[]) => {
      calls.images += 1;
      return engine.imageRepoDigests(ids);
    },
    listImageRepoDigests: () => {
      calls.images += 1;
      return engine.listImageRepoDigests();
    },
    listImages: () => {
      calls.images += 1;
      return engine.listImages();
    },
    inspectImages: (ids: readonly string[]) => {
      calls.images += 1;
      return engine.inspectImages(ids);
    },
  });
  return { engine, counted, calls };
}

/** A unix-socket relay to the engine whose connections can be cut, to take the event stream away. */
async function relay(socketPath: string): Promise<{ dockerHost: string; cut(): void; close(): Promise<void> }> {
  const path = join(tmpdir(), `${uniqueName('relay')}.sock`);
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(socketPath);
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.pipe(upstream).pipe(client);
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    dockerHost: `unix://${path}`,
    cut: () => open.forEach((socket) => socket.destroy()),
    close: async () => {
      open.forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
      rmSync(path, { force: true });
    },
  };
}

describe('kept Docker listings on the real engine', { skip, timeout: 300_000 }, () => {
  const run = uniqueName('dstate').toLowerCase();
  let project: ComposeProject;
  const tags: string[] = [];

  before(async () => {
    project = await createComposeProject({
      name: run,
      services: { web: { image: infra!.baseImage }, worker: { image: infra!.baseImage } },
    });
    await project.up();
  });

  after(async () => {
    await project?.dispose();
    if (tags.length > 0) await docker(['image', 'rm', ...tags]).catch(() => undefined);
  });

  it('answers like the engine, from one listing, while nothing changes', async () => {
    const { engine, counted, calls } = countingEngine(infra!.dockerHost);
    const cache = new DockerStateCache(counted);
    try {
      await cache.listComposeContainers({ project: run });
      await waitFor('the event stream to connect', async () => cache.watching || undefined, { timeoutMs: 10_000 });
      const variants: ListComposeContainersOptions[] = [{}, { project: run }, { project: run, service: 'web' }, { includeStopped: true }, { project: run, includeStopped: true }];
      const before = { ...calls };
      for (const options of variants) {
        assert.deepEqual(
          (await cache.listComposeContainers(options)).map((c) => c.id),
          (await engine.listComposeContainers(options)).map((c) => c.id),
          JSON.stringify(options),
        );
      }
      const web = (await cache.listComposeContainers({ project: run, service: 'web' }))[0]!;
      assert.deepEqual(await cache.imageRepoDigests([web.imageId]), await engine.imageRepoDigests([web.imageId]));
      await cache.imageRepoDigests([web.imageId]);
      // Other tests share the engine: their events may force a new listing, but far fewer than the reads.
      assert.ok(calls.containers - before.containers <= 2, `${calls.containers - before.containers} container listings for ${variants.length + 1} reads`);
      assert.ok(calls.images - before.images <= 2, `${calls.images - before.images} image listings for 3 reads`);
    } finally {
      cache.close();
    }
  });

  it('sees a stopped container and a new image digest as soon as the docker command returns', async () => {
    const { counted } = countingEngine(infra!.dockerHost);
    const cache = new DockerStateCache(counted);
    try {
      await cache.listComposeContainers();
      await waitFor('the event stream to connect', async () => cache.watching || undefined, { timeoutMs: 10_000 });
      const worker = (await cache.listComposeContainers({ project: run, service: 'worker' }))[0]!;
      assert.equal(worker.state, 'running');

      await docker(['stop', '-t', '1', worker.id]);
      assert.deepEqual(await cache.listComposeContainers({ project: run, service: 'worker' }), []);
      assert.equal((await cache.listComposeContainers({ project: run, service: 'worker', includeStopped: true }))[0]?.state, 'exited');
      await docker(['start', worker.id]);
      assert.equal((await cache.listComposeContainers({ project: run, service: 'worker' }))[0]?.state, 'running');

      // A push gives the image a repository digest: the kept image listing must not hide it.
      const ref = `${infra!.registries.open.host}/${run}/pushed:latest`;
      const { imageId: id } = await buildImage({ ref });
      tags.push(ref);
      const before = (await cache.imageRepoDigests([id])).get(id) ?? [];
      assert.ok(!before.some((entry) => entry.startsWith(`${infra!.registries.open.host}/${run}/pushed@`)));
      const digest = await pushImage(ref);
      assert.ok(((await cache.imageRepoDigests([id])).get(id) ?? []).includes(`${infra!.registries.open.host}/${run}/pushed@${digest}`));
    } finally {
      cache.close();
    }
  });

  it('goes to the engine for every read while the event stream is down, and reconnects on a later read', async () => {
    const socketPath = infra!.dockerHost.replace(/^unix:\/\//, '');
    const link = await relay(socketPath);
    const { counted, calls } = countingEngine(link.dockerHost);
    const cache = new DockerStateCache(counted);
    try {
      await cache.listComposeContainers({ project: run });
      await waitFor('the event stream to connect', async () => cache.watching || undefined, { timeoutMs: 10_000 });
      link.cut();
      await waitFor('the cache to notice', async () => (!cache.watching ? true : undefined), { timeoutMs: 10_000 });
      const before = calls.containers;
      await cache.listComposeContainers({ project: run });
      await cache.listComposeContainers({ project: run });
      assert.equal(calls.containers - before, 2);
      // The next attempt waits out a back-off (1 s first), then a read reconnects.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await cache.listComposeContainers({ project: run });
      await waitFor('the event stream to reconnect', async () => cache.watching || undefined, { timeoutMs: 10_000 });
      assert.equal((await cache.listComposeContainers({ project: run })).length, 2);
    } finally {
      cache.close();
      await link.close();
    }
  });

  it('reads the engine directly when it offers no event stream', async () => {
    const { counted, calls } = countingEngine('unix:///nonexistent/docker.sock');
    const cache = new DockerStateCache(counted);
    try {
      await assert.rejects(cache.listComposeContainers(), /does not exist/);
      await assert.rejects(cache.listComposeContainers(), /does not exist/);
      assert.equal(calls.containers, 2);
      assert.equal(cache.watching, false);
    } finally {
      cache.close();
    }
  });
});
