import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SERVICE_SETTINGS, DEFAULT_STACK_BACKUP, type Service, type ServiceCandidate, type Stack } from '../../store/index.js';
import { isSelfImage } from '../discovery/image-ref.js';
import { selectUpdateServices, type SelectionOptions } from './selection.js';

const SELF = 'ghcr.io/ivanli-cn/dockrev';
const NOW = '2026-03-05T08:00:00.000Z';

function service(id: string, fields: Partial<Omit<Service, 'candidate'>> & { candidate?: Partial<ServiceCandidate> | null } = {}): Service {
  const { candidate, ...rest } = fields;
  return {
    id,
    stackId: 'stk_1',
    name: id.replace('svc_', ''),
    image: { ref: `ghcr.io/acme/${id}`, tag: 'latest' },
    ...(candidate === null
      ? {}
      : { candidate: { tag: 'latest', digest: `sha256:${id}`, archMatch: 'match', arch: ['linux/amd64'], ...candidate } }),
    settings: DEFAULT_SERVICE_SETTINGS,
    archived: false,
    createdAt: NOW,
    updatedAt: NOW,
    ...rest,
  };
}

function stackOf(...services: Service[]): Stack & { services: Service[] } {
  return {
    id: 'stk_1',
    name: 'demo',
    compose: { type: 'path', composeFiles: ['/srv/demo/docker-compose.yml'] },
    backup: DEFAULT_STACK_BACKUP,
    archived: false,
    createdAt: NOW,
    updatedAt: NOW,
    services,
  };
}

const options = (overrides: Partial<SelectionOptions> = {}): SelectionOptions => ({
  reason: 'ui',
  allowArchMismatch: false,
  selfImageRepo: SELF,
  ...overrides,
});

const ids = (services: Service[]) => services.map((s) => s.id);

describe('selectUpdateServices', () => {
  const mixed = stackOf(
    service('svc_web'),
    service('svc_unknown_arch', { candidate: { archMatch: 'unknown' } }),
    service('svc_mismatch', { candidate: { archMatch: 'mismatch' } }),
    service('svc_no_candidate', { candidate: null }),
    service('svc_archived', { archived: true }),
    service('svc_ignored', { ignore: { matched: true, ruleId: 'ign_1', reason: 'matched ignore rule for tag latest' } }),
  );

  it('stack and all scopes take only actionable candidates', () => {
    for (const scope of ['stack', 'all'] as const) {
      const selection = selectUpdateServices(mixed, scope, options());
      assert.deepEqual(ids(selection.selected), ['svc_web', 'svc_unknown_arch'], scope);
      assert.deepEqual(selection.skippedVersionAnomaly, []);
    }
  });

  it('allowArchMismatch admits a mismatching candidate, but nothing else', () => {
    const selection = selectUpdateServices(mixed, 'stack', options({ allowArchMismatch: true }));
    assert.deepEqual(ids(selection.selected), ['svc_web', 'svc_unknown_arch', 'svc_mismatch']);
  });

  it('service scope takes exactly the named service, even archived, ignored, mismatching or without candidate', () => {
    for (const serviceId of ['svc_archived', 'svc_ignored', 'svc_mismatch', 'svc_no_candidate', 'svc_web']) {
      assert.deepEqual(ids(selectUpdateServices(mixed, 'service', options({ serviceId })).selected), [serviceId]);
    }
    assert.deepEqual(ids(selectUpdateServices(mixed, 'service', options({ serviceId: 'svc_elsewhere' })).selected), []);
    assert.deepEqual(ids(selectUpdateServices(mixed, 'service', options()).selected), [], 'no serviceId selects nothing');
  });

  it("never selects Dockrev's own image, whatever the scope", () => {
    const stack = stackOf(
      service('svc_self', { image: { ref: SELF, tag: 'latest' } }),
      service('svc_self_tagged', { image: { ref: `${SELF}:0.4.0`, tag: '0.4.0' } }),
      service('svc_self_pinned', { image: { ref: `${SELF}@sha256:abc`, tag: 'latest' } }),
      service('svc_lookalike', { image: { ref: `${SELF}-supervisor`, tag: 'latest' } }),
    );
    assert.deepEqual(ids(selectUpdateServices(stack, 'stack', options()).selected), ['svc_lookalike']);
    assert.deepEqual(ids(selectUpdateServices(stack, 'service', options({ serviceId: 'svc_self' })).selected), []);
    assert.deepEqual(
      ids(selectUpdateServices(stack, 'stack', options({ selfImageRepo: '  ' })).selected),
      ['svc_self', 'svc_self_tagged', 'svc_self_pinned', 'svc_lookalike'],
      'an empty DOCKREV_IMAGE_REPO protects nothing',
    );
  });

  it('isSelfImage matches the repository bare, with a tag or with a digest only', () => {
    assert.equal(isSelfImage(SELF, SELF), true);
    assert.equal(isSelfImage(`${SELF}:latest`, SELF), true);
    assert.equal(isSelfImage(`${SELF}@sha256:abc`, SELF), true);
    assert.equal(isSelfImage(`${SELF}2`, SELF), false);
    assert.equal(isSelfImage('ghcr.io/ivanli-cn', SELF), false);
  });
});

describe('semver-downgrade skip', () => {
  // [name, current tag, current resolvedTag, candidate tag, candidate resolvedTag, expected anomaly or undefined]
  const cases: [string, string, string | undefined, string, string | undefined, { current: string; candidate: string } | undefined][] = [
    ['resolved tags, candidate lower', 'latest', '1.2.0', 'latest', '1.1.9', { current: '1.2.0', candidate: '1.1.9' }],
    ['leading v is accepted and dropped', 'stable', 'v2.0.0', 'stable', 'v1.9.0', { current: '2.0.0', candidate: '1.9.0' }],
    ['raw tags when nothing is resolved', '3.1.0', undefined, '3.0.5', undefined, { current: '3.1.0', candidate: '3.0.5' }],
    ['a release beats its release candidate', 'latest', '1.0.0', 'latest', '1.0.0-rc.1', { current: '1.0.0', candidate: '1.0.0-rc.1' }],
    ['rc.2 beats rc.1', 'latest', '1.0.0-rc.2', 'latest', '1.0.0-rc.1', { current: '1.0.0-rc.2', candidate: '1.0.0-rc.1' }],
    ['beta-2 beats beta-1 (digits after a stage name)', 'latest', '1.0.0-beta-2', 'latest', '1.0.0-beta-1', { current: '1.0.0-beta-2', candidate: '1.0.0-beta-1' }],
    ['build metadata is allowed', 'latest', '1.2.0+build.7', 'latest', '1.1.0', { current: '1.2.0+build.7', candidate: '1.1.0' }],
    ['candidate higher', 'latest', '1.2.0', 'latest', '1.3.0', undefined],
    ['candidate equal', 'latest', '1.2.0', 'latest', '1.2.0', undefined],
    ['beta to rc is an upgrade', 'latest', '1.0.0-beta.3', 'latest', '1.0.0-rc.1', undefined],
    ['floating tags without resolution are not comparable', 'latest', undefined, 'latest', undefined, undefined],
    ['partial versions are not strict semver', '1.3', undefined, '1.2.0', undefined, undefined],
    ['leading zeros are not strict semver', 'latest', '01.2.0', 'latest', '1.1.0', undefined],
    ['a capital V is not a version prefix', 'latest', 'V2.0.0', 'latest', '1.0.0', undefined],
    ['hash-like pre-releases are not comparable', 'latest', '2026.3.28-e58516daf', 'latest', '2026.3.28-6b9856d64', undefined],
    ['an opaque resolved tag does not fall back to the raw tag', '2026.3.28', '2026.3.28-e58516daf', '2026.3.27', '2026.3.28-6b9856d64', undefined],
    ['a blank resolved tag falls back to the raw tag', '2.0.0', ' ', '1.0.0', undefined, { current: '2.0.0', candidate: '1.0.0' }],
    ['surrounding space of a tag is ignored', ' 2.0.0 ', undefined, '1.0.0', undefined, { current: '2.0.0', candidate: '1.0.0' }],
    ['leading zeros in a numeric pre-release are not strict semver', 'latest', '1.0.0', 'latest', '1.0.0-01', undefined],
    ['leading zeros in a longer numeric pre-release too', 'latest', '1.0.0', 'latest', '1.0.0-rc.007', undefined],
    ['a stage name must start the token', 'latest', '2.0.0', 'latest', '2.0.0-xrc1', undefined],
    ['a stage name must end the token', 'latest', '2.0.0', 'latest', '2.0.0-rc1x', undefined],
    ['a numeric token is digits only', 'latest', '2.0.0', 'latest', '2.0.0-1a', undefined],
    ['a numeric token of many digits is comparable', 'latest', '2.0.0-20', 'latest', '2.0.0-19', { current: '2.0.0-20', candidate: '2.0.0-19' }],
    ['a stage name followed by several digits is comparable', 'latest', '2.0.0-rc12', 'latest', '2.0.0-rc11', { current: '2.0.0-rc12', candidate: '2.0.0-rc11' }],
    ['rc10 follows rc9 (stage numbers compare as numbers)', 'latest', '1.0.0-rc9', 'latest', '1.0.0-rc10', undefined],
    ['rc100 follows rc99', 'latest', '1.0.0-rc99', 'latest', '1.0.0-rc100', undefined],
    ['rc9 after rc10 is a downgrade', 'latest', '1.0.0-rc10', 'latest', '1.0.0-rc9', { current: '1.0.0-rc10', candidate: '1.0.0-rc9' }],
    ['beta-10 follows beta-9, any case', 'latest', '1.0.0-Beta-9', 'latest', '1.0.0-beta-10', undefined],
    ['a release follows its numbered candidates', 'latest', '1.0.0-rc10', 'latest', '1.0.0', undefined],
    ['a stage name, a dash and several digits', 'latest', '2.0.0-rc-12', 'latest', '2.0.0-rc-11', { current: '2.0.0-rc-12', candidate: '2.0.0-rc-11' }],
  ];

  for (const [name, tag, resolvedTag, candidateTag, candidateResolvedTag, expected] of cases) {
    it(name, () => {
      const svc = service('svc_app', {
        image: { ref: 'ghcr.io/acme/app', tag, ...(resolvedTag === undefined ? {} : { resolvedTag }) },
        candidate: { tag: candidateTag, ...(candidateResolvedTag === undefined ? {} : { resolvedTag: candidateResolvedTag }) },
      });
      for (const reason of ['webhook', 'schedule', 'auto_policy'] as const) {
        const selection = selectUpdateServices(stackOf(svc), 'stack', options({ reason }));
        if (expected) {
          assert.deepEqual(selection.selected, [], reason);
          assert.deepEqual(selection.skippedVersionAnomaly, [
            { serviceId: 'svc_app', serviceName: 'app', ...expected, reason: 'semver_downgrade' },
          ]);
        } else {
          assert.deepEqual(ids(selection.selected), ['svc_app'], reason);
          assert.deepEqual(selection.skippedVersionAnomaly, []);
        }
      }
      const byHand = selectUpdateServices(stackOf(svc), 'stack', options({ reason: 'ui' }));
      assert.deepEqual(ids(byHand.selected), ['svc_app'], 'a person in the UI may downgrade');
      assert.deepEqual(byHand.skippedVersionAnomaly, []);
    });
  }

  it('applies to service scope too, and only to services still in scope', () => {
    const downgrade = service('svc_down', { image: { ref: 'ghcr.io/acme/down', tag: 'latest', resolvedTag: '2.0.0' }, candidate: { resolvedTag: '1.0.0' } });
    const archivedDowngrade = service('svc_parked', {
      archived: true,
      image: { ref: 'ghcr.io/acme/parked', tag: 'latest', resolvedTag: '2.0.0' },
      candidate: { resolvedTag: '1.0.0' },
    });
    const stack = stackOf(downgrade, archivedDowngrade, service('svc_web'));
    const serviceScope = selectUpdateServices(stack, 'service', options({ serviceId: 'svc_down', reason: 'schedule' }));
    assert.deepEqual(serviceScope.selected, []);
    assert.deepEqual(serviceScope.skippedVersionAnomaly.map((anomaly) => anomaly.serviceId), ['svc_down']);
    const stackScope = selectUpdateServices(stack, 'stack', options({ reason: 'schedule' }));
    assert.deepEqual(ids(stackScope.selected), ['svc_web']);
    assert.deepEqual(
      stackScope.skippedVersionAnomaly.map((anomaly) => anomaly.serviceId),
      ['svc_down'],
      'an archived service is out of scope, not an anomaly',
    );
  });
});
