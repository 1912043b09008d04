import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidImageRefError,
  isDigest,
  normalizeDigest,
  normalizeRegistryHost,
  parseImageRef,
} from './reference.js';
import { RegistryHosts, repositorySpellings } from './hosts/index.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseImageRef', () => {
  const valid: Array<[string, { registry: string; repository: string; tag?: string; digest?: string }]> = [
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['library/nginx:latest', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }],
    ['acme/web:2.0.1-rc.1', { registry: 'docker.io', repository: 'acme/web', tag: '2.0.1-rc.1' }],
    ['docker.io/nginx:1', { registry: 'docker.io', repository: 'library/nginx', tag: '1' }],
    ['index.docker.io/acme/web:1', { registry: 'docker.io', repository: 'acme/web', tag: '1' }],
    ['registry-1.docker.io/library/redis:7', { registry: 'docker.io', repository: 'library/redis', tag: '7' }],
    ['ghcr.io/acme/web:latest', { registry: 'ghcr.io', repository: 'acme/web', tag: 'latest' }],
    ['GHCR.io/acme/web:latest', { registry: 'ghcr.io', repository: 'acme/web', tag: 'latest' }],
    ['ghcr.io/web', { registry: 'ghcr.io', repository: 'web' }],
    ['localhost/app:dev', { registry: 'localhost', repository: 'app', tag: 'dev' }],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app' }],
    ['localhost:5000/team/app:1.0', { registry: 'localhost:5000', repository: 'team/app', tag: '1.0' }],
    ['127.0.0.1:5101/a/b/c:v1', { registry: '127.0.0.1:5101', repository: 'a/b/c', tag: 'v1' }],
    ['[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1' }],
    ['registry:5000/app:v1', { registry: 'registry:5000', repository: 'app', tag: 'v1' }],
    [`nginx@${DIGEST}`, { registry: 'docker.io', repository: 'library/nginx', digest: DIGEST }],
    [`ghcr.io/acme/web:1.0@${DIGEST}`, { registry: 'ghcr.io', repository: 'acme/web', tag: '1.0', digest: DIGEST }],
    [`localhost:5000/app@${DIGEST}`, { registry: 'localhost:5000', repository: 'app', digest: DIGEST }],
    ['  my_org/my-app__x.y:TAG_1  ', { registry: 'docker.io', repository: 'my_org/my-app__x.y', tag: 'TAG_1' }],
    ['my--app', { registry: 'docker.io', repository: 'library/my--app' }],
    ['x.io/app', { registry: 'x.io', repository: 'app' }],
    ['localhost', { registry: 'docker.io', repository: 'library/localhost' }],
    ['my.app', { registry: 'docker.io', repository: 'library/my.app' }],
    [`acme/${'b'.repeat(250)}`, { registry: 'docker.io', repository: `acme/${'b'.repeat(250)}` }],
    [`app@sha512:${'cd'.repeat(64)}`, { registry: 'docker.io', repository: 'library/app', digest: `sha512:${'cd'.repeat(64)}` }],
  ];
  for (const [input, expected] of valid) {
    it(`parses '${input}'`, () => {
      const ref = parseImageRef(input);
      assert.deepEqual(ref, { ...expected, tag: expected.tag, digest: expected.digest, key: `${expected.registry}/${expected.repository}` });
    });
  }

  const invalid: Array<[string, RegExp]> = [
    ['', /: empty \(/],
    ['app:tag!', /bad tag/],
    ['app-', /bad path component/],
    [`app@x${DIGEST}`, /bad digest/],
    [`app@${DIGEST}0`, /bad digest/],
    [`app@sha512:${'cd'.repeat(32)}`, /bad digest/],
    [`acme/${'b'.repeat(251)}`, /longer than 255/],
    ['   ', /empty/],
    ['ngi nx:1', /whitespace/],
    ['Nginx:latest', /lowercase/],
    ['ghcr.io/Acme/web:1', /lowercase/],
    ['nginx:', /empty tag/],
    ['nginx:-bad', /bad tag/],
    ['nginx@sha256:abc', /bad digest/],
    [`nginx@sha256:${'AB'.repeat(32)}`, /bad digest/],
    [`nginx@md5:${'ab'.repeat(16)}`, /bad digest/],
    ['nginx@', /bad digest/],
    ['ghcr.io//web:1', /empty path component/],
    ['acme/web/:1', /empty path component/],
    ['acme/-web', /bad path component/],
    ['bad_host.io:99x/app', /bad registry host/],
    [`a/${'b'.repeat(260)}`, /longer than 255/],
  ];
  for (const [input, reason] of invalid) {
    it(`rejects '${input.length > 40 ? `${input.slice(0, 40)}…` : input}'`, () => {
      assert.throws(
        () => parseImageRef(input),
        (error: unknown) => error instanceof InvalidImageRefError && reason.test(error.message) && error.input === input,
      );
    });
  }
});

describe('reference helpers', () => {
  it('maps Docker Hub to its API host and leaves other registries alone', () => {
    const hosts = new RegistryHosts();
    const apiHost = (registry: string) => new URL(hosts.profileFor(registry).apiBaseUrl(registry)).host;
    assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(apiHost('ghcr.io'), 'ghcr.io');
    assert.equal(apiHost('127.0.0.1:5101'), '127.0.0.1:5101');
  });

  it('normalises registry hosts', () => {
    assert.equal(normalizeRegistryHost(' GHCR.io '), 'ghcr.io');
    assert.equal(normalizeRegistryHost(' Index.Docker.io '), 'docker.io');
  });

  it('normalises digests', () => {
    assert.equal(normalizeDigest(` SHA256:${'AB'.repeat(32)} `), DIGEST);
    assert.equal(normalizeDigest('ab'.repeat(32)), DIGEST);
    assert.equal(isDigest(DIGEST), true);
    assert.equal(isDigest('latest'), false);
    assert.equal(isDigest('sha256:abc'), false);
  });

  it('lists the spellings of a repository in RepoDigests', () => {
    assert.deepEqual([...repositorySpellings(parseImageRef('nginx').key)], ['docker.io/library/nginx', 'library/nginx', 'nginx']);
    assert.deepEqual([...repositorySpellings(parseImageRef('acme/web').key)], ['docker.io/acme/web', 'acme/web']);
    assert.deepEqual([...repositorySpellings(parseImageRef('ghcr.io/acme/web').key)], ['ghcr.io/acme/web']);
  });
});
