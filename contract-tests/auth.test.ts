import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { contract, startApi, type Api } from './harness.js';
import { sampleBody } from './sampler.js';
import { GithubDouble } from '../test/fixtures/github-double.js';

const operations = [...contract.operations.values()];
const forwardAuthOperations = operations.filter((op) => op.securitySchemes.includes('forwardAuth'));
const paramsFor = (path: string) => Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, `${name}_missing`]));

describe('forward auth with an allowlisted user (DOCKREV_AUTH_ALLOWED_USER=ops)', () => {
  let api: Api;
  let github: GithubDouble;
  before(async () => {
    // Admitted GitHub-packages requests may ask GitHub (the sample settings store a PAT).
    github = await GithubDouble.start();
    github.addToken('ghp_example', 'octo');
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_GITHUB_API_BASE_URL: github.baseUrl } });
  });
  after(async () => {
    await api.close();
    await github.close();
  });

  it('covers every protected operation of the contract', () => {
    assert.equal(forwardAuthOperations.length, operations.length - 11, 'all but health, readiness, version, the document and its docs page, the two webhooks and the four registry receivers are protected');
  });

  for (const op of forwardAuthOperations) {
    it(`${op.operationId}: 401 auth_required without identity, whatever the body`, async () => {
      const params = paramsFor(op.path);
      const response = await api.call(op.operationId, { params, rawBody: op.requestBody ? '{not json' : undefined });
      assert.equal(response.status, 401);
      assert.equal(response.body.error.code, 'auth_required');
      assert.equal(response.body.error.details.reason, 'identity_missing');
      assert.equal(response.body.error.details.allowedUserMasked, 'o**s');
      assert.equal(response.body.error.details.authorizationMode, 'user_only');
    });

    it(`${op.operationId}: admitted with X-Forwarded-User: ops`, async () => {
      const response = await api.call(op.operationId, { params: paramsFor(op.path), body: sampleBody(contract, op), user: 'ops' });
      assert.notEqual(response.status, 401, response.text);
    });
  }

  it('names a wrong user plainly and masks the allowlist', async () => {
    const response = await api.call('listStacks', { user: 'mallory', groups: 'devs, admins' });
    assert.equal(response.status, 401);
    assert.deepEqual(response.body.error.details, {
      reason: 'authz_no_match',
      message: 'forward auth identity is not allowed',
      forwardHeaderName: 'X-Forwarded-User',
      groupHeaderName: 'Remote-Groups',
      authorizationMode: 'user_only',
      allowedUserMasked: 'o**s',
      currentUser: 'mallory',
      currentGroups: ['d**s', 'ad***ns'],
    });
  });

  it('keeps public routes public', async () => {
    assert.equal((await api.call('getHealth')).status, 200);
    assert.equal((await api.call('getVersion')).status, 200);
  });
});

describe('forward auth modes', () => {
  it('admits an allowlisted group and reports how in GET /api/settings', async () => {
    const api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_AUTH_ALLOWED_GROUP: 'admins' } });
    try {
      const response = await api.call('getSettings', { user: 'bob', groups: 'devs,admins' });
      assert.equal(response.status, 200);
      assert.equal(response.body.auth.matchedBy, 'group');
      assert.equal(response.body.auth.authorizationMode, 'user_or_group');
      assert.equal(response.body.auth.currentUser, 'bob');
      assert.deepEqual(response.body.auth.currentGroups, ['d**s', 'ad***ns']);
      const groupOnly = await api.call('listStacks', { groups: 'admins' });
      assert.equal(groupOnly.status, 200);
      const denied = await api.call('listStacks', { user: 'bob', groups: 'devs' });
      assert.equal(denied.status, 401);
      assert.equal(denied.body.error.details.reason, 'authz_no_match');
    } finally {
      await api.close();
    }
  });

  it('opens everything without an allowlist while the development bypass is on (the default)', async () => {
    const api = await startApi();
    try {
      const anonymous = await api.call('getSettings');
      assert.equal(anonymous.status, 200);
      assert.equal(anonymous.body.auth.matchedBy, 'anonymous_dev');
      assert.equal(anonymous.body.auth.authorizationMode, 'none');
    } finally {
      await api.close();
    }
  });

  it('rejects everything without an allowlist once the bypass is off', async () => {
    const api = await startApi({ env: { DOCKREV_AUTH_ALLOW_ANONYMOUS_IN_DEV: 'false' } });
    try {
      const response = await api.call('listStacks', { user: 'ops' });
      assert.equal(response.status, 401);
      assert.equal(response.body.error.details.reason, 'authz_config_missing');
    } finally {
      await api.close();
    }
  });

  it('ignores the bypass once an allowlist is configured (contract decision 8)', async () => {
    const api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_GROUP: 'admins', DOCKREV_AUTH_ALLOW_ANONYMOUS_IN_DEV: 'true' } });
    try {
      const response = await api.call('listStacks');
      assert.equal(response.status, 401);
      assert.equal(response.body.error.details.reason, 'identity_missing');
      assert.equal(response.body.error.details.authorizationMode, 'group_only');
    } finally {
      await api.close();
    }
  });

  it('honours identity headers only from trusted proxies', async () => {
    const untrusted = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_AUTH_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8' } });
    const trusted = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_AUTH_TRUSTED_PROXIES: '127.0.0.0/8,::1' } });
    try {
      const ignored = await untrusted.call('listStacks', { user: 'ops' });
      assert.equal(ignored.status, 401);
      assert.equal(ignored.body.error.details.reason, 'identity_missing');
      assert.equal((await trusted.call('listStacks', { user: 'ops' })).status, 200);
    } finally {
      await untrusted.close();
      await trusted.close();
    }
  });

  it('honours custom identity header names', async () => {
    const api = await startApi({
      env: { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_AUTH_FORWARD_HEADER_NAME: 'Remote-User', DOCKREV_AUTH_GROUP_HEADER_NAME: 'X-Groups' },
    });
    try {
      assert.equal((await api.call('listStacks', { headers: { 'Remote-User': 'ops' } })).status, 200);
      const wrongHeader = await api.call('listStacks', { user: 'ops' });
      assert.equal(wrongHeader.status, 401);
      assert.equal(wrongHeader.body.error.details.forwardHeaderName, 'Remote-User');
    } finally {
      await api.close();
    }
  });
});

describe('webhook secret (POST /api/webhooks/trigger)', () => {
  const body = { action: 'check', scope: 'all' };

  it('is 401 unauthorized with a reason while no secret is configured', async () => {
    const api = await startApi();
    try {
      const response = await api.call('triggerWebhook', { body, headers: { 'X-Dockrev-Webhook-Secret': 'anything' } });
      assert.equal(response.status, 401);
      assert.equal(response.body.error.code, 'unauthorized');
      assert.deepEqual(response.body.error.details, { reason: 'webhook_secret_not_configured' });
    } finally {
      await api.close();
    }
  });

  it('is 401 with empty details for a wrong or missing secret, before the body is read', async () => {
    const api = await startApi({ env: { DOCKREV_WEBHOOK_SECRET: 'change-me', DOCKREV_AUTH_ALLOWED_USER: 'ops' } });
    try {
      for (const headers of [{}, { 'X-Dockrev-Webhook-Secret': 'change-me-not' }, { 'X-Dockrev-Webhook-Secret': '' }] as Record<string, string>[]) {
        const response = await api.call('triggerWebhook', { rawBody: '{broken', headers, user: 'ops' });
        assert.equal(response.status, 401);
        assert.equal(response.body.error.code, 'unauthorized');
        assert.deepEqual(response.body.error.details, {});
      }
      const admitted = await api.call('triggerWebhook', { body, headers: { 'X-Dockrev-Webhook-Secret': 'change-me' } });
      assert.notEqual(admitted.status, 401);
    } finally {
      await api.close();
    }
  });
});
