// Push, not poll, on the real Docker engine and registries: a docker-registry of this test's own
// whose notifications call the Dockrev receiver, a plain registry standing in for Quay's (with
// the Quay double for its notification API), and the infra's open registry behind host aliases
// for the Harbor and Docker Hub senders. No scheduled check runs here: every candidate comes
// from a push notice.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jobReader, startApi, waitForJob, type Api } from '../contract-tests/harness.js';
import { QuayDouble } from './doubles/quay.js';
import { dockerHubPayload, distributionEvent, harborPayload, sendDistributionEnvelope, sendDockerHubWebhook, sendHarborWebhook } from './doubles/registry-senders.js';
import {
  createComposeProject,
  infraOrSkip,
  publishImage,
  removeImages,
  repointTag,
  startNotifyingRegistry,
  uniqueName,
  waitFor,
  type ComposeProject,
  type NotifyingRegistry,
} from './fixtures/index.js';

const { infra, skip } = infraOrSkip();
const as = { user: 'ops' };

describe('registry push webhooks on the real engine', { skip, timeout: 600_000 }, () => {
  const run = uniqueName('rwh').toLowerCase();
  let api: Api;
  let base: string;
  let notifying: NotifyingRegistry;
  let quayRegistry: NotifyingRegistry;
  let quay: QuayDouble;
  let project: ComposeProject;
  let stackId = '';
  const refs: string[] = [];
  const tokens: Record<string, string> = {};
  const digests: Record<string, string> = {};
  const open = () => infra!.registries.open.host;
  const image: Record<string, () => string> = {
    web: () => `${notifying.host}/${run}/web:latest`,
    harbored: () => `${open()}/${run}/harbored:latest`,
    hubbed: () => `${open()}/${run}/hubbed:latest`,
    quayed: () => `${quayRegistry.host}/${run}/quayed:latest`,
  };

  const services = async (): Promise<Record<string, any>> => {
    const { stack } = (await api.call('getStack', { ...as, params: { stackId } })).body;
    return Object.fromEntries(stack.services.map((service: any) => [service.name, service]));
  };
  const candidateOf = async (name: string) => (await services())[name]?.candidate?.digest as string | undefined;
  const checksOf = async (serviceId: string) => (await api.store.jobs.list({ types: ['check'], limit: 200 })).jobs.filter((job) => job.serviceId === serviceId);
  const deliveries = async (query: Record<string, string>) => (await api.call('listRegistryWebhookDeliveries', { ...as, query })).body.deliveries as any[];
  const publish = async (name: string) => {
    const published = await publishImage({ ref: image[name]!() });
    refs.push(published.ref);
    digests[name] = published.digest;
  };
  const repoint = async (name: string) => {
    const moved = await repointTag(image[name]!(), { previousDigest: digests[name] });
    digests[name] = moved.digest;
    return moved.digest;
  };

  before(async () => {
    quayRegistry = await startNotifyingRegistry();
    quay = await QuayDouble.start({ oauthToken: 'quay-oauth-e2e', serverHostname: quayRegistry.host });
    api = await startApi({
      env: {
        DOCKREV_AUTH_ALLOWED_USER: 'ops',
        DOCKER_HOST: infra!.dockerHost,
        DOCKREV_DOCKER_CONFIG: join(infra!.dockerConfig, 'config.json'),
        DOCKREV_QUAY_HOSTS: quayRegistry.host,
      },
    });
    base = await api.listen();
    await api.call('putSettings', {
      ...as,
      body: { backup: { enabled: false, requireSuccess: false, baseDir: '/tmp/dockrev-backups', skipTargetsOverBytes: 1 }, instance: { publicBaseUrl: base } },
    });
    const saved = await api.call('putRegistryWebhookSettings', {
      ...as,
      body: {
        sources: { distribution: { enabled: true }, harbor: { enabled: true }, dockerhub: { enabled: true }, quay: { enabled: true } },
        hostAliases: [
          { from: 'harbor.test', to: open() },
          { from: 'docker.io', to: open() },
        ],
        quay: { apiBaseUrl: quay.baseUrl, oauthToken: 'quay-oauth-e2e', registryHost: quayRegistry.host },
      },
    });
    for (const [source, revealed] of Object.entries<any>(saved.body.revealed)) tokens[source] = revealed.token;
    notifying = await startNotifyingRegistry({ endpoint: saved.body.revealed.distribution.callbackUrl, token: tokens.distribution });

    for (const name of Object.keys(image)) await publish(name);
    project = await createComposeProject({
      name: run,
      services: Object.fromEntries(Object.keys(image).map((name) => [name, { image: image[name]!(), network_mode: 'none' }])),
    });
    await project.up();
    const scan = await api.call('startDiscoveryScan', as);
    const job = await waitForJob(jobReader(api), scan.body.jobId);
    stackId = job.summary.scan.actions.find((action: any) => action.project === run).stackId;
    assert.deepEqual(Object.keys(await services()).sort(), ['harbored', 'hubbed', 'quayed', 'web']);
  });

  after(async () => {
    await api?.close();
    await project?.dispose().catch(() => undefined);
    await removeImages(refs).catch(() => undefined);
    await notifying?.stop();
    await quayRegistry?.stop();
    await quay?.stop();
  });

  it('shows the pushed digest as a candidate soon after docker push returns, from the registry’s own event', async () => {
    const web = (await services()).web;
    assert.equal(web.candidate, undefined);
    const pushed = await repoint('web');
    const started = Date.now();
    await waitFor('the candidate from the push event', async () => (await candidateOf('web')) === pushed, { timeoutMs: 20_000, intervalMs: 20 });
    const elapsed = Date.now() - started;
    console.log(`candidate visible ${elapsed} ms after docker push returned`);
    const [check] = await checksOf(web.id);
    assert.ok(check, 'a check of exactly this service');
    assert.equal(check.scope, 'service');
    assert.equal(check.reason, 'webhook');
    assert.equal(check.createdBy, 'registry');
    assert.equal(check.summary.source, 'distribution');
    assert.equal(check.summary.registry, notifying.host);
    assert.equal((await api.store.jobs.list({ types: ['check'], limit: 200 })).jobs.filter((job) => job.serviceId === undefined).length, 0, 'no scheduled or stack-wide check');
    await api.engine.registryWebhooks.settled();
    const [delivery] = await deliveries({ source: 'distribution', outcome: 'processed' });
    assert.deepEqual(delivery.digests, [pushed]);
    assert.equal(delivery.verification, 'confirmed');
    assert.deepEqual(delivery.jobIds, [check.id]);
  });

  it('starts nothing for the same event replayed, records nothing for a wrong token, and matches nobody for a repository nobody runs', async () => {
    const web = (await services()).web;
    const [delivery] = await deliveries({ source: 'distribution', outcome: 'processed' });
    const replayed = distributionEvent({ id: delivery.eventIds[0], host: notifying.host, repository: `${run}/web`, tag: 'latest', digest: digests.web! });
    const url = `${base}/api/webhooks/registry/distribution`;
    const replay = await sendDistributionEnvelope(url, tokens.distribution, { events: [replayed] });
    assert.equal(replay.status, 202);
    assert.equal(replay.body.outcome, 'duplicate');
    assert.equal((await checksOf(web.id)).length, 1);

    const count = (await deliveries({ source: 'distribution' })).length;
    const wrong = await sendDistributionEnvelope(url, 'not-the-token', { events: [distributionEvent({ host: notifying.host, repository: `${run}/web`, tag: 'latest', digest: digests.web! })] });
    assert.equal(wrong.status, 401);
    assert.equal((await deliveries({ source: 'distribution' })).length, count);

    const other = await publishImage({ ref: `${notifying.host}/${run}/nobody-runs-this:latest` });
    refs.push(other.ref);
    const unmatched = await waitFor('the unmatched delivery', async () => (await deliveries({ source: 'distribution', outcome: 'unmatched', repository: `${run}/nobody-runs-this` }))[0]);
    assert.deepEqual(unmatched.matchedServiceIds, []);
    assert.deepEqual(unmatched.tags, ['latest']);
  });

  it('keeps a burst of 1000 events for one push to one running check of the service, without a queue', async () => {
    const web = (await services()).web;
    const before = new Set((await checksOf(web.id)).map((job) => job.id));
    // The registry announces the push itself; a thousand copies (new ids, same tag and digest) race it.
    const pushed = await repoint('web');
    const event = () => distributionEvent({ host: notifying.host, repository: `${run}/web`, tag: 'latest', digest: pushed });
    const url = `${base}/api/webhooks/registry/distribution`;
    const answers = await Promise.all([
      sendDistributionEnvelope(url, tokens.distribution, { events: Array.from({ length: 500 }, event) }),
      ...Array.from({ length: 100 }, () => sendDistributionEnvelope(url, tokens.distribution, { events: Array.from({ length: 5 }, event) })),
    ]);
    assert.ok(answers.every((answer) => answer.status === 202), 'every delivery accepted');
    await waitFor('the candidate', async () => (await candidateOf('web')) === pushed, { timeoutMs: 20_000, intervalMs: 20 });
    await api.engine.registryWebhooks.settled();
    const burst = (await checksOf(web.id)).filter((job) => !before.has(job.id)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    assert.ok(burst.length >= 1 && burst.length <= 2, `${burst.length} checks for one burst`);
    for (let i = 1; i < burst.length; i++) assert.ok(burst[i]!.startedAt! >= burst[i - 1]!.finishedAt!, 'never two checks of the service at once');
    const coalesced = answers.filter((answer) => answer.body.reusedJobIds.length > 0 || answer.body.currentServiceIds.length > 0);
    assert.ok(coalesced.length >= 99, `${coalesced.length} of 101 deliveries joined a check or found the service current`);
  });

  it('takes Harbor’s and Docker Hub’s word through host aliases, and verifies it', async () => {
    const { harbored, hubbed } = await services();
    const harborDigest = await repoint('harbored');
    const harbor = await sendHarborWebhook(`${base}/api/webhooks/registry/harbor`, tokens.harbor, harborPayload({ host: 'harbor.test', repository: `${run}/harbored`, tag: 'latest', digest: harborDigest }));
    assert.equal(harbor.status, 202);
    assert.deepEqual(harbor.body.matchedServiceIds, [harbored.id]);
    await waitForJob(jobReader(api), harbor.body.jobIds[0]);
    assert.equal(await candidateOf('harbored'), harborDigest);
    assert.equal((await api.store.jobs.get(harbor.body.jobIds[0]))!.summary.source, 'harbor');

    const hubDigest = await repoint('hubbed');
    const hub = await sendDockerHubWebhook(`${base}/api/webhooks/registry/dockerhub?token=${tokens.dockerhub}`, dockerHubPayload({ repoName: `${run}/hubbed`, tag: 'latest' }));
    assert.equal(hub.status, 202);
    assert.deepEqual(hub.body.matchedServiceIds, [hubbed.id]);
    await waitForJob(jobReader(api), hub.body.jobIds[0]);
    assert.equal(await candidateOf('hubbed'), hubDigest, 'Docker Hub sends no digest: the check asked the registry');

    const lie = `sha256:${'d'.repeat(64)}`;
    const denied = await sendHarborWebhook(`${base}/api/webhooks/registry/harbor`, tokens.harbor, harborPayload({ host: 'harbor.test', repository: `${run}/harbored`, tag: 'latest', digest: lie }));
    assert.equal(denied.status, 202);
    await api.engine.registryWebhooks.settled();
    assert.equal(await candidateOf('harbored'), harborDigest, 'the event’s digest alone changes nothing');
    const [recorded] = (await deliveries({ source: 'harbor' })).filter((delivery) => delivery.id === denied.body.deliveryId);
    assert.equal(recorded.verification, 'denied');
  });

  it('manages exactly one Quay notification per repository in use, and takes Quay’s push through it', async () => {
    const audit = async (operationId = 'auditQuayNotifications') => {
      const started = await api.call(operationId, as);
      assert.equal(started.status, 202);
      return waitForJob(jobReader(api), started.body.jobId);
    };
    const repository = `${run}/quayed`;
    const first = await audit();
    assert.equal(first.status, 'success', JSON.stringify(first.summary));
    assert.deepEqual(first.summary.repositories.map((entry: any) => [entry.repository, entry.state]), [[repository, 'created']]);
    assert.equal(quay.list(repository).length, 1);
    const [notification] = quay.list(repository);
    assert.equal(notification!.config.url, `${base}/api/webhooks/registry/quay?token=${tokens.quay}`);
    assert.equal(notification!.event, 'repo_push');

    const second = await audit();
    assert.equal(second.summary.counts.created, 0);
    assert.equal(second.summary.counts.ok, 1);
    assert.equal(quay.callsOf('POST', 'create').length, 1, 'the second audit creates none');

    const quayed = (await services()).quayed;
    const pushed = await repoint('quayed');
    const [delivered] = await quay.push(repository, ['latest']);
    assert.equal(delivered!.status, 202);
    await waitFor('the candidate from Quay’s notification', async () => (await candidateOf('quayed')) === pushed, { timeoutMs: 20_000, intervalMs: 50 });
    assert.ok((await checksOf(quayed.id)).some((job) => job.summary.source === 'quay'));

    quay.setFailures(repository, notification!.uuid, 3);
    const failing = await audit();
    assert.deepEqual(failing.summary.repositories.map((entry: any) => [entry.state, entry.numberOfFailures]), [['failing', 3]]);
    const repaired = await audit('repairQuayNotifications');
    assert.equal(repaired.summary.counts.recreated, 1);
    await quay.idle();
    assert.equal(quay.list(repository).length, 1);
    assert.notEqual(quay.list(repository)[0]!.uuid, notification!.uuid);
    assert.equal(quay.list(repository)[0]!.number_of_failures, 0, 'the test delivery after the repair reached Dockrev');
    assert.equal(quay.callsOf('POST', 'test').length, 1);
  });
});
