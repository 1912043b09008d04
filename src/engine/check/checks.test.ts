// Checks as jobs against a real store and an in-memory registry, with a scripted Docker: what
// they publish, and that subscribers never hold a job up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { openStore, type Store } from '../../store/index.js';
import type { ComposeContainer, DockerReads } from '../docker/index.js';
import { EngineEvents, type CheckFinishedEvent } from '../events.js';
import { JobRunner } from '../jobs/runner.js';
import { RegistryClient } from '../registry/index.js';
import { FakeRegistry } from '../registry/testing/fake-registry.js';
import { Checks } from './checks.js';

describe('checks publish engine events', () => {
  let dir: string;
  let store: Store;
  let registry: FakeRegistry;
  let events: EngineEvents;
  let jobs: JobRunner;
  let checks: Checks;
  let serviceId: string;
  let stackId: string;
  let candidateDigest: string;
  const runningDigest = `sha256:${'0'.repeat(64)}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dockrev-checks-'));
    store = await openStore({ sqlitePath: join(dir, 'dockrev.sqlite3') });
    registry = await FakeRegistry.start();
    candidateDigest = registry.pushImage('acme/web', 'latest', 'linux/amd64');
    const stack = await store.stacks.create({
      name: 'shop',
      compose: { type: 'path', composeFiles: ['/srv/shop/compose.yml'] },
      services: [{ name: 'web', image: { ref: `${registry.host}/acme/web`, tag: 'latest' } }],
    });
    stackId = stack.id;
    serviceId = stack.services[0]!.id;
    const container: ComposeContainer = {
      id: 'c1', name: 'shop-web-1', project: 'shop', service: 'web', imageId: 'sha256:img', configuredImage: `${registry.host}/acme/web:latest`, labels: {}, state: 'running',
    };
    const docker: DockerReads = {
      listComposeContainers: async () => [container],
      imageRepoDigests: async () => new Map([['sha256:img', [`${registry.host}/acme/web@${runningDigest}`]]]),
    };
    const logger = pino({ level: 'silent' });
    events = new EngineEvents(logger);
    jobs = new JobRunner(store, logger, events);
    checks = new Checks({ store, jobs, docker, registry: new RegistryClient(), hostPlatform: 'linux/amd64', logger });
  });

  after(async () => {
    await jobs.idle();
    await events.drain();
    await registry.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a new candidate once, with the digests seen at check time, after the job row is final', async () => {
    const finished = events.next('check.finished');
    const found = events.next('candidate.found');
    const jobFinished = events.next('job.finished', (event) => event.type === 'check');
    let statusSeenBySubscriber: string | undefined;
    const off = events.on('job.finished', async (event) => {
      statusSeenBySubscriber = (await store.jobs.get(event.jobId))?.status;
    });
    const job = await checks.startCheck({ scope: 'stack', stackId }, { via: 'schedule' });
    const check: Readonly<CheckFinishedEvent> = await finished;
    assert.equal(check.jobId, job.id);
    assert.equal(check.reason, 'schedule');
    assert.deepEqual(check.stackIds, [stackId]);
    assert.equal(check.servicesChecked, 1);
    assert.deepEqual(check.newCandidates, [await found]);
    assert.deepEqual(await found, {
      jobId: job.id,
      reason: 'schedule',
      stackId,
      stackName: 'shop',
      serviceId,
      serviceName: 'web',
      imageRef: `${registry.host}/acme/web`,
      tag: 'latest',
      currentDigest: runningDigest,
      candidateDigest,
      archMatch: 'match',
      ignored: false,
    });
    assert.equal((await jobFinished).status, 'success');
    await events.drain();
    off();
    assert.equal(statusSeenBySubscriber, 'success', 'job.finished comes after the final write');

    // The same candidate again is not new.
    const again = events.next('check.finished');
    await checks.startCheck({ scope: 'stack', stackId }, { via: 'schedule' });
    assert.deepEqual((await again).newCandidates, []);
  });

  it('finishes its job while a subscriber sleeps for a second and another throws', async () => {
    const slow = events.on('check.finished', () => new Promise((resolve) => setTimeout(resolve, 1000)));
    const failing = events.on('job.finished', () => {
      throw new Error('subscriber failure');
    });
    try {
      const job = await checks.startCheck({ scope: 'stack', stackId }, { via: 'api', createdBy: 'ops', reason: 'ui' });
      const started = Date.now();
      await jobs.settled(job.id);
      const settledAfter = Date.now() - started;
      const stored = await store.jobs.get(job.id);
      assert.equal(stored?.status, 'success');
      assert.ok(settledAfter < 500, `the job settled ${settledAfter} ms after it started, not after the subscriber`);
    } finally {
      slow();
      failing();
    }
  });

  it('joins the running check of a service for a second push notice, unioning the audit fields', async () => {
    registry.delayMs = 200; // keeps the first check running while the second notice arrives
    const first = await checks.checkForPush(serviceId, { createdBy: 'registry', startMessage: 'registry push check started', audit: { source: 'distribution', eventIds: ['e1'] } });
    const second = await checks.checkForPush(serviceId, { createdBy: 'github', startMessage: 'github webhook check started', audit: { source: 'github_webhook', eventIds: ['e2'], deliveryId: 'd2' } });
    assert.equal(first.reused, false);
    assert.equal(second.reused, true);
    assert.equal(second.job.id, first.job.id);
    assert.match(first.job.id, /^chk_/);
    const finished = events.next('check.finished', (event) => event.jobId === first.job.id);
    await jobs.settled(first.job.id);
    const stored = await store.jobs.get(first.job.id);
    assert.deepEqual(
      { reason: stored?.reason, createdBy: stored?.createdBy, scope: stored?.scope, serviceId: stored?.serviceId, stackId: stored?.stackId },
      { reason: 'webhook', createdBy: 'registry', scope: 'service', serviceId, stackId },
    );
    assert.equal(stored?.summary.source, 'github_webhook');
    assert.deepEqual(stored?.summary.eventIds, ['e1', 'e2']);
    assert.equal(stored?.summary.deliveryId, 'd2');
    assert.equal((await finished).source, 'github_webhook');
    registry.delayMs = 0;
    const third = await checks.checkForPush(serviceId, { createdBy: 'registry', startMessage: 'registry push check started', audit: { source: 'distribution' } });
    assert.equal(third.reused, false, 'a finished check is not joined');
    await jobs.settled(third.job.id);
  });
});
