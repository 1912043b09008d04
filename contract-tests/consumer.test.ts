import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectRoot } from '../src/spec.js';
import { infraOrSkip } from '../test/fixtures/infra.js';
import { contract, startApi, type Api } from './harness.js';

// What an API consumer reads besides the operations: the document, its reference page, metrics
// and readiness.

describe('the served contract, metrics and readiness', () => {
  let api: Api;
  const as = { user: 'ops' };
  before(async () => {
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
  });
  after(() => api.close());

  it('serves the bundled OpenAPI document, unauthenticated', async () => {
    const served = await api.call('getOpenApiDocument');
    assert.equal(served.status, 200);
    assert.deepEqual(served.body, JSON.parse(readFileSync(join(projectRoot(), 'src', 'generated', 'dockrev.openapi.json'), 'utf8')));
    assert.deepEqual(served.body, contract.document);
  });

  it('serves a reference page that loads nothing from elsewhere', async () => {
    const page = await api.call('getApiDocs');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type']!, /^text\/html/);
    assert.match(page.text, /Dockrev API/);
    assert.doesNotMatch(page.text, /<script[^>]+src=["']https?:/i, 'no script from a CDN');
    assert.doesNotMatch(page.text, /<link[^>]+href=["']https?:/i, 'no stylesheet or font from elsewhere');
  });

  it('fails readiness while Docker does not answer, naming it', async () => {
    const ready = await api.call('getReadiness');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.error.code, 'not_ready');
    assert.deepEqual([ready.body.error.details.checks.database.ok, ready.body.error.details.checks.docker.ok], [true, false]);
    assert.match(ready.body.error.message, /Docker/);
    assert.equal((await api.call('getHealth')).status, 200, 'liveness is not readiness');
  });

  it('protects /metrics like the API and exposes the named series', async () => {
    assert.equal((await api.call('getMetrics')).status, 401);
    await api.call('listStacks', as);
    await api.call('getJob', { ...as, params: { jobId: 'job_missing' } });
    const job = await api.engine.jobs.start(
      { prefix: 'chk', type: 'check', scope: 'all', createdBy: 'ops', reason: 'ui', startMessage: 'check started', failureMessage: 'check failed' },
      async () => ({ summary: {} }),
    );
    await api.engine.jobs.settled(job.id);
    await api.engine.events.drain();
    api.engine.events.publish('update.finished', { jobId: 'job_x', reason: 'ui', createdBy: 'ops', mode: 'apply', status: 'rolled_back', stacks: [{ stackId: 's', stackName: 's', status: 'rolled_back', changed: [], rolledBack: [{ serviceId: 'a', serviceName: 'a' }], failed: [] }] });
    api.engine.events.publish('notification.attempted', { deliveryId: 'd', channel: 'webhook', kind: 'job_finished', status: 'sent', attempt: 1 });
    await api.engine.events.drain();
    const metrics = await api.call('getMetrics', as);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers['content-type']!, /^text\/plain/);
    const text = metrics.text;
    assert.match(text, /dockrev_http_requests_total\{operation_id="listStacks",method="GET",status="200"\} 1/);
    assert.match(text, /dockrev_http_requests_total\{operation_id="getJob",method="GET",status="404"\} 1/);
    assert.match(text, /dockrev_http_request_duration_seconds_bucket\{le="[^"]+",operation_id="listStacks",method="GET",status="200"\} 1/);
    assert.match(text, /dockrev_jobs_finished_total\{type="check",status="success"\} 1/);
    assert.match(text, /dockrev_check_duration_seconds_count\{scope="all",status="success"\} 1/);
    assert.match(text, /dockrev_updates_total\{mode="apply",status="rolled_back"\} 1/);
    assert.match(text, /dockrev_update_services_total\{outcome="rolled_back"\} 1/);
    assert.match(text, /dockrev_notification_deliveries_total\{channel="webhook",kind="job_finished",status="sent"\} 1/);
    assert.match(text, /# TYPE dockrev_registry_requests_total counter/);
  });

  it('counts registry requests by host and kind', async () => {
    // Nothing listens on port 9: the request gets no answer (status 0) and is counted all the same.
    await assert.rejects(api.engine.registry.headManifest({ registry: '127.0.0.1:9', repository: 'acme/web' }, 'latest'));
    const text = (await api.call('getMetrics', as)).text;
    assert.match(text, /dockrev_registry_requests_total\{host="127\.0\.0\.1:9",kind="manifest",method="HEAD",status="0"\} [1-9]/);
  });
});

describe('/metrics with DOCKREV_METRICS_PUBLIC=true', () => {
  it('answers scrapers without identity while the API stays protected', async () => {
    const api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_METRICS_PUBLIC: 'true' } });
    try {
      assert.equal((await api.call('getMetrics')).status, 200);
      assert.equal((await api.call('listStacks')).status, 401);
    } finally {
      await api.close();
    }
  });
});

describe('readiness with the Docker engine of the test infrastructure', () => {
  const { infra, skip } = infraOrSkip();
  it('is ready while the database and Docker answer', { skip }, async () => {
    const api = await startApi({ env: { DOCKER_HOST: infra!.dockerHost } });
    try {
      const ready = await api.call('getReadiness');
      assert.equal(ready.status, 200, ready.text);
      assert.deepEqual([ready.body.ready, ready.body.checks.database.ok, ready.body.checks.docker.ok], [true, true, true]);
    } finally {
      await api.close();
    }
  });
});
