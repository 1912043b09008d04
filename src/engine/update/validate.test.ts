import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { components } from '../../generated/dockrev.js';
import { openStore, type ServiceCandidate, type Store } from '../../store/index.js';
import {
  serviceIdsOf,
  validateUpdateRequest,
  validateWebhookTrigger,
  type UpdateRequestInput,
  type UpdateTargetInput,
  type ValidationOverrides,
  type WebhookTriggerInput,
} from './validate.js';

// Checked by the compiler: the server hands over its generated body types, which must fit the validators.
const serverBodiesFit: [
  components['schemas']['UpdateRequest'] extends UpdateRequestInput ? true : false,
  components['schemas']['WebhookTriggerRequest'] extends WebhookTriggerInput ? true : false,
] = [true, true];

const SELF = 'ghcr.io/ivanli-cn/dockrev';
const digest = (fill: string) => `sha256:${fill.repeat(64)}`;

interface SeedService {
  name: string;
  ref: string;
  tag: string;
  resolvedTag?: string;
  candidate?: Partial<ServiceCandidate> & { digest: string };
  archived?: boolean;
  ignored?: boolean;
}

// demo: web and legacy are actionable (legacy is a semver downgrade), api's candidate does not fit
// the host, db has no candidate, worker is archived, cron ignored, dockrev is Dockrev itself.
// other/site has a candidate of unknown architecture, parked is an archived stack, quiet has nothing
// to update, and frozen's only candidate is a downgrade.
const FIXTURE: Record<string, { archived?: boolean; services: SeedService[] }> = {
  demo: {
    services: [
      { name: 'web', ref: 'ghcr.io/acme/web', tag: 'latest', resolvedTag: '1.2.0', candidate: { resolvedTag: '1.3.0', digest: digest('1') } },
      { name: 'api', ref: 'ghcr.io/acme/api', tag: '5.3', candidate: { tag: '5.3', digest: digest('2'), archMatch: 'mismatch' } },
      { name: 'db', ref: 'postgres', tag: '16' },
      { name: 'worker', ref: 'ghcr.io/acme/worker', tag: 'latest', candidate: { digest: digest('3') }, archived: true },
      { name: 'cron', ref: 'ghcr.io/acme/cron', tag: 'latest', candidate: { digest: digest('4') }, ignored: true },
      { name: 'dockrev', ref: SELF, tag: 'latest', candidate: { digest: digest('5') } },
      {
        name: 'legacy',
        ref: 'ghcr.io/acme/legacy',
        tag: 'stable',
        resolvedTag: 'v2.0.0',
        candidate: { tag: 'stable', resolvedTag: 'v1.9.0', digest: digest('6') },
      },
    ],
  },
  other: { services: [{ name: 'site', ref: 'ghcr.io/acme/site', tag: 'latest', candidate: { digest: digest('7'), archMatch: 'unknown' } }] },
  parked: { archived: true, services: [{ name: 'app', ref: 'ghcr.io/acme/app', tag: 'latest', candidate: { digest: digest('8') } }] },
  quiet: { services: [{ name: 'idle', ref: 'nginx', tag: '1.27' }] },
  frozen: {
    services: [
      { name: 'old', ref: 'ghcr.io/acme/old', tag: 'latest', resolvedTag: '3.0.0', candidate: { resolvedTag: '2.9.0', digest: digest('9') } },
    ],
  },
};

let dir: string;
let store: Store;
/** `stackName` → stack id, `stackName/serviceName` → service id. */
const ids: Record<string, string> = {};
const seeded = new Map<string, SeedService>();

async function seed(): Promise<void> {
  for (const [stackName, { archived, services }] of Object.entries(FIXTURE)) {
    const stack = await store.stacks.create({
      name: stackName,
      compose: { type: 'path', composeFiles: [`/srv/${stackName}/docker-compose.yml`] },
      services: services.map(({ name, ref, tag }) => ({ name, image: { ref, tag } })),
    });
    ids[stackName] = stack.id;
    if (archived) await store.stacks.setArchived(stack.id, true);
    for (const spec of services) {
      const id = stack.services.find((service) => service.name === spec.name)!.id;
      ids[`${stackName}/${spec.name}`] = id;
      seeded.set(id, spec);
      await store.services.updateState(id, {
        ...(spec.resolvedTag ? { resolvedTag: spec.resolvedTag } : {}),
        ...(spec.candidate ? { candidate: { tag: spec.tag, archMatch: 'match', arch: ['linux/amd64'], ...spec.candidate } } : {}),
        ...(spec.ignored ? { ignore: { matched: true, ruleId: 'ign_test', reason: `matched ignore rule for tag ${spec.tag}` } } : {}),
      });
      if (spec.archived) await store.services.setArchived(id, true);
    }
  }
}

/** A target that matches the stored service's tag and candidate digest. */
function target(key: string, overrides: UpdateTargetInput = {}): UpdateTargetInput {
  const id = ids[key];
  const spec = seeded.get(id)!;
  return { serviceId: id, targetTag: spec.tag, targetDigest: spec.candidate?.digest ?? digest('0'), pullTags: [], ...overrides };
}

const validate = (body: UpdateRequestInput, overrides?: ValidationOverrides) =>
  validateUpdateRequest(body, { store, selfImageRepo: SELF }, overrides);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dockrev-update-validate-'));
  store = await openStore({ sqlitePath: join(dir, 'dockrev.sqlite3') });
  await seed();
});

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

interface FailureCase {
  name: string;
  body: () => UpdateRequestInput;
  status: 400 | 404 | 409;
  message: string;
  details?: () => Record<string, unknown>;
}

/** Seeded keys (`stack/service`) resolve to ids; any other key stands for an id that does not exist. */
const idOf = (key: string) => ids[key] ?? key;

/** Step 9: a stack-scope request with these targets and the cover failure it must get. */
function coverCase(
  name: string,
  stackKey: string,
  targetKeys: string[],
  missingKeys: string[],
  extraKeys: string[],
  more: Partial<UpdateRequestInput> = {},
): FailureCase {
  const targetFor = (key: string) => (key in ids ? target(key) : { ...target('demo/web'), serviceId: key });
  return {
    name: `9: ${name}`,
    body: () => ({ scope: 'stack', stackId: idOf(stackKey), targets: targetKeys.map(targetFor), ...more }),
    status: 400,
    message: 'targets must exactly cover the selected services for this scope',
    details: () => ({ missingServiceIds: missingKeys.map(idOf).sort(), extraServiceIds: extraKeys.map(idOf).sort() }),
  };
}

// In the order of behaviour.md §C.6; "wins" cases break two rules and expect the earlier one.
const FAILURES: FailureCase[] = [
  // 1. scope/id presence
  { name: '1: stack scope without stackId', body: () => ({ scope: 'stack', targets: [] }), status: 400, message: 'stackId is required for scope=stack' },
  { name: '1: blank stackId', body: () => ({ scope: 'stack', stackId: '  ', targets: [] }), status: 400, message: 'stackId is required for scope=stack' },
  {
    name: '1: service scope without serviceId',
    body: () => ({ scope: 'service', serviceId: null, targetTag: 'latest', targetDigest: digest('1'), pullTags: [] }),
    status: 400,
    message: 'serviceId is required for scope=service',
  },
  { name: '1 wins over 2', body: () => ({ scope: 'service' }), status: 400, message: 'serviceId is required for scope=service' },
  // 2. scope=service without targets
  {
    name: '2: targetTag missing',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetDigest: digest('1'), pullTags: [] }),
    status: 400,
    message: 'targetTag is required for scope=service',
  },
  {
    name: '2: targetTag blank',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetTag: ' ', targetDigest: digest('1'), pullTags: [] }),
    status: 400,
    message: 'targetTag is required for scope=service',
  },
  {
    name: '2: targetDigest missing',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetTag: 'latest', targetDigest: null, pullTags: [] }),
    status: 400,
    message: 'targetDigest is required for scope=service',
  },
  {
    name: '2: pullTags missing',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetTag: 'latest', targetDigest: digest('1') }),
    status: 400,
    message: 'pullTags is required for scope=service',
  },
  {
    name: '2: an empty pullTags entry',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetTag: 'latest', targetDigest: digest('1'), pullTags: ['1.3.0', '  '] }),
    status: 400,
    message: 'pullTags[1] must not be empty',
  },
  {
    name: '2: targetTag wins over pullTags',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetDigest: digest('1') }),
    status: 400,
    message: 'targetTag is required for scope=service',
  },
  // 3. scope=service with targets
  {
    name: '3: targets plus targetTag',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetTag: 'latest', targets: [target('demo/web')] }),
    status: 400,
    message: 'targetTag/targetDigest/pullTags must be omitted when scope=service uses targets',
  },
  {
    name: '3: targets plus an empty pullTags',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], pullTags: [], targets: [target('demo/web')] }),
    status: 400,
    message: 'targetTag/targetDigest/pullTags must be omitted when scope=service uses targets',
  },
  {
    name: '3 wins over 7',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetDigest: digest('1'), targets: [] }),
    status: 400,
    message: 'targetTag/targetDigest/pullTags must be omitted when scope=service uses targets',
  },
  // 4. scope=stack|all
  {
    name: '4: stack scope with targetDigest',
    body: () => ({ scope: 'stack', stackId: ids.demo, targetDigest: digest('1'), targets: [] }),
    status: 400,
    message: 'targetTag/targetDigest/pullTags is only supported for scope=service',
  },
  {
    name: '4: all scope with pullTags',
    body: () => ({ scope: 'all', pullTags: ['x'], targets: [] }),
    status: 400,
    message: 'targetTag/targetDigest/pullTags is only supported for scope=service',
  },
  { name: '4: stack scope without targets', body: () => ({ scope: 'stack', stackId: ids.demo }), status: 400, message: 'targets is required for scope=stack/all' },
  { name: '4: all scope with null targets', body: () => ({ scope: 'all', targets: null }), status: 400, message: 'targets is required for scope=stack/all' },
  {
    name: '4: top-level fields win over missing targets',
    body: () => ({ scope: 'stack', stackId: ids.demo, targetTag: 'latest' }),
    status: 400,
    message: 'targetTag/targetDigest/pullTags is only supported for scope=service',
  },
  // 5. per target
  {
    name: '5: blank serviceId',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [target('demo/web', { serviceId: ' ' })] }),
    status: 400,
    message: 'targets[0].serviceId is required',
  },
  {
    name: '5: missing targetTag in the second target',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [target('demo/web'), target('demo/legacy', { targetTag: null })] }),
    status: 400,
    message: 'targets[1].targetTag is required',
  },
  {
    name: '5: blank targetDigest',
    body: () => ({ scope: 'all', targets: [target('demo/web', { targetDigest: '  ' })] }),
    status: 400,
    message: 'targets[0].targetDigest is required',
  },
  {
    name: '5: missing pullTags',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [target('demo/web', { pullTags: null })] }),
    status: 400,
    message: 'targets[0].pullTags is required',
  },
  {
    name: '5: an empty pullTags entry',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [target('demo/web', { pullTags: ['1.3.0', ''] })] }),
    status: 400,
    message: 'targets[0].pullTags[1] must not be empty',
  },
  {
    name: '5: serviceId wins over targetTag in one target',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [{ pullTags: [] }] }),
    status: 400,
    message: 'targets[0].serviceId is required',
  },
  {
    name: '5: the first broken target wins',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [target('demo/web', { pullTags: null }), target('demo/legacy', { serviceId: null })] }),
    status: 400,
    message: 'targets[0].pullTags is required',
  },
  {
    name: '5 wins over 6',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [target('demo/web'), target('demo/web', { targetDigest: '' })] }),
    status: 400,
    message: 'targets[1].targetDigest is required',
  },
  {
    name: '5: service scope targets use the same prefixes',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targets: [target('demo/web', { targetTag: '' })] }),
    status: 400,
    message: 'targets[0].targetTag is required',
  },
  // 6. duplicates
  {
    name: '6: duplicate serviceId after trimming',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [target('demo/web'), target('demo/web', { serviceId: ` ${ids['demo/web']} ` })] }),
    status: 400,
    message: 'targets contains duplicate serviceId',
    details: () => ({ serviceId: ids['demo/web'] }),
  },
  {
    name: '6 wins over 7',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targets: [target('demo/web'), target('demo/web')] }),
    status: 400,
    message: 'targets contains duplicate serviceId',
    details: () => ({ serviceId: ids['demo/web'] }),
  },
  // 7. scope=service target count and id
  {
    name: '7: no target',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targets: [] }),
    status: 400,
    message: 'exactly one target is required for scope=service',
  },
  {
    name: '7: two targets',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targets: [target('demo/web'), target('demo/legacy')] }),
    status: 400,
    message: 'exactly one target is required for scope=service',
  },
  {
    name: '7: the target names another service',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targets: [target('demo/legacy')] }),
    status: 400,
    message: 'scope=service target serviceId must match request serviceId',
  },
  {
    name: '7 wins over 10 (unknown service)',
    body: () => ({ scope: 'service', serviceId: 'svc_missing', targets: [target('demo/web')] }),
    status: 400,
    message: 'scope=service target serviceId must match request serviceId',
  },
  // 8. against the stored service
  {
    name: '8: cross-tag update',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetTag: '1.3.0', targetDigest: digest('1'), pullTags: [] }),
    status: 400,
    message: 'cross-tag updates are not supported (targetTag must match service image tag)',
    details: () => ({ serviceId: ids['demo/web'], expectedTag: 'latest', gotTag: '1.3.0' }),
  },
  {
    name: '8: digest drift',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targets: [target('demo/web', { targetDigest: 'abc123' })] }),
    status: 409,
    message: 'target digest no longer matches latest scan (rescan required)',
    details: () => ({ serviceId: ids['demo/web'], expectedDigest: digest('1'), gotDigest: 'sha256:abc123' }),
  },
  {
    name: '8: no candidate',
    body: () => ({ scope: 'service', serviceId: ids['demo/db'], targetTag: '16', targetDigest: digest('9'), pullTags: [] }),
    status: 409,
    message: 'target digest no longer matches latest scan (rescan required)',
    details: () => ({ serviceId: ids['demo/db'], expectedDigest: null, gotDigest: digest('9') }),
  },
  {
    name: '8: arch mismatch',
    body: () => ({ scope: 'service', serviceId: ids['demo/api'], targets: [target('demo/api')] }),
    status: 400,
    message: 'arch mismatch: re-run with allowArchMismatch=true to force update',
    details: () => ({ serviceId: ids['demo/api'], archMatch: 'mismatch' }),
  },
  {
    name: '8: cross-tag wins over digest drift',
    body: () => ({ scope: 'service', serviceId: ids['demo/web'], targetTag: 'edge', targetDigest: digest('f'), pullTags: [] }),
    status: 400,
    message: 'cross-tag updates are not supported (targetTag must match service image tag)',
    details: () => ({ serviceId: ids['demo/web'], expectedTag: 'latest', gotTag: 'edge' }),
  },
  {
    name: '8: digest drift wins over arch mismatch',
    body: () => ({ scope: 'service', serviceId: ids['demo/api'], targets: [target('demo/api', { targetDigest: digest('f') })] }),
    status: 409,
    message: 'target digest no longer matches latest scan (rescan required)',
    details: () => ({ serviceId: ids['demo/api'], expectedDigest: digest('2'), gotDigest: digest('f') }),
  },
  {
    name: '8 wins over 9 (drift on a service the scope would not select)',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [target('demo/worker', { targetDigest: digest('f') })] }),
    status: 409,
    message: 'target digest no longer matches latest scan (rescan required)',
    details: () => ({ serviceId: ids['demo/worker'], expectedDigest: digest('3'), gotDigest: digest('f') }),
  },
  {
    name: '8 wins over 9 (arch mismatch in stack scope)',
    body: () => ({ scope: 'stack', stackId: ids.demo, targets: [target('demo/web'), target('demo/legacy'), target('demo/api')] }),
    status: 400,
    message: 'arch mismatch: re-run with allowArchMismatch=true to force update',
    details: () => ({ serviceId: ids['demo/api'], archMatch: 'mismatch' }),
  },
  // 9. exact cover
  coverCase('a selected service is missing', 'demo', ['demo/web'], ['demo/legacy'], []),
  coverCase('an archived service is extra', 'demo', ['demo/web', 'demo/legacy', 'demo/worker'], [], ['demo/worker']),
  coverCase('missing and extra together', 'demo', ['demo/web', 'demo/cron'], ['demo/legacy'], ['demo/cron']),
  coverCase("Dockrev's own service is extra", 'demo', ['demo/web', 'demo/legacy', 'demo/dockrev'], [], ['demo/dockrev']),
  coverCase('an unknown service is extra', 'demo', ['demo/web', 'demo/legacy', 'svc_missing'], [], ['svc_missing']),
  coverCase("another stack's service is extra", 'demo', ['demo/web', 'demo/legacy', 'other/site'], [], ['other/site']),
  coverCase('an unknown stack selects nothing', 'stk_missing', ['demo/web'], [], ['demo/web']),
  coverCase('empty targets while something is selected', 'demo', [], ['demo/legacy', 'demo/web'], []),
  coverCase('a non-ui reason does not select a downgrade', 'demo', ['demo/web', 'demo/legacy'], [], ['demo/legacy'], { reason: 'schedule' }),
  {
    name: '9: all scope covers every stack, archived stacks included',
    body: () => ({ scope: 'all', targets: [target('demo/web'), target('demo/legacy')] }),
    status: 400,
    message: 'targets must exactly cover the selected services for this scope',
    details: () => ({ missingServiceIds: [ids['other/site'], ids['parked/app'], ids['frozen/old']].sort(), extraServiceIds: [] }),
  },
  // 10. apply needs existing services
  {
    name: '10: unknown service in apply mode',
    body: () => ({ scope: 'service', serviceId: 'svc_missing', targetTag: 'latest', targetDigest: digest('1'), pullTags: [] }),
    status: 404,
    message: 'service not found',
    details: () => ({ serviceId: 'svc_missing' }),
  },
];

describe('validateUpdateRequest failures (behaviour.md §C.6 order)', () => {
  for (const failure of FAILURES) {
    it(failure.name, async () => {
      const result = await validate(failure.body());
      const code = { 400: 'invalid_argument', 404: 'not_found', 409: 'conflict' }[failure.status];
      assert.deepEqual(
        result,
        { ok: false, status: failure.status, code, message: failure.message, details: failure.details ? failure.details() : {} },
      );
    });
  }
});

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
    assert.deepEqual(result.ok ? result : result.details, { serviceId: ids['demo/web'], expectedDigest: digest('1'), gotDigest: 'sha512:abc' });
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
    assert.deepEqual(overridden.ok ? overridden : overridden.details, {
      missingServiceIds: [],
      extraServiceIds: [ids['demo/legacy']],
    });
    const applied = await validate({ ...body, targets: [target('demo/web')] }, { mode: 'apply', reason: 'webhook' });
    assert.ok(applied.ok, JSON.stringify(applied));
    assert.deepEqual([applied.plan.mode, applied.plan.reason], ['apply', 'webhook']);
  });
});

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
    assert.deepEqual(await validate(trigger.update), {
      ok: false,
      status: 400,
      code: 'invalid_argument',
      message: 'targets must exactly cover the selected services for this scope',
      details: { missingServiceIds: [], extraServiceIds: ['svc_web'] },
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
      assert.deepEqual(validateWebhookTrigger(body), { ok: false, status: 400, code: 'invalid_argument', message, details: {} });
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
    assert.equal(result.ok ? 'ok' : result.message, 'scope=service target serviceId must match request serviceId');
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
