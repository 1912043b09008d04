import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { newId } from '../src/ids.js';
import { openStore } from '../src/store/index.js';
import { NOT_IMPLEMENTED } from '../src/handlers/not-implemented.js';
import { contract, startApi } from './harness.js';
import { freePort, runServer, waitForHealth } from './process.js';
import { sampleBody, sampleQuery } from './sampler.js';

const postgresUrl = process.env.DOCKREV_TEST_DATABASE_URL;
if (!postgresUrl && process.env.DOCKREV_TEST_REQUIRE_POSTGRES === '1') {
  throw new Error('DOCKREV_TEST_REQUIRE_POSTGRES=1 but DOCKREV_TEST_DATABASE_URL is not set');
}

describe('process start-up and restarts', () => {
  it('refuses a bad configuration, naming the variable', async () => {
    const { exited } = runServer({ DOCKREV_HTTP_ADDR: 'not-an-address', DOCKREV_AUTH_TRUSTED_PROXIES: '10.0.0.0/99' });
    const exit = await exited;
    assert.equal(exit.code, 2);
    assert.match(exit.stderr, /DOCKREV_HTTP_ADDR/);
    assert.match(exit.stderr, /DOCKREV_AUTH_TRUSTED_PROXIES/);
  });

  it('warns at start-up when an allowlist is set without trusted proxies, and not once they are set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockrev-unguarded-'));
    const logsOf = async (env: Record<string, string>) => {
      const port = await freePort();
      const server = runServer({ DOCKREV_HTTP_ADDR: `127.0.0.1:${port}`, DOCKREV_DB_PATH: join(dir, `${port}.sqlite3`), DOCKREV_AUTH_ALLOWED_USER: 'ops', ...env });
      let stdout = '';
      server.child.stdout.on('data', (chunk) => (stdout += chunk));
      try {
        await waitForHealth(port);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
      return stdout;
    };
    try {
      const unguarded = await logsOf({});
      const warning = unguarded.split('\n').find((line) => line.includes('DOCKREV_AUTH_TRUSTED_PROXIES'));
      assert.ok(warning, unguarded);
      assert.equal(JSON.parse(warning).level, 40, 'a warning');
      assert.match(warning, /any client that reaches this port can send X-Forwarded-User/);
      assert.doesNotMatch(await logsOf({ DOCKREV_AUTH_TRUSTED_PROXIES: '127.0.0.1' }), /DOCKREV_AUTH_TRUSTED_PROXIES is not/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits with a clear message when the database is unreachable', async () => {
    const port = await freePort();
    const { exited } = runServer({ DATABASE_URL: `postgres://dockrev:dockrev@127.0.0.1:${port}/dockrev` });
    const exit = await exited;
    assert.equal(exit.code, 1);
    assert.match(exit.stderr, /cannot open the database/);
    assert.match(exit.stderr, /DATABASE_URL/);
  });

  it('serves GET /api/health and marks jobs interrupted by a restart as failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockrev-start-'));
    const sqlitePath = join(dir, 'dockrev.sqlite3');
    const store = await openStore({ sqlitePath });
    const running = newId('job');
    const queued = newId('job');
    for (const [id, status] of [
      [running, 'running'],
      [queued, 'queued'],
    ] as const) {
      await store.jobs.create({ id, type: 'update', scope: 'all', status, createdBy: 'ops', reason: 'ui' });
    }
    await store.close();

    const port = await freePort();
    const { child, exited } = runServer({ DOCKREV_HTTP_ADDR: `127.0.0.1:${port}`, DOCKREV_DB_PATH: sqlitePath });
    try {
      await waitForHealth(port);
      const job = (await (await fetch(`http://127.0.0.1:${port}/api/jobs/${running}`)).json()) as any;
      assert.equal(job.job.status, 'failed');
      assert.equal(job.job.summary.terminated.reason, 'server_restart');
      assert.ok(job.job.finishedAt);
      const stillQueued = (await (await fetch(`http://127.0.0.1:${port}/api/jobs/${queued}`)).json()) as any;
      assert.equal(stillQueued.job.status, 'queued');
    } finally {
      child.kill('SIGTERM');
      const exit = await exited;
      assert.equal(exit.code, 0, `graceful stop: ${exit.stderr}`);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const engine of ['sqlite', 'postgresql'] as const) {
    it(`keeps settings and rules across a restart on ${engine}`, { skip: engine === 'postgresql' && !postgresUrl }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dockrev-restart-'));
      const location = engine === 'sqlite' ? { sqlitePath: join(dir, 'dockrev.sqlite3') } : { sqlitePath: join(dir, 'unused'), databaseUrl: postgresUrl };
      const as = { user: 'ops' };
      const env = { DOCKREV_AUTH_ALLOWED_USER: 'ops' };
      const backup = { enabled: false, requireSuccess: false, baseDir: `/tmp/${dir.split('/').pop()}`, skipTargetsOverBytes: 42 };
      const first = await startApi({ env, ...location });
      let ruleId: string;
      try {
        await first.call('putSettings', { ...as, body: { backup } });
        ruleId = (await first.call('createIgnoreRule', { ...as, body: { scope: { type: 'service', serviceId: 'svc_restart' }, match: { kind: 'semver', value: '>=2' } } })).body.ruleId;
        await first.call('putDeployWelcome', { ...as, body: { neverAutoOpen: true } });
      } finally {
        await first.close();
      }
      const second = await startApi({ env, ...location });
      try {
        assert.deepEqual((await second.call('getSettings', as)).body.backup, backup);
        const rules = (await second.call('listIgnoreRules', as)).body.rules;
        assert.ok(rules.some((rule: any) => rule.id === ruleId && rule.match.kind === 'semver'));
        assert.equal((await second.call('getDeployWelcome', as)).body.neverAutoOpen, true);
      } finally {
        await second.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('fails discovery and runtime scans as jobs with a clear error when Docker is unreachable, and keeps answering', async () => {
    const api = await startApi({ env: { DOCKER_HOST: 'unix:///tmp/dockrev-no-such-docker.sock' } });
    try {
      const stack = await api.store.stacks.create({ name: 'offline', compose: { type: 'path', composeFiles: ['/srv/offline/compose.yml'] }, services: [{ name: 'web', image: { ref: 'nginx', tag: 'latest' } }] });
      await api.store.discoveryProjects.upsert({ project: 'offline', status: 'active', stackId: stack.id });
      for (const [operationId, body] of [
        ['startDiscoveryScan', undefined],
        ['createRuntimeScan', { scope: 'all' }],
      ] as const) {
        const started = await api.call(operationId, { body });
        await api.engine.jobs.settled(started.body.jobId);
        const { job } = (await api.call('getJob', { params: { jobId: started.body.jobId } })).body;
        assert.equal(job.status, 'failed', operationId);
        assert.match(job.summary.error, /dockrev-no-such-docker\.sock/, operationId);
        assert.ok(job.logs.some((log: any) => log.level === 'error'), operationId);
      }
      const listed = (await api.call('listStacks')).body.stacks;
      assert.equal(listed.find((entry: any) => entry.id === stack.id).status, 'unknown');
    } finally {
      await api.close();
    }
  });

  it('answers 500 in the envelope, without internals, when the database goes away mid-flight', async () => {
    const api = await startApi({ env: { DOCKREV_WEBHOOK_SECRET: 'mid-flight' } });
    await api.store.close();
    // The version-inference event stream is read from memory (a ring of the last events), not the database.
    // Readiness says so with its own 503.
    const withoutDatabase = ['getHealth', 'getVersion', 'createStack', 'streamVersionInferenceEvents', 'getOpenApiDocument', 'getApiDocs', 'getMetrics', 'getReadiness'];
    const touchesDatabase = [...contract.operations.values()].filter(
      (op) => !(NOT_IMPLEMENTED as readonly string[]).includes(op.operationId) && !withoutDatabase.includes(op.operationId),
    );
    assert.equal(touchesDatabase.length, contract.operations.size - NOT_IMPLEMENTED.length - withoutDatabase.length);
    try {
      for (const op of touchesDatabase) {
        const params = Object.fromEntries([...op.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, `${name}_x`]));
        const response = await api.call(op.operationId, {
          params,
          body: sampleBody(contract, op),
          query: sampleQuery(contract, op),
          // The GitHub receiver reads its settings only for a package event with a delivery id.
          headers: { 'X-Dockrev-Webhook-Secret': 'mid-flight', 'X-GitHub-Event': 'package', 'X-GitHub-Delivery': 'mid-flight' },
          allowInternalError: true,
        });
        assert.equal(response.status, 500, op.operationId);
        assert.deepEqual(response.body, { error: { code: 'internal', message: 'internal error', details: {} } });
      }
      const ready = await api.call('getReadiness');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.error.code, 'not_ready');
      assert.equal(ready.body.error.details.checks.database.ok, false);
    } finally {
      await api.close();
    }
  });
});
