import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { openStore } from '../../store/index.js';
import { serviceIdsOf, validateUpdateRequest, type UpdateRequestInput } from './validate.js';
import { digest, dir, ids, SELF, target, useUpdateFixture, validate } from './testing/update-fixture.js';

useUpdateFixture();

describe('validateUpdateRequest plans', () => {
  it('scope=service with top-level fields (the schema example) becomes one target with defaults applied', async () => {
    const result = await validate({ scope: 'service', serviceId: ids['demo/web'], targetTag: 'latest', targetDigest: digest('1'), pullTags: ['1.3.0'] });
    assert.deepEqual(result, {
      ok: true,
      plan: {
        scope: 'service',
        stackId: ids.demo,
        serviceId: ids['demo/web'],
        mode: 'apply',
        allowArchMismatch: false,
        backupMode: 'inherit',
        reason: 'ui',
        stackIds: [ids.demo],
        targets: [{ serviceId: ids['demo/web'], stackId: ids.demo, targetTag: 'latest', targetDigest: digest('1'), pullTags: ['1.3.0'], skipTagFollowups: false }],
        skippedVersionAnomaly: [],
      },
    });
  });

  it('normalises ids, tags, pullTags and digests', async () => {
    const result = await validate({
      scope: 'service',
      serviceId: ` ${ids['demo/web']} `,
      targets: [
        {
          serviceId: `${ids['demo/web']}  `,
          targetTag: ' latest ',
          targetDigest: ` ${'1'.repeat(64)} `,
          pullTags: [' 1.3.0 ', '1.3.0', 'latest', ' 1.3', '1.3.0 '],
          skipTagFollowups: true,
        },
      ],
    });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(result.ok && result.plan.targets, [
      { serviceId: ids['demo/web'], stackId: ids.demo, targetTag: 'latest', targetDigest: digest('1'), pullTags: ['1.3.0', '1.3'], skipTagFollowups: true },
    ]);
    assert.equal(result.ok && result.plan.serviceId, ids['demo/web']);
  });

  it('keeps a digest that names its algorithm as given', async () => {
    const result = await validate({ scope: 'service', serviceId: ids['demo/web'], targetTag: 'latest', targetDigest: 'sha512:abc', pullTags: [] });
    assert.deepEqual(result.ok ? result : result.failure.details, { serviceId: ids['demo/web'], expectedDigest: digest('1'), gotDigest: 'sha512:abc' });
  });

  it('a dry run with pullTags: [] passes', async () => {
    const result = await validate({ scope: 'service', serviceId: ids['demo/web'], targetTag: 'latest', targetDigest: digest('1'), pullTags: [], mode: 'dry-run' });
    assert.equal(result.ok && result.plan.mode, 'dry-run');
  });

  it('a dry run may name a service that does not exist', async () => {
    const result = await validate({ scope: 'service', serviceId: 'svc_missing', targetTag: 'latest', targetDigest: 'abc', pullTags: [], mode: 'dry-run' });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.plan.stackIds, []);
    assert.equal(result.plan.stackId, undefined);
    assert.deepEqual(result.plan.targets, [
      { serviceId: 'svc_missing', targetTag: 'latest', targetDigest: 'sha256:abc', pullTags: [], skipTagFollowups: false },
    ]);
  });

  it('service scope reaches archived and ignored services', async () => {
    for (const key of ['demo/worker', 'demo/cron']) {
      const result = await validate({ scope: 'service', serviceId: ids[key], targets: [target(key)] });
      assert.ok(result.ok, `${key}: ${JSON.stringify(result)}`);
    }
  });

  it('stack scope with exactly the selected services passes, targets carrying their stack', async () => {
    const result = await validate({ scope: 'stack', stackId: ids.demo, targets: [target('demo/legacy'), target('demo/web', { pullTags: ['1.3.0'] })] });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.plan.stackId, ids.demo);
    assert.equal(result.plan.serviceId, undefined);
    assert.deepEqual(result.plan.stackIds, [ids.demo]);
    assert.deepEqual(
      result.plan.targets.map((t) => [t.serviceId, t.stackId]),
      [
        [ids['demo/legacy'], ids.demo],
        [ids['demo/web'], ids.demo],
      ],
    );
    assert.deepEqual(serviceIdsOf(result.plan), [ids['demo/legacy'], ids['demo/web']]);
  });

  it('arch mismatch passes with allowArchMismatch, which also widens the selection', async () => {
    const result = await validate({
      scope: 'stack',
      stackId: ids.demo,
      allowArchMismatch: true,
      targets: [target('demo/web'), target('demo/legacy'), target('demo/api')],
    });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.plan.allowArchMismatch, true);
    const single = await validate({ scope: 'service', serviceId: ids['demo/api'], allowArchMismatch: true, targets: [target('demo/api')] });
    assert.ok(single.ok, JSON.stringify(single));
  });

  it('an empty target list passes when the stack has nothing to update', async () => {
    const result = await validate({ scope: 'stack', stackId: ids.quiet, targets: [], backupMode: 'skip' });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.plan.targets, []);
    assert.deepEqual(result.plan.stackIds, [ids.quiet]);
    assert.equal(result.plan.backupMode, 'skip');
  });

  it('an unknown stack with no targets passes; the job reports the stack missing', async () => {
    const result = await validate({ scope: 'stack', stackId: 'stk_missing', targets: [] });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.plan.stackIds, ['stk_missing']);
  });

  it('all scope covers every stack with something to do', async () => {
    const keys = ['parked/app', 'demo/web', 'other/site', 'demo/legacy', 'frozen/old'];
    const result = await validate({ scope: 'all', targets: keys.map((key) => target(key)) });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual([...result.plan.stackIds].sort(), [ids.demo, ids.other, ids.parked, ids.frozen].sort());
    assert.equal(result.plan.stackId, undefined);
    assert.deepEqual(result.plan.skippedVersionAnomaly, []);
  });

  it('non-ui reasons skip semver downgrades and report them', async () => {
    for (const reason of ['webhook', 'schedule', 'auto_policy'] as const) {
      const result = await validate({ scope: 'all', reason, targets: [target('demo/web'), target('other/site'), target('parked/app')] });
      assert.ok(result.ok, `${reason}: ${JSON.stringify(result)}`);
      assert.equal(result.plan.reason, reason);
      const byName = [...result.plan.skippedVersionAnomaly].sort((a, b) => a.serviceName.localeCompare(b.serviceName));
      assert.deepEqual(byName, [
        { serviceId: ids['demo/legacy'], serviceName: 'legacy', current: '2.0.0', candidate: '1.9.0', reason: 'semver_downgrade' },
        { serviceId: ids['frozen/old'], serviceName: 'old', current: '3.0.0', candidate: '2.9.0', reason: 'semver_downgrade' },
      ]);
      assert.ok(result.plan.stackIds.includes(ids.frozen), 'a stack with only a skipped downgrade is processed, to report it');
    }
  });

  it('service scope under a non-ui reason reports its downgrade and keeps its stack', async () => {
    const result = await validate({ scope: 'service', serviceId: ids['demo/legacy'], reason: 'schedule', targets: [target('demo/legacy')] });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.plan.stackIds, [ids.demo]);
    assert.deepEqual(
      result.plan.skippedVersionAnomaly.map((anomaly) => anomaly.serviceId),
      [ids['demo/legacy']],
    );
  });

  it('null options take their defaults, given ones are kept', async () => {
    const base = { scope: 'stack' as const, stackId: ids.quiet, targets: [] };
    const defaults = await validate({ ...base, mode: null, allowArchMismatch: null, backupMode: null, reason: null });
    assert.ok(defaults.ok);
    assert.deepEqual(
      [defaults.plan.mode, defaults.plan.allowArchMismatch, defaults.plan.backupMode, defaults.plan.reason],
      ['apply', false, 'inherit', 'ui'],
    );
    const given = await validate({ ...base, mode: 'dry-run', allowArchMismatch: true, backupMode: 'force', reason: 'auto_policy' });
    assert.ok(given.ok);
    assert.deepEqual(
      [given.plan.mode, given.plan.allowArchMismatch, given.plan.backupMode, given.plan.reason],
      ['dry-run', true, 'force', 'auto_policy'],
    );
  });

  it("overrides win over the body's mode and reason", async () => {
    const body: UpdateRequestInput = { scope: 'stack', stackId: ids.demo, mode: 'dry-run', reason: 'ui', targets: [target('demo/web'), target('demo/legacy')] };
    assert.equal((await validate(body)).ok, true);
    const overridden = await validate(body, { mode: 'apply', reason: 'webhook' });
    assert.deepEqual(overridden.ok ? overridden : overridden.failure.details, {
      missingServiceIds: [],
      extraServiceIds: [ids['demo/legacy']],
    });
    const applied = await validate({ ...body, targets: [target('demo/web')] }, { mode: 'apply', reason: 'webhook' });
    assert.ok(applied.ok, JSON.stringify(applied));
    assert.deepEqual([applied.plan.mode, applied.plan.reason], ['apply', 'webhook']);
  });
});


describe('validateUpdateRequest digests', () => {
  it('compares digests whatever their case, as the registry code stores them', async () => {
    const own = await openStore({ sqlitePath: join(dir, 'digest-case.sqlite3') });
    try {
      const stack = await own.stacks.create({
        name: 'hexcase',
        compose: { type: 'path', composeFiles: ['/srv/hexcase/compose.yml'] },
        services: [{ name: 'app', image: { ref: 'ghcr.io/acme/hex', tag: 'latest' } }],
      });
      const serviceId = stack.services[0]!.id;
      const candidateDigest = `sha256:${'ab'.repeat(32)}`;
      await own.services.updateState(serviceId, { candidate: { tag: 'latest', digest: candidateDigest, archMatch: 'match', arch: ['linux/amd64'] } });
      const result = await validateUpdateRequest(
        { scope: 'service', serviceId, targetTag: 'latest', targetDigest: `SHA256:${'AB'.repeat(32)}`, pullTags: [] },
        { store: own, selfImageRepo: SELF },
      );
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.equal(result.ok && result.plan.targets[0]!.targetDigest, candidateDigest);
    } finally {
      await own.close();
    }
  });
});

