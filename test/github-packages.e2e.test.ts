// GitHub packages end to end on the real Docker engine, registry and Compose: the local open
// registry stands in for GHCR (DOCKREV_GHCR_HOST), the GitHub REST double registers the hook
// Dockrev asks for and delivers `package` events to it, signed with the secret it was given.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jobReader, startApi, waitForJob, type Api } from '../contract-tests/harness.js';
import {
  createComposeProject,
  GithubDouble,
  infraOrSkip,
  packageEventPayload,
  removeImages,
  repointTag,
  sendDelivery,
  uniqueName,
  type ComposeProject,
} from './fixtures/index.js';

const { infra, skip } = infraOrSkip();
const as = { user: 'ops' };
const PAT = 'ghp_e2ePlantedPat00000000000000000000000';

describe('GitHub package deliveries on the real engine and registry', { skip, timeout: 600_000 }, () => {
  const owner = uniqueName('gh').toLowerCase();
  let github: GithubDouble;
  let api: Api;
  let project: ComposeProject;
  let callbackUrl = '';
  let serviceId = '';
  let runningDigest = '';
  const refs: string[] = [];
  const job = (jobId: string) => waitForJob(jobReader(api), jobId, { timeoutMs: 60_000 });
  const image = () => `${infra!.registries.open.host}/${owner}/web:latest`;
  const payload = (repo: string, digest?: string) => packageEventPayload({ owner, repo, digest, registryHost: infra!.registries.open.host });
  const service = async () => {
    const stack = (await api.call('getStack', { ...as, params: { stackId: (await api.store.services.get(serviceId))!.stackId } })).body.stack;
    return stack.services.find((entry: any) => entry.id === serviceId);
  };

  before(async () => {
    const published = await repointTag(image());
    refs.push(image());
    runningDigest = published.digest;
    project = await createComposeProject({ name: `${owner}-app`, services: { web: { image: image() } } });
    await project.up();

    github = await GithubDouble.start();
    github.addToken(PAT, 'octo');
    github.addRepo({ owner, name: 'web' });
    github.addRepo({ owner, name: 'tools' });
    api = await startApi({
      env: {
        DOCKREV_AUTH_ALLOWED_USER: 'ops',
        DOCKER_HOST: infra!.dockerHost,
        DOCKREV_DOCKER_CONFIG: join(infra!.dockerConfig, 'config.json'),
        DOCKREV_GHCR_HOST: infra!.registries.open.host,
        DOCKREV_GITHUB_API_BASE_URL: github.baseUrl,
      },
    });
    callbackUrl = `${await api.listen()}/api/webhooks/github-packages`;

    const scan = await job((await api.call('startDiscoveryScan', as)).body.jobId);
    const stackId = scan.summary.scan.actions.find((action: any) => action.project === `${owner}-app`).stackId;
    serviceId = (await api.store.stacks.getWithServices(stackId))!.services[0]!.id;
    const check = await api.call('createCheck', { ...as, body: { scope: 'service', serviceId } });
    assert.equal((await job(check.body.checkId)).status, 'success');
  });

  after(async () => {
    await api?.close();
    await github?.close();
    await project?.dispose().catch(() => undefined);
    await removeImages(refs).catch(() => undefined);
  });

  it('registers the package hook with the callback URL and secret when the repository is selected', async () => {
    assert.equal((await api.call('putGithubPackagesSettings', { ...as, body: { enabled: true, callbackUrl, pat: PAT } })).status, 200);
    const selected = await api.call('setGithubPackagesRepoSelected', { ...as, body: { fullName: `${owner}/web`, selected: true } });
    assert.equal((await job(selected.body.jobId)).status, 'success');
    const [hook] = github.hooks(`${owner}/web`);
    assert.deepEqual([hook?.config.url, hook?.config.secret, hook?.events], [callbackUrl, (await api.store.githubPackages.getSettings()).webhookSecret, ['package']]);
  });

  it('checks the service running the pushed image, which then shows the new digest as its candidate', async () => {
    assert.equal((await service()).image.digest, runningDigest);
    assert.equal((await service()).candidate, undefined);
    const pushed = await repointTag(image(), { previousDigest: runningDigest });
    const [answer] = await github.deliverPackageEvent(`${owner}/web`, payload('web', pushed.digest), `${owner}-delivery-1`);
    assert.equal(answer!.status, 202, answer!.text);
    assert.deepEqual(answer!.body.matchedServiceIds, [serviceId]);
    const check = await job(answer!.body.jobId);
    assert.equal(check.status, 'success', JSON.stringify(check.summary));
    assert.deepEqual([check.serviceId, check.createdBy, check.summary.source, check.summary.servicesWithCandidate], [serviceId, 'github', 'github_webhook', 1]);
    const after = await service();
    assert.deepEqual([after.candidate?.digest, after.candidate?.tag, after.image.digest], [pushed.digest, 'latest', runningDigest]);
  });

  it('answers the same delivery again as a duplicate, starting nothing', async () => {
    const checks = (await api.store.jobs.list({ types: ['check'] })).jobs.length;
    const [again] = await github.deliverPackageEvent(`${owner}/web`, payload('web'), `${owner}-delivery-1`);
    assert.deepEqual([again!.status, again!.body], [200, { ok: true, ignored: true, reason: 'duplicate_delivery', attemptCount: 2 }]);
    assert.equal((await api.store.jobs.list({ types: ['check'] })).jobs.length, checks);
  });

  it('refuses a delivery signed with another secret, recording nothing', async () => {
    const before = (await api.store.githubPackages.listDeliveries()).total;
    const forged = await sendDelivery(callbackUrl, { event: 'package', body: JSON.stringify(payload('web')), secret: 'guessed' });
    assert.deepEqual([forged.status, forged.body.error.details], [401, { reason: 'invalid_signature' }]);
    assert.equal((await api.store.githubPackages.listDeliveries()).total, before);
  });

  it('runs a discovery when no service uses the image of a selected repository', async () => {
    const selected = await api.call('setGithubPackagesRepoSelected', { ...as, body: { fullName: `${owner}/tools`, selected: true } });
    await job(selected.body.jobId);
    const [answer] = await github.deliverPackageEvent(`${owner}/tools`, payload('tools'));
    assert.equal(answer!.status, 202, answer!.text);
    assert.deepEqual([answer!.body.fallbackUsed, answer!.body.fallbackReason], [true, 'no_managed_service_match']);
    const discovery = await job(answer!.body.jobId);
    assert.deepEqual([discovery.type, discovery.status, discovery.reason, discovery.summary.source], ['discovery', 'success', 'github_webhook', 'github_webhook']);
    assert.ok(discovery.summary.scan.actions.some((action: any) => action.project === `${owner}-app`), 'a real scan ran');
  });

  it('audits and reports a hook deleted on GitHub behind Dockrev’s back', async () => {
    const [hook] = github.hooks(`${owner}/web`);
    github.removeHook(`${owner}/web`, hook!.id);
    const anomaly = api.engine.events.next('ghcr_webhook.anomaly');
    await api.engine.scheduler.runNow('ghcr-webhook-audit');
    const event = await anomaly;
    assert.deepEqual(event.repos.map((repo) => [repo.fullName, repo.state]), [[`${owner}/web`, 'missing']]);
    const listed = await api.call('listGithubPackagesRepos', { ...as, query: { q: `${owner}/web` } });
    assert.equal(listed.body.repos[0].webhookState, 'missing');
  });
});
