import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GithubDouble } from '../test/fixtures/github-double.js';
import { startApi, type Api } from './harness.js';

// What GET shows, PUT takes back (issue 15, defect 6): read-only fields (`readOnly: true` in the
// spec: masks, derived state, the request's auth view) are accepted and ignored, so a client can
// edit one field of a GET body and send the rest as it came.

const PAIRS = [
  ['getSettings', 'putSettings'],
  ['getNotificationSettings', 'putNotificationSettings'],
  ['getGithubPackagesSettings', 'putGithubPackagesSettings'],
  ['getRegistryWebhookSettings', 'putRegistryWebhookSettings'],
  ['getServiceSettings', 'putServiceSettings'],
  ['getDeployWelcome', 'putDeployWelcome'],
] as const;

describe('every GET body can be sent back with PUT', () => {
  let api: Api;
  let github: GithubDouble;
  const as = { user: 'ops' };
  let params: Record<string, string> = {};
  before(async () => {
    github = await GithubDouble.start();
    github.addToken('ghp_roundtrip', 'octo');
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_GITHUB_API_BASE_URL: github.baseUrl } });
    const stack = await api.store.stacks.create({ name: 'roundtrip', compose: { type: 'path', composeFiles: ['/srv/roundtrip/compose.yml'] }, services: [{ name: 'web', image: { ref: 'ghcr.io/acme/web', tag: 'latest' } }] });
    params = { serviceId: stack.services[0]!.id };
    // Settings with secrets and derived fields, so the round trip carries masks and tokens.
    await api.call('putNotificationSettings', { ...as, body: { webhook: { enabled: true, url: 'https://hooks.example.com/secret-path' }, telegram: { enabled: false, botToken: '123:secret', chatId: '42' } } });
    await api.call('putGithubPackagesSettings', { ...as, body: { enabled: true, callbackUrl: 'https://dockrev.example.com/api/webhooks/github-packages', pat: 'ghp_roundtrip' } });
    await api.call('putRegistryWebhookSettings', { ...as, body: { sources: { distribution: { enabled: true } } } });
    await api.call('putSettings', { ...as, body: { backup: { enabled: true, requireSuccess: false, baseDir: '/tmp/roundtrip', skipTargetsOverBytes: 1024 }, schedules: { updateCheck: { enabled: true, cron: '*/30 * * * *' } } } });
  });
  after(async () => {
    await api.close();
    await github.close();
  });

  for (const [get, put] of PAIRS) {
    it(`${get} → ${put} → ${get} changes nothing`, async () => {
      const first = await api.call(get, { ...as, params });
      assert.equal(first.status, 200);
      const sent = await api.call(put, { ...as, params, body: first.body });
      assert.equal(sent.status, 200, `${put} refused its own GET body: ${sent.text}`);
      const second = await api.call(get, { ...as, params });
      // A save is a change: the time of the last one is the one field that moves.
      const { updatedAt: _firstSaved, ...before } = first.body;
      const { updatedAt: _secondSaved, ...afterwards } = second.body;
      assert.deepEqual(afterwards, before);
    });
  }
});
