import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callbackUrlProblem, callbackUrlsMatch, parseFullName, parseTargetInput } from './inputs.js';

const value = (input: string) => {
  const parsed = parseTargetInput(input);
  return parsed.ok ? parsed.value : parsed.error;
};

describe('target inputs', () => {
  it('reads owners, repositories, URLs and SSH remotes', () => {
    assert.deepEqual(value('acme'), { kind: 'owner', owner: 'acme' });
    assert.deepEqual(value('  acme/web  '), { kind: 'repo', owner: 'acme', repo: 'web' });
    assert.deepEqual(value('acme/web.git'), { kind: 'repo', owner: 'acme', repo: 'web' });
    assert.deepEqual(value('https://github.com/acme'), { kind: 'owner', owner: 'acme' });
    assert.deepEqual(value('https://github.com/acme/web/tree/main/src'), { kind: 'repo', owner: 'acme', repo: 'web' });
    assert.deepEqual(value('https://GitHub.com/orgs/acme/repositories'), { kind: 'owner', owner: 'acme' });
    assert.deepEqual(value('github.com/acme/web'), { kind: 'repo', owner: 'acme', repo: 'web' });
    assert.deepEqual(value('git@github.com:acme/web.git'), { kind: 'repo', owner: 'acme', repo: 'web' });
    assert.deepEqual(value('git@github.com:acme/web'), { kind: 'repo', owner: 'acme', repo: 'web' });
  });

  it('names the problem with what it cannot use', () => {
    assert.equal(value('   '), 'input is empty');
    assert.equal(value('https://gitlab.com/acme/web'), 'unsupported host: gitlab.com');
    assert.equal(value('git@gitlab.com:acme/web.git'), 'unsupported host: gitlab.com');
    assert.equal(value('gitlab.com/acme'), 'unsupported host: gitlab.com');
    for (const input of ['acme/web/extra', '-acme', 'acme-', 'ac--me', 'acme/..', 'acme/web app', 'ftp://github.com/acme', 'https://github.com/', 'a'.repeat(40)]) {
      assert.equal(value(input), 'unrecognized target input', input);
    }
  });

  it('takes full names only as owner/repo', () => {
    assert.deepEqual(parseFullName(' Acme/Web '), { owner: 'Acme', repo: 'Web' });
    for (const input of ['acme', 'acme/', '/web', 'acme/web/x', 'https://github.com/acme/web', '']) assert.equal(parseFullName(input), undefined, input);
  });
});

describe('callback URLs', () => {
  const callback = 'https://dockrev.example.com/api/webhooks/github-packages';

  it('match across a trailing slash, letter case of scheme and host, and default ports', () => {
    assert.ok(callbackUrlsMatch(callback, callback));
    assert.ok(callbackUrlsMatch(`${callback}/`, callback));
    assert.ok(callbackUrlsMatch('HTTPS://Dockrev.Example.COM:443/api/webhooks/github-packages', callback));
    assert.ok(callbackUrlsMatch('http://dockrev.example.com:80/hook?x=1', 'http://dockrev.example.com/hook/?x=1'));
  });

  it('do not match a different query, path, port or scheme', () => {
    assert.ok(!callbackUrlsMatch(`${callback}?token=1`, callback));
    assert.ok(!callbackUrlsMatch('http://dockrev.example.com/hook?x=1', 'http://dockrev.example.com/hook?x=2'));
    assert.ok(!callbackUrlsMatch('https://dockrev.example.com/api/webhooks/github', callback));
    assert.ok(!callbackUrlsMatch('https://dockrev.example.com:8443/api/webhooks/github-packages', callback));
    assert.ok(!callbackUrlsMatch('http://dockrev.example.com/api/webhooks/github-packages', callback));
    assert.ok(!callbackUrlsMatch(undefined, callback));
    assert.ok(!callbackUrlsMatch('not a url', callback));
  });

  it('must be an absolute http(s) URL to be registered', () => {
    assert.equal(callbackUrlProblem(''), 'callbackUrl is required');
    assert.equal(callbackUrlProblem('not a url'), 'invalid callbackUrl');
    assert.equal(callbackUrlProblem('ftp://dockrev.example.com/hook'), 'invalid callbackUrl');
    assert.equal(callbackUrlProblem(callback), undefined);
  });
});
