import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { components } from '../../generated/dockrev.js';
import { failureResponse } from '../../http/failures.js';
import type { UpdateRequestInput } from './validate.js';
import type { WebhookTriggerInput } from './webhook-trigger.js';
import { digest, ids, target, useUpdateFixture, validate } from './testing/update-fixture.js';

// Checked by the compiler: the server hands over its generated body types, which must fit the validators.
const serverBodiesFit: [
  components['schemas']['UpdateRequest'] extends UpdateRequestInput ? true : false,
  components['schemas']['WebhookTriggerRequest'] extends WebhookTriggerInput ? true : false,
] = [true, true];


useUpdateFixture();

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
      assert.equal(result.ok, false);
      // The engine names the failure's kind; the status is what src/http makes of it.
      assert.deepEqual(
        !result.ok && failureResponse(result.failure),
        { status: failure.status, body: { error: { code, message: failure.message, details: failure.details ? failure.details() : {} } } },
      );
    });
  }
});

