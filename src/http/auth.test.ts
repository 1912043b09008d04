import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from '../config.js';
import { authorizationMode, authorize, githubSignatureValid, isTrustedPeer, maskValue, readIdentity, secretsEqual } from './auth.js';

describe('auth primitives', () => {
  it('masks values by length', () => {
    assert.equal(maskValue('a'), '**');
    assert.equal(maskValue('ab'), '**');
    assert.equal(maskValue('ops'), 'o**s');
    assert.equal(maskValue('opsx'), 'o**x');
    assert.equal(maskValue('admins'), 'ad***ns');
  });

  it('compares secrets of any length without throwing', () => {
    assert.equal(secretsEqual('change-me', 'change-me'), true);
    assert.equal(secretsEqual('change-m', 'change-me'), false);
    assert.equal(secretsEqual('', 'change-me'), false);
  });

  it('verifies GitHub signatures over the raw body', () => {
    const body = Buffer.from('{"action":"published"}');
    const good = `sha256=${createHmac('sha256', 'secret').update(body).digest('hex')}`;
    assert.equal(githubSignatureValid('secret', body, good), true);
    assert.equal(githubSignatureValid('other', body, good), false);
    assert.equal(githubSignatureValid('secret', body, good.replace('sha256=', 'sha1=')), false);
    assert.equal(githubSignatureValid('secret', body, 'sha256=zz'), false);
    assert.equal(githubSignatureValid('secret', body, undefined), false);
  });

  it('matches CIDR ranges for IPv4, IPv6 and IPv4-mapped peers', () => {
    const config = { trustedProxies: ['10.1.0.0/16', 'fd00::/8'] };
    assert.equal(isTrustedPeer(config, '10.1.200.3'), true);
    assert.equal(isTrustedPeer(config, '::ffff:10.1.2.3'), true);
    assert.equal(isTrustedPeer(config, '10.2.0.1'), false);
    assert.equal(isTrustedPeer(config, 'fd12:3456::1'), true);
    assert.equal(isTrustedPeer(config, 'fe80::1'), false);
    assert.equal(isTrustedPeer(config, undefined), false);
    assert.equal(isTrustedPeer({}, undefined), true, 'no list: every peer may send identity headers');
  });

  it('matches ranges whose prefix is not a multiple of 8 at both edges', () => {
    // Docker's default pool 172.16.0.0/12 is 172.16.0.0–172.31.255.255; /20 and /27 split a byte too.
    const cases: [string, string, boolean][] = [
      ['172.16.0.0/12', '172.16.0.0', true],
      ['172.16.0.0/12', '172.31.255.255', true],
      ['172.16.0.0/12', '172.15.255.255', false],
      ['172.16.0.0/12', '172.32.0.0', false],
      ['172.16.0.0/12', '172.0.0.1', false],
      ['172.16.0.0/12', '::ffff:172.31.0.9', true],
      ['172.16.0.0/12', '::ffff:172.32.0.9', false],
      ['192.168.16.0/20', '192.168.31.255', true],
      ['192.168.16.0/20', '192.168.32.0', false],
      ['192.168.16.0/20', '192.168.15.255', false],
      ['10.0.0.32/27', '10.0.0.32', true],
      ['10.0.0.32/27', '10.0.0.63', true],
      ['10.0.0.32/27', '10.0.0.64', false],
      ['10.0.0.32/27', '10.0.0.31', false],
      ['fe80::/10', 'fe80::1', true],
      ['fe80::/10', 'febf:ffff::1', true],
      ['fe80::/10', 'fec0::1', false],
      ['fe80::/10', 'fe7f:ffff::1', false],
      ['2001:db8::/33', '2001:db8:7fff::1', true],
      ['2001:db8::/33', '2001:db8:8000::1', false],
    ];
    for (const [range, peer, expected] of cases) {
      assert.equal(isTrustedPeer({ trustedProxies: [range] }, peer), expected, `${peer} in ${range}`);
    }
  });

  it('refuses trusted-proxy entries that are no address or range, naming them', () => {
    assert.deepEqual(loadConfig({ DOCKREV_AUTH_TRUSTED_PROXIES: '172.16.0.0/12, ::1, loopback' }).auth.trustedProxies, ['172.16.0.0/12', '::1', 'loopback']);
    assert.throws(() => loadConfig({ DOCKREV_AUTH_TRUSTED_PROXIES: '10.1.0.0/33,not-an-ip' }), /DOCKREV_AUTH_TRUSTED_PROXIES.*'10\.1\.0\.0\/33'.*'not-an-ip'|DOCKREV_AUTH_TRUSTED_PROXIES/s);
  });

  it('names the authorization mode after what the allowlist holds', () => {
    const base = { forwardHeaderName: 'X-Forwarded-User', groupHeaderName: 'Remote-Groups', allowAnonymousInDev: false };
    assert.equal(authorizationMode({ ...base, allowedUser: 'ops', allowedGroup: 'admins' }), 'user_or_group');
    assert.equal(authorizationMode({ ...base, allowedUser: 'ops' }), 'user_only');
    assert.equal(authorizationMode({ ...base, allowedGroup: 'admins' }), 'group_only');
    assert.equal(authorizationMode(base), 'none');
  });

  it('reads identity headers only from a trusted peer, in any case, trimmed, groups split', () => {
    const config = { forwardHeaderName: 'X-Forwarded-User', groupHeaderName: 'Remote-Groups', allowAnonymousInDev: false, trustedProxies: ['10.0.0.0/8'] };
    const headers = { 'x-forwarded-user': '  ops  ', 'remote-groups': [' admins , ', ',dev'] };
    assert.deepEqual(readIdentity(config, headers, '10.1.2.3'), { user: 'ops', groups: ['admins', 'dev'] });
    assert.deepEqual(readIdentity(config, { 'remote-groups': ['admins', 'dev'] }, '10.0.0.1'), { user: undefined, groups: ['admins', 'dev'] }, 'repeated headers are separate lists');
    assert.deepEqual(readIdentity(config, headers, '192.168.1.1'), { groups: [] }, 'an untrusted peer is anonymous');
    assert.deepEqual(readIdentity(config, headers, undefined), { groups: [] });
    assert.deepEqual(readIdentity(config, { 'x-forwarded-user': '   ' }, '10.0.0.1'), { user: undefined, groups: [] }, 'a blank user is no user');
    assert.deepEqual(readIdentity(config, {}, '10.0.0.1'), { user: undefined, groups: [] });
    const { trustedProxies: _unused, ...open } = config;
    assert.deepEqual(readIdentity(open, { 'x-forwarded-user': 'ops' }, undefined), { user: 'ops', groups: [] }, 'no list: every peer');
  });

  it('admits in the documented order and explains a refusal, masked', () => {
    const base = { forwardHeaderName: 'X-Forwarded-User', groupHeaderName: 'Remote-Groups', allowAnonymousInDev: true };
    // No allowlist: the development bypass admits anyone, by name when one is given.
    assert.deepEqual(authorize(base, { groups: [] }), { ok: true, principal: { name: 'anonymous', matchedBy: 'anonymous_dev' } });
    assert.deepEqual(authorize(base, { user: 'dev', groups: [] }), { ok: true, principal: { name: 'dev', matchedBy: 'anonymous_dev' } });
    const closed = { ...base, allowAnonymousInDev: false };
    assert.deepEqual(authorize(closed, { user: 'dev', groups: ['g1'] }), {
      ok: false,
      details: { reason: 'authz_config_missing', message: 'authorization target is not configured', forwardHeaderName: 'X-Forwarded-User', groupHeaderName: 'Remote-Groups', authorizationMode: 'none', currentGroups: ['**'], currentUser: 'dev' },
    });
    // An allowlist switches the bypass off.
    const both = { ...base, allowedUser: 'operator', allowedGroup: 'admins' };
    assert.deepEqual(authorize(both, { groups: [] }), {
      ok: false,
      details: { reason: 'identity_missing', message: 'forward auth identity is missing', forwardHeaderName: 'X-Forwarded-User', groupHeaderName: 'Remote-Groups', authorizationMode: 'user_or_group', allowedUserMasked: 'op***or', allowedGroupMasked: 'ad***ns', currentGroups: [] },
    });
    assert.deepEqual(authorize({ ...base, allowedGroup: 'admins' }, { groups: ['staff'] }), {
      ok: false,
      details: { reason: 'authz_no_match', message: 'forward auth identity is not allowed', forwardHeaderName: 'X-Forwarded-User', groupHeaderName: 'Remote-Groups', authorizationMode: 'group_only', allowedGroupMasked: 'ad***ns', currentGroups: ['st***ff'] },
    });
    assert.deepEqual(authorize({ ...base, allowedUser: 'operator' }, { user: 'intruder', groups: [] }).ok, false);
    assert.deepEqual(authorize(both, { user: 'eve', groups: ['admins'] }), { ok: true, principal: { name: 'eve', matchedBy: 'group' } });
    assert.deepEqual(authorize({ ...base, allowedUser: 'operator' }, { user: 'eve', groups: ['admins'] }).ok, false, 'a group admits only when a group is allowed');
    assert.deepEqual(authorize({ ...base, allowedUser: 'operator' }, { groups: ['operator'] }).ok, false, 'a group named like the user is no user');
  });

  it('refuses GitHub signatures with anything around the hex', () => {
    const body = Buffer.from('{}');
    const hex = createHmac('sha256', 'secret').update(body).digest('hex');
    assert.equal(githubSignatureValid('secret', body, `sha256=${hex} `), true, 'surrounding space is trimmed');
    assert.equal(githubSignatureValid('secret', body, `sha256=ab${hex}`), false);
    assert.equal(githubSignatureValid('secret', body, `sha256=${hex}ab`), false);
    assert.equal(githubSignatureValid('secret', body, `SHA256=${hex}`), false);
  });

  it('decides in the documented order', () => {
    const config = { forwardHeaderName: 'X-Forwarded-User', groupHeaderName: 'Remote-Groups', allowedUser: 'ops', allowAnonymousInDev: true };
    assert.deepEqual(authorize(config, { user: 'ops', groups: [] }), { ok: true, principal: { name: 'ops', matchedBy: 'user' } });
    const groupConfig = { ...config, allowedUser: undefined, allowedGroup: 'admins' };
    assert.deepEqual(authorize(groupConfig, { groups: ['admins'] }), { ok: true, principal: { name: 'group:admins', matchedBy: 'group' } });
    const denied = authorize(config, { groups: [] });
    assert.equal(denied.ok, false);
  });
});
