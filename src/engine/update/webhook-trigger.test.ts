import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureResponse } from '../../http/failures.js';
import { validateWebhookTrigger, type WebhookTriggerInput } from './webhook-trigger.js';
import { digest, ids, target, useUpdateFixture, validate } from './testing/update-fixture.js';

useUpdateFixture();

describe('validateWebhookTrigger', () => {
  const ROUTE_LIST_BODY: WebhookTriggerInput = {
    action: 'update',
    scope: 'stack',
    stackId: 'stk_xxx',
    targets: [{ serviceId: 'svc_web', targetTag: 'latest', targetDigest: 'sha256:abc123', pullTags: ['v1.1.2'] }],
    allowArchMismatch: false,
    backupMode: 'inherit',
  };

  it("the route list's curl body passes its own rules and fails only on what the store holds", async () => {
    const trigger = validateWebhookTrigger(ROUTE_LIST_BODY);
    assert.deepEqual(trigger, {
      ok: true,
      action: 'update',
      update: {
        scope: 'stack',
        stackId: 'stk_xxx',
        targets: ROUTE_LIST_BODY.targets,
        allowArchMismatch: false,
        backupMode: 'inherit',
        mode: 'apply',
        reason: 'webhook',
      },
    });
    assert.ok(trigger.ok && trigger.action === 'update');
    const result = await validate(trigger.update);
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && failureResponse(result.failure), {
      status: 400,
      body: {
        error: {
          code: 'invalid_argument',
          message: 'targets must exactly cover the selected services for this scope',
          details: { missingServiceIds: [], extraServiceIds: ['svc_web'] },
        },
      },
    });
  });

  it('the same body shape naming a real stack and service yields an apply plan with reason webhook', async () => {
    const trigger = validateWebhookTrigger({
      ...ROUTE_LIST_BODY,
      stackId: ids.demo,
      targets: [{ serviceId: ids['demo/web'], targetTag: 'latest', targetDigest: digest('1'), pullTags: ['v1.1.2'] }],
    });
    assert.ok(trigger.ok && trigger.action === 'update');
    const result = await validate(trigger.update);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(
      [result.plan.mode, result.plan.reason, result.plan.backupMode, result.plan.allowArchMismatch],
      ['apply', 'webhook', 'inherit', false],
    );
    assert.deepEqual(result.plan.targets[0].pullTags, ['v1.1.2']);
    assert.deepEqual(
      result.plan.skippedVersionAnomaly.map((anomaly) => anomaly.serviceId),
      [ids['demo/legacy']],
      'a webhook never downgrades',
    );
  });

  it('an update with targets: [] on a stack with nothing to do passes', async () => {
    const trigger = validateWebhookTrigger({ action: 'update', scope: 'stack', stackId: ids.quiet, targets: [], allowArchMismatch: false, backupMode: 'skip' });
    assert.ok(trigger.ok && trigger.action === 'update');
    const result = await validate(trigger.update);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual([result.plan.mode, result.plan.backupMode], ['apply', 'skip']);
  });

  const failures: [string, WebhookTriggerInput, string][] = [
    ['update without targets', { action: 'update', scope: 'all', allowArchMismatch: false, backupMode: 'inherit' }, 'targets is required for webhook update'],
    ['update with null targets', { action: 'update', scope: 'all', targets: null, allowArchMismatch: false }, 'targets is required for webhook update'],
    [
      'service update without targets',
      { action: 'update', scope: 'service', serviceId: 'svc_web', allowArchMismatch: false, backupMode: 'inherit' },
      'targets is required for webhook update',
    ],
    ['stack without stackId wins over missing targets', { action: 'update', scope: 'stack', allowArchMismatch: false }, 'stackId is required for scope=stack'],
    ['service without serviceId', { action: 'check', scope: 'service', serviceId: ' ', allowArchMismatch: false }, 'serviceId is required for scope=service'],
  ];
  for (const [name, body, message] of failures) {
    it(`400: ${name}`, () => {
      const trigger = validateWebhookTrigger(body);
      assert.deepEqual(trigger, { ok: false, failure: { kind: 'invalid_input', message, details: {} } });
      assert.equal(!trigger.ok && failureResponse(trigger.failure).status, 400);
    });
  }

  it('a check needs no targets and keeps the trimmed ids', () => {
    assert.deepEqual(validateWebhookTrigger({ action: 'check', scope: 'stack', stackId: ` ${ids.demo} `, allowArchMismatch: false, backupMode: 'inherit' }), {
      ok: true,
      action: 'check',
      scope: 'stack',
      stackId: ids.demo,
    });
    assert.deepEqual(validateWebhookTrigger({ action: 'check', scope: 'all', allowArchMismatch: false }), { ok: true, action: 'check', scope: 'all' });
  });

  it('a service update goes through the update rules (one matching target)', async () => {
    const trigger = validateWebhookTrigger({
      action: 'update',
      scope: 'service',
      serviceId: ids['demo/web'],
      targets: [target('demo/legacy')],
      allowArchMismatch: false,
    });
    assert.ok(trigger.ok && trigger.action === 'update');
    const result = await validate(trigger.update);
    assert.equal(result.ok ? 'ok' : result.failure.message, 'scope=service target serviceId must match request serviceId');
  });
});

