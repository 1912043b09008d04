// Faults (issue 15): the server SIGKILLed in the middle of write bursts loses no write it
// acknowledged (SQLite and PostgreSQL); PostgreSQL stopped and started under load leaves no job
// running and blocks no new check; 1000 SSE clients do not slow the liveness probe past 250 ms.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, runServer, waitForHealth } from '../contract-tests/process.js';
import { startApi } from '../contract-tests/harness.js';
import { startPrivatePostgres, type PrivatePostgres } from './faults/private-postgres.js';

const NO_DOCKER = 'unix:///nonexistent/dockrev-faults.sock';
const quiet = { DOCKREV_DISCOVERY_INTERVAL_SECONDS: '3600', DOCKREV_RUNTIME_SCAN_INTERVAL_SECONDS: '3600', DOCKER_HOST: NO_DOCKER };

async function json(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text && response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

describe('faults', () => {
  let pg: PrivatePostgres;
  before(async () => {
    pg = await startPrivatePostgres();
  });
  after(async () => {
    await pg?.destroy();
  });

  for (const engine of ['sqlite', 'postgresql'] as const) {
    it(`SIGKILL during a write burst on ${engine}: every acknowledged write is there after the restart`, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'dockrev-sigkill-'));
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const location: Record<string, string> = engine === 'sqlite' ? { DOCKREV_DB_PATH: join(dir, 'dockrev.sqlite3') } : { DATABASE_URL: pg.url };
      const env: Record<string, string> = { ...quiet, ...location, DOCKREV_HTTP_ADDR: `127.0.0.1:${port}` };
      let server = runServer(env);
      try {
        await waitForHealth(port);
        const acknowledgedRules: string[] = [];
        const acknowledgedChecks: string[] = [];
        const answered = { ok: 0, refused: 0, lost: 0 };
        let killed = false;
        const writer = async (lane: number) => {
          for (let i = 0; !killed; i += 1) {
            try {
              if (i % 5 === 4) {
                const check = await json(base, 'POST', '/api/checks', { scope: 'all' });
                if (check.status === 200) acknowledgedChecks.push(check.body.checkId);
                else answered.refused += 1;
              } else {
                const rule = await json(base, 'POST', '/api/ignores', { scope: { type: 'service', serviceId: `svc_burst_${lane}` }, match: { kind: 'exact', value: `v${lane}.${i}` } });
                assert.equal(rule.status, 200, JSON.stringify(rule.body));
                acknowledgedRules.push(rule.body.ruleId);
              }
              answered.ok += 1;
            } catch (error) {
              if (!killed) throw error;
              answered.lost += 1;
            }
          }
        };
        const writers = Array.from({ length: 12 }, (_, lane) => writer(lane));
        const deadline = Date.now() + 10_000;
        while (acknowledgedRules.length < 300 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        killed = true;
        server.child.kill('SIGKILL');
        await server.exited;
        await Promise.all(writers);
        assert.ok(acknowledgedRules.length >= 100, `only ${acknowledgedRules.length} writes before the kill`);

        server = runServer(env);
        await waitForHealth(port);
        const stored = new Set<string>((await json(base, 'GET', '/api/ignores')).body.rules.map((rule: { id: string }) => rule.id));
        const missingRules = acknowledgedRules.filter((id) => !stored.has(id));
        const missingChecks = [];
        for (const id of acknowledgedChecks) if ((await json(base, 'GET', `/api/jobs/${id}`)).status !== 200) missingChecks.push(id);
        const report = `${engine}: ${acknowledgedRules.length} rules and ${acknowledgedChecks.length} checks acknowledged before SIGKILL (${answered.refused} refused as busy, ${answered.lost} cut off); ${missingRules.length + missingChecks.length} missing after the restart`;
        t.diagnostic(report);
        // eslint-disable-next-line no-console
        console.log(`faults: ${report}`);
        assert.deepEqual([missingRules, missingChecks], [[], []]);
        const { jobs } = (await json(base, 'GET', '/api/jobs?status=running')).body;
        assert.deepEqual(jobs.filter((job: { id: string }) => acknowledgedChecks.includes(job.id)), [], 'no check the kill interrupted is left running');
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('PostgreSQL stopped and started under load: no job stays running, new checks start', async (t) => {
    // knex reports every refused connection on the console (console.log); the outage is the point here.
    const log = console.log;
    t.after(() => {
      console.log = log;
    });
    console.log = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('faults: ')) log(...args);
    };
    const api = await startApi({ databaseUrl: pg.url, env: { DOCKER_HOST: NO_DOCKER } });
    const base = await api.listen();
    try {
      let release!: () => void;
      const long = await api.engine.jobs.start(
        { prefix: 'chk', type: 'check', scope: 'stack', stackId: 'stk_outage', createdBy: 'ops', reason: 'ui', startMessage: 'check started', failureMessage: 'check failed' },
        () => new Promise((resolve) => (release = () => resolve({ summary: { servicesChecked: 1 } }))),
      );
      const statuses = new Map<number, number>();
      let loading = true;
      const load = async () => {
        while (loading) {
          const answer = await Promise.race([
            (Math.random() < 0.5 ? json(base, 'GET', Math.random() < 0.5 ? '/api/stacks' : '/api/jobs?limit=5') : json(base, 'POST', '/api/checks', { scope: 'all' })).catch(() => ({ status: -1 })),
            new Promise<{ status: number }>((resolve) => setTimeout(() => resolve({ status: 0 }), 15_000)),
          ]);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        }
      };
      const loaders = Array.from({ length: 6 }, load);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await pg.stop();
      // The job ends while the database is away: its end cannot be written yet.
      release();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await pg.resume();
      const deadline = Date.now() + 30_000;
      // This instance's jobs (the database also holds the SIGKILL tests' rows).
      const ours = async () => (await api.store.jobs.runningWithOwners()).filter((entry) => entry.owner === api.engine.jobs.owner);
      let running = await ours().catch(() => undefined);
      while ((running === undefined || running.length > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        running = await ours().catch(() => undefined);
      }
      loading = false;
      await Promise.all(loaders);
      const ended = await api.store.jobs.get(long.id);
      const summary = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ');
      const report = `PostgreSQL outage of 2 s under load (${summary}); the job running across it ended ${ended?.status}${ended?.summary.terminated ? ` (${JSON.stringify(ended.summary.terminated)})` : ''}; running jobs left: ${running?.length}`;
      t.diagnostic(report);
      // eslint-disable-next-line no-console
      console.log(`faults: ${report}`);
      assert.deepEqual(running?.map((entry) => entry.job.id), [], 'no job stays running');
      assert.notEqual(ended?.status, 'running');
      assert.equal(statuses.get(0) ?? 0, 0, 'every request got an answer');
      for (const status of statuses.keys()) assert.ok([200, 409, 503].includes(status), `status ${status} under load`);
      assert.ok((statuses.get(503) ?? 0) > 0, 'the outage was felt, as 503 unavailable (never 500)');
      // The last checks the load started may still be finishing; then nothing may be left over.
      await api.engine.jobs.idle();
      const fresh = await json(base, 'POST', '/api/checks', { scope: 'all' });
      assert.equal(fresh.status, 200, `a new check after the outage: ${JSON.stringify(fresh.body)}`);
    } finally {
      await api.close();
    }
  });

  it('1000 concurrent SSE clients: /api/health answers within 250 ms and every stream gets the next event', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dockrev-sse-load-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = runServer({ ...quiet, DOCKREV_DB_PATH: join(dir, 'dockrev.sqlite3'), DOCKREV_HTTP_ADDR: `127.0.0.1:${port}` });
    const sockets: Socket[] = [];
    try {
      await waitForHealth(port);
      const received: string[] = [];
      const open = (index: number) =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.write('GET /api/jobs/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n'));
          received[index] = '';
          socket.setEncoding('utf8');
          socket.on('data', (chunk: string) => {
            if (received[index] === '') resolve();
            received[index] += chunk;
          });
          socket.on('error', reject);
          sockets.push(socket);
        });
      for (let batch = 0; batch < 10; batch += 1) await Promise.all(Array.from({ length: 100 }, (_, i) => open(batch * 100 + i)));
      assert.equal(received.filter((text) => text.startsWith('HTTP/1.1 200')).length, 1000);

      const latencies: number[] = [];
      for (let probe = 0; probe < 20; probe += 1) {
        const started = performance.now();
        const health = await fetch(`${base}/api/health`);
        await health.text();
        latencies.push(performance.now() - started);
        assert.equal(health.status, 200);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const scan = await json(base, 'POST', '/api/discovery/scan', {});
      assert.equal(scan.status, 200);
      const deadline = Date.now() + 20_000;
      const got = () => received.filter((text) => text.includes('"type":"job_finished"') && text.includes(scan.body.jobId)).length;
      while (got() < 1000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      latencies.sort((a, b) => a - b);
      const report = `1000 SSE clients open: /api/health p50 ${latencies[10]!.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms; ${got()} of 1000 streams got the scan's job_finished`;
      t.diagnostic(report);
      // eslint-disable-next-line no-console
      console.log(`faults: ${report}`);
      assert.ok(latencies.at(-1)! < 250, `health took ${latencies.at(-1)!.toFixed(0)} ms`);
      assert.equal(got(), 1000);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
