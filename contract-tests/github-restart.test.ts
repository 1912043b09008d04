// The webhook worker outlives the process: the real server is killed while one register job runs
// on a slow GitHub and another waits in the queue; the next server on the same database queues
// the interrupted one again and runs both.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GithubDouble } from '../test/fixtures/github-double.js';
import { freePort, runServer, waitForHealth } from './process.js';

const PAT = 'ghp_restartPat';

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('GitHub webhook jobs across a restart', () => {
  it('runs the queued job and queues the interrupted one again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockrev-github-restart-'));
    const github = await GithubDouble.start();
    github.addToken(PAT, 'octo');
    for (const name of ['web', 'api']) github.addRepo({ owner: 'acme', name });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      DOCKREV_HTTP_ADDR: `127.0.0.1:${port}`,
      DOCKREV_DB_PATH: join(dir, 'dockrev.sqlite3'),
      DOCKREV_GITHUB_API_BASE_URL: github.baseUrl,
      DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
      DOCKREV_DISCOVERY_INTERVAL_SECONDS: '3600',
      DOCKREV_RUNTIME_SCAN_INTERVAL_SECONDS: '3600',
    };
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return (await response.json()) as any;
    };
    const jobOf = async (id: string) => (await api('GET', `/api/jobs/${id}`)).job;
    let server = runServer(env);
    try {
      await waitForHealth(port);
      await api('PUT', '/api/github-packages/settings', { enabled: true, callbackUrl: 'https://dockrev.example.com/api/webhooks/github-packages', pat: PAT });
      github.delayMs = 60_000;
      const first = (await api('POST', '/api/github-packages/repos/selected', { fullName: 'acme/web', selected: true })).jobId;
      const second = (await api('POST', '/api/github-packages/repos/selected', { fullName: 'acme/api', selected: true })).jobId;
      await until('the first job to run', async () => ((await jobOf(first)).status === 'running' ? true : undefined));
      assert.equal((await jobOf(second)).status, 'queued', 'one register at a time');
      server.child.kill('SIGKILL');
      await server.exited;

      github.delayMs = 0;
      server = runServer(env);
      await waitForHealth(port);
      const interrupted = await jobOf(first);
      assert.deepEqual([interrupted.status, interrupted.summary.terminated?.reason], ['failed', 'server_restart']);
      const retry = await until('the interrupted job queued again', async () => {
        const { jobs } = await api('GET', '/api/jobs?type=github_packages_webhook');
        return jobs.find((entry: any) => entry.summary.retryOf === first);
      });
      for (const id of [retry.id, second]) {
        const done = await until(`job ${id}`, async () => {
          const job = await jobOf(id);
          return job.status === 'queued' || job.status === 'running' ? undefined : job;
        });
        assert.equal(done.status, 'success', JSON.stringify(done.summary));
      }
      assert.deepEqual([github.hooks('acme/web').length, github.hooks('acme/api').length], [1, 1]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await github.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
