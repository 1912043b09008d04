import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DockerEngine,
  DockerUnavailableError,
  healthFromStatusText,
  parseDockerHost,
  selectRuntimeDigest,
  stackStatus,
  type ComposeContainer,
} from './index.js';
import { repositorySpellings } from '../registry/hosts/index.js';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

describe('parseDockerHost', () => {
  it('defaults to the local socket', () => {
    assert.deepEqual(parseDockerHost(undefined), { kind: 'socket', socketPath: '/var/run/docker.sock' });
    assert.deepEqual(parseDockerHost('  '), { kind: 'socket', socketPath: '/var/run/docker.sock' });
  });

  it('reads unix and tcp endpoints', () => {
    assert.deepEqual(parseDockerHost('unix:///run/dockrev-docker.sock'), { kind: 'socket', socketPath: '/run/dockrev-docker.sock' });
    assert.deepEqual(parseDockerHost('tcp://docker-proxy:2375'), { kind: 'tcp', host: 'docker-proxy', port: 2375 });
    assert.deepEqual(parseDockerHost('tcp://10.0.0.5'), { kind: 'tcp', host: '10.0.0.5', port: 2375 });
  });

  it('rejects what it cannot speak, naming DOCKER_HOST', () => {
    assert.throws(() => parseDockerHost('ssh://user@host'), /DOCKER_HOST 'ssh:\/\/user@host' is not supported/);
    assert.throws(() => parseDockerHost('unix://relative.sock'), /DOCKER_HOST/);
    assert.throws(() => parseDockerHost('tcp://host:70000'), /port out of range/);
  });
});

describe('container health and stack status', () => {
  const container = (service: string, state: ComposeContainer['state'], health?: ComposeContainer['health']): ComposeContainer => ({
    id: service, name: `p_${service}_1`, project: 'p', service, imageId: DIGEST_A, configuredImage: 'img', labels: {}, state,
    ...(health ? { health } : {}),
  });

  it('reads health from the status text of the container list', () => {
    assert.equal(healthFromStatusText('Up 3 seconds (healthy)'), 'healthy');
    assert.equal(healthFromStatusText('Up 2 minutes (unhealthy)'), 'unhealthy');
    assert.equal(healthFromStatusText('Up Less than a second (health: starting)'), 'starting');
    assert.equal(healthFromStatusText('Up 5 hours'), undefined);
    assert.equal(healthFromStatusText('Exited (0) 2 seconds ago'), undefined);
  });

  it('is healthy only when every container runs and is healthy or has no healthcheck', () => {
    assert.equal(stackStatus([]), 'unknown');
    assert.equal(stackStatus([container('web', 'running'), container('db', 'running', 'healthy')]), 'healthy');
    assert.equal(stackStatus([container('web', 'running'), container('db', 'exited')]), 'degraded');
    assert.equal(stackStatus([container('web', 'running', 'starting')]), 'degraded');
    assert.equal(stackStatus([container('web', 'running', 'unhealthy')]), 'degraded');
    assert.equal(stackStatus([container('web', 'restarting')]), 'degraded');
  });

  it('is degraded when an expected service has no container', () => {
    assert.equal(stackStatus([container('web', 'running')], ['web']), 'healthy');
    assert.equal(stackStatus([container('web', 'running')], ['web', 'worker']), 'degraded');
  });
});

describe('runtime digest', () => {
  it('accepts every spelling of a Docker Hub repository', () => {
    assert.deepEqual([...repositorySpellings('docker.io/library/nginx')], ['docker.io/library/nginx', 'library/nginx', 'nginx']);
    assert.deepEqual([...repositorySpellings('docker.io/acme/web')], ['docker.io/acme/web', 'acme/web']);
    assert.deepEqual([...repositorySpellings('127.0.0.1:5101/app/web')], ['127.0.0.1:5101/app/web']);
  });

  it('needs exactly one distinct digest of the repository across the containers', () => {
    assert.equal(selectRuntimeDigest([[`nginx@${DIGEST_A}`]], 'docker.io/library/nginx'), DIGEST_A);
    assert.equal(selectRuntimeDigest([[`ghcr.io/acme/web@${DIGEST_A}`], [`ghcr.io/acme/web@${DIGEST_A}`]], 'ghcr.io/acme/web'), DIGEST_A);
    // Digests of other repositories sharing the image do not count.
    assert.equal(selectRuntimeDigest([[`ghcr.io/acme/web@${DIGEST_A}`, `ghcr.io/acme/other@${DIGEST_B}`]], 'ghcr.io/acme/web'), DIGEST_A);
    assert.equal(selectRuntimeDigest([[`ghcr.io/acme/web@${DIGEST_A}`], [`ghcr.io/acme/web@${DIGEST_B}`]], 'ghcr.io/acme/web'), undefined);
    assert.equal(selectRuntimeDigest([[]], 'ghcr.io/acme/web'), undefined);
    assert.equal(selectRuntimeDigest([[`ghcr.io/acme/webapp@${DIGEST_A}`]], 'ghcr.io/acme/web'), undefined);
  });
});

describe('DockerEngine when the engine cannot be reached', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-docker-test-'));
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  after(() => {
    for (const socket of sockets) socket.destroy();
    for (const server of servers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the missing socket and DOCKER_HOST, quickly', async () => {
    const socketPath = join(dir, 'missing.sock');
    const started = Date.now();
    await assert.rejects(new DockerEngine({ dockerHost: `unix://${socketPath}` }).ping(), (error: unknown) => {
      assert.ok(error instanceof DockerUnavailableError);
      assert.match(error.message, new RegExp(`Docker socket ${socketPath} does not exist`));
      assert.match(error.message, /DOCKER_HOST/);
      return true;
    });
    assert.ok(Date.now() - started < 1_000);
  });

  it('reports a refused TCP connection as unavailable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(
      new DockerEngine({ dockerHost: `tcp://127.0.0.1:${port}` }).listComposeContainers(),
      (error: unknown) => error instanceof DockerUnavailableError && /refused the connection; check DOCKER_HOST/.test(error.message),
    );
  });

  it('gives up on an engine that accepts but never answers', async () => {
    const socketPath = join(dir, 'silent.sock');
    const silent = createServer((socket) => sockets.push(socket));
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
    const started = Date.now();
    await assert.rejects(
      new DockerEngine({ dockerHost: `unix://${socketPath}`, timeoutMs: 200 }).imageRepoDigests([DIGEST_A]),
      (error: unknown) => error instanceof DockerUnavailableError && /did not answer "inspect image .*" within 200 ms/.test(error.message),
    );
    assert.ok(Date.now() - started < 1_000);
  });
});
