// Discovery, checks, runtime scans and job streams through the API, on the real Docker engine,
// registries and Compose started by scripts/infra/up.sh. Registry traffic of the main project goes
// through a counting proxy, which can also inject 429s or go away.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jobReader, startApi, waitForJob as waitForJobUntil, type Api } from '../contract-tests/harness.js';
import { openSse } from '../contract-tests/sse-client.js';
import {
  createComposeProject,
  docker,
  pushImage,
  RegistryProxy,
  removeImages,
  repointTag,
  uniqueName,
  type ComposeProject,
  infraOrSkip,
} from './fixtures/index.js';

const { infra, skip } = infraOrSkip();
const as = { user: 'ops' };

const waitForJob = (api: Api, jobId: string) => waitForJobUntil(jobReader(api), jobId);

describe('engine on the real Docker engine and registries', { skip, timeout: 600_000 }, () => {
  const run = uniqueName('e2e').toLowerCase();
  let proxy: RegistryProxy;
  let deadProxy: RegistryProxy;
  let api: Api;
  const projects: ComposeProject[] = [];
  const refs: string[] = [];
  let stackId = '';
  let services: Record<string, any> = {};
  let webDigest = '';
  let firstCheckId = '';

  const ref = (registryHost: string, name: string, tag = 'latest') => `${registryHost}/${run}/${name}:${tag}`;
  const publish = async (target: string) => {
    await docker(['tag', infra!.baseImage, target]);
    refs.push(target);
    return pushImage(target);
  };
  const check = async (body: Record<string, unknown>) => {
    const response = await api.call('createCheck', { ...as, body });
    assert.equal(response.status, 200, response.text);
    assert.match(response.body.checkId, /^chk_[0-9A-Z]{26}$/);
    return waitForJob(api, response.body.checkId);
  };
  const stackDetail = async () => {
    const { stack } = (await api.call('getStack', { ...as, params: { stackId } })).body;
    services = Object.fromEntries(stack.services.map((service: any) => [service.name, service]));
    return stack;
  };

  before(async () => {
    proxy = await RegistryProxy.start(infra!.registries.open.host);
    deadProxy = await RegistryProxy.start(infra!.registries.open.host);
    // web and api share one repository:tag through the proxy; db lives on the token registry.
    const web = await repointTag(ref(proxy.host, 'web'), {});
    refs.push(web.ref);
    webDigest = web.digest;
    await publish(ref(proxy.host, 'worker', '1.0'));
    await publish(ref(infra!.registries.token.host, 'db', '15'));
    await publish(ref(deadProxy.host, 'cache'));

    const main = await createComposeProject({
      name: `${run}-main`,
      services: {
        web: { image: ref(proxy.host, 'web') },
        api: { image: ref(proxy.host, 'web') },
        worker: { image: ref(proxy.host, 'worker', '1.0'), healthcheck: { test: ['CMD', 'true'], interval: '1s', retries: 30 } },
        db: { image: ref(infra!.registries.token.host, 'db', '15') },
      },
    });
    const side = await createComposeProject({ name: `${run}-side`, services: { cache: { image: ref(deadProxy.host, 'cache') } } });
    projects.push(main, side);
    await main.up();
    await side.up();
    await main.waitReady('worker');

    api = await startApi({
      env: {
        DOCKREV_AUTH_ALLOWED_USER: 'ops',
        DOCKER_HOST: infra!.dockerHost,
        DOCKREV_DOCKER_CONFIG: join(infra!.dockerConfig, 'config.json'),
      },
    });
  });

  after(async () => {
    await api?.close();
    for (const project of projects) await project.dispose().catch(() => undefined);
    await removeImages(refs).catch(() => undefined);
    await proxy?.stop();
    await deadProxy?.stop();
  });

  it('discovers the Compose project with its services as a dsc_ job', async () => {
    const started = await api.call('startDiscoveryScan', as);
    assert.match(started.body.jobId, /^dsc_[0-9A-Z]{26}$/);
    const job = await waitForJob(api, started.body.jobId);
    assert.equal(job.status, 'success', JSON.stringify(job.summary));
    const action = job.summary.scan.actions.find((entry: any) => entry.project === `${run}-main`);
    assert.equal(action.action, 'created');
    stackId = action.stackId;
    const stack = await stackDetail();
    assert.deepEqual(Object.keys(services).sort(), ['api', 'db', 'web', 'worker']);
    assert.equal(services.web.image.ref, `${proxy.host}/${run}/web`);
    assert.equal(services.web.image.tag, 'latest');
    assert.equal(stack.compose.composeFiles[0], projects[0]!.file);
    const listed = (await api.call('listStacks', as)).body.stacks.find((entry: any) => entry.id === stackId);
    assert.equal(listed.status, 'healthy');
    assert.equal(listed.services, 4);
  });

  it('finds no candidate when the running digests are current, with one HEAD per repository:tag', async () => {
    proxy.reset();
    const job = await check({ scope: 'stack', stackId });
    firstCheckId = job.id;
    assert.equal(job.status, 'success');
    assert.equal(job.summary.servicesChecked, 4);
    assert.equal(job.summary.servicesWithCandidate, 0, JSON.stringify(job.summary.services));
    assert.equal(job.summary.servicesFailed, 0, JSON.stringify(job.summary.services));
    await stackDetail();
    assert.equal(services.web.image.digest, webDigest);
    assert.equal(services.api.image.digest, webDigest);
    assert.ok(!('candidate' in services.web));
    assert.match(services.db.image.digest, /^sha256:/, 'the token registry answered with the config.json credentials');
    // web and api share a tag: 2 distinct repository:tag pairs behind the proxy.
    assert.equal(proxy.count({ method: 'HEAD', kind: 'manifest' }), 2);
  });

  it('offers the new digest as a candidate once the tag is re-pointed, and counts it as an update', async () => {
    const moved = await repointTag(ref(proxy.host, 'web'), { previousDigest: webDigest });
    const job = await check({ scope: 'all' });
    assert.equal(job.status, 'success');
    await stackDetail();
    for (const name of ['web', 'api']) {
      assert.deepEqual(
        { tag: services[name].candidate?.tag, digest: services[name].candidate?.digest, archMatch: services[name].candidate?.archMatch },
        { tag: 'latest', digest: moved.digest, archMatch: 'match' },
        name,
      );
      assert.equal(services[name].image.digest, webDigest, 'the running digest stays current');
    }
    assert.ok(!('candidate' in services.worker));
    const listed = (await api.call('listStacks', as)).body.stacks.find((entry: any) => entry.id === stackId);
    assert.equal(listed.updates, 2);
  });

  it('suppresses the candidate with an ignore rule', async () => {
    const rule = await api.call('createIgnoreRule', {
      ...as,
      body: { scope: { type: 'service', serviceId: services.web.id }, match: { kind: 'exact', value: 'latest' } },
    });
    await check({ scope: 'service', serviceId: services.web.id });
    await stackDetail();
    assert.deepEqual(services.web.ignore, { matched: true, ruleId: rule.body.ruleId, reason: 'matched ignore rule for tag latest' });
    assert.ok(!('ignore' in services.api), 'rules are per service');
    const listed = (await api.call('listStacks', as)).body.stacks.find((entry: any) => entry.id === stackId);
    assert.equal(listed.updates, 1);
  });

  it('retries a 429 that carries Retry-After', async () => {
    proxy.reset();
    proxy.inject({ count: 1, status: 429, headers: { 'Retry-After': '1' } });
    const started = Date.now();
    const job = await check({ scope: 'service', serviceId: services.worker.id });
    assert.equal(job.summary.servicesFailed, 0, JSON.stringify(job.summary.services));
    assert.equal(proxy.count({ status: 429 }), 1);
    assert.ok(Date.now() - started >= 1000, 'waited as asked');
  });

  it('finishes the job and reports the service when its registry is down, keeping the others', async () => {
    const scan = await api.call('startDiscoveryScan', as).then((response) => waitForJob(api, response.body.jobId));
    // Other test runs' projects share the engine: this run's side stack is the one to look at.
    const sideStackId = scan.summary.scan.actions.find((action: any) => action.project === `${run}-side`).stackId;
    await deadProxy.stop();
    const job = await check({ scope: 'all' });
    assert.equal(job.status, 'success');
    const cache = job.summary.services.find((entry: any) => entry.service === 'cache' && entry.stackId === sideStackId);
    assert.equal(cache.status, 'failed');
    assert.match(cache.error, new RegExp(deadProxy.host.replace(/\./g, '\\.')));
    const web = job.summary.services.find((entry: any) => entry.service === 'web' && entry.stackId === stackId);
    assert.equal(web.status, 'ok');
    await stackDetail();
    assert.ok(services.api.candidate, 'candidates found earlier are kept');
  });

  it('makes no registry request in a runtime scan without drift', async () => {
    proxy.reset();
    const response = await api.call('createRuntimeScan', { ...as, body: { scope: 'stack', stackId } });
    assert.match(response.body.jobId, /^job_/);
    const job = await waitForJob(api, response.body.jobId);
    assert.equal(job.status, 'success');
    assert.equal(job.summary.servicesDrifted, 0);
    assert.equal(job.summary.servicesWithRuntimeDigest, 4);
    assert.equal(proxy.requests.length, 0);
  });

  it('notices drift when containers change outside Dockrev, and asks the registry only about those', async () => {
    await projects[0]!.run(['pull', 'web']);
    await projects[0]!.run(['up', '-d', 'web']);
    proxy.reset();
    const response = await api.call('createRuntimeScan', { ...as, body: { scope: 'stack', stackId } });
    const job = await waitForJob(api, response.body.jobId);
    assert.equal(job.summary.servicesDrifted, 1);
    assert.equal(job.summary.servicesUpdated, 1);
    assert.equal(proxy.count({ method: 'HEAD', kind: 'manifest' }), 1, 'one HEAD for the one drifted service');
    await stackDetail();
    assert.equal(services.web.image.digest, services.api.candidate.digest, 'web now runs what api is offered');
    assert.ok(!('candidate' in services.web));
    const events = (await api.call('getJob', { ...as, params: { jobId: job.id } })).body.job.logs
      .filter((log: any) => log.level === 'event')
      .map((log: any) => JSON.parse(log.msg).type);
    assert.equal(events[0], 'runtime_scan_started');
    assert.ok(events.includes('runtime_scan_service'));
    assert.deepEqual(events.slice(-2), ['runtime_scan_finished', 'job_finished']);
  });

  it('answers 409 with the running check id, and 400 without the scope id', async () => {
    const first = await api.call('createCheck', { ...as, body: { scope: 'stack', stackId } });
    const second = await api.call('createCheck', { ...as, body: { scope: 'stack', stackId } });
    if (second.status === 409) {
      assert.equal(second.body.error.details.existingJobId, first.body.checkId);
      assert.equal(second.body.error.message, 'check already running');
    } else {
      // The first check may already have finished on a fast machine; then both are fine.
      assert.equal(second.status, 200);
    }
    await waitForJob(api, first.body.checkId);
    const missing = await api.call('createCheck', { ...as, body: { scope: 'stack' } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.message, 'stackId is required for scope=stack');
  });

  it('replays a check job stream from Last-Event-ID', async () => {
    const { job } = (await api.call('getJob', { ...as, params: { jobId: firstCheckId } })).body;
    assert.ok(job.logs.length >= 3);
    const resumeAfter = job.logs[0].id;
    const stream = await openSse(await api.listen(), `/api/jobs/${firstCheckId}/events`, { 'X-Forwarded-User': 'ops', 'Last-Event-ID': String(resumeAfter) });
    const frames = await stream.waitFor(job.logs.length - 1);
    stream.close();
    assert.deepEqual(
      frames.map((frame) => frame.id),
      job.logs.slice(1).map((log: any) => log.id),
    );
    const progress = frames.find((frame) => frame.event === 'job_progress');
    assert.ok(progress);
    for (const field of ['plannedCurrent', 'plannedTotal', 'plannedPercent']) assert.equal(typeof progress.data[field], 'number');
  });

  it('shows a stopped container as a degraded stack', async () => {
    await docker(['stop', '-t', '1', (await projects[0]!.container('worker')).id]);
    const listed = (await api.call('listStacks', as)).body.stacks.find((entry: any) => entry.id === stackId);
    assert.equal(listed.status, 'degraded');
  });
});
