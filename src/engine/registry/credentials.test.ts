import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadDockerCredentials, normalizeCredentialKey, parseDockerConfig } from './credentials.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('normalizeCredentialKey', () => {
  const cases: Array<[string, string]> = [
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['https://ghcr.io', 'ghcr.io'],
    ['http://127.0.0.1:5102/v2/', '127.0.0.1:5102'],
    ['registry.example.com/v1', 'registry.example.com'],
    ['Registry.Example.com:443/', 'registry.example.com:443'],
  ];
  for (const [key, expected] of cases) {
    it(`'${key}' → '${expected}'`, () => assert.equal(normalizeCredentialKey(key), expected));
  }
});

describe('parseDockerConfig', () => {
  it('reads auth, username/password and identitytoken entries under normalised keys', () => {
    const { credentials, warnings } = parseDockerConfig(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
          'http://127.0.0.1:5102/v2/': { username: 'basic', password: 'secret' },
          'ghcr.io': { auth: b64('someone:ignored'), identitytoken: 'refresh-123' },
          'quay.io': {},
        },
      }),
      'config.json',
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(credentials.forRegistry('docker.io'), { username: 'hubuser', password: 'hub:pass' });
    assert.deepEqual(credentials.forRegistry('index.docker.io'), { username: 'hubuser', password: 'hub:pass' });
    assert.deepEqual(credentials.forRegistry('127.0.0.1:5102'), { username: 'basic', password: 'secret' });
    assert.deepEqual(credentials.forRegistry('ghcr.io'), { username: 'oauth2', password: 'refresh-123' });
    assert.equal(credentials.forRegistry('quay.io'), undefined);
    assert.deepEqual(credentials.registries().sort(), ['127.0.0.1:5102', 'docker.io', 'ghcr.io']);
  });

  it('warns about malformed auth and credential helpers without leaking secrets', () => {
    const { credentials, warnings } = parseDockerConfig(
      JSON.stringify({ credsStore: 'desktop', auths: { 'ghcr.io': { auth: b64('no-colon-secret') } } }),
      'config.json',
    );
    assert.equal(credentials.forRegistry('ghcr.io'), undefined);
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /credential helpers/);
    assert.match(warnings.join('\n'), /ghcr\.io is not base64 of user:password/);
    assert.doesNotMatch(warnings.join('\n'), /no-colon-secret/);
  });

  it('turns invalid JSON into a warning', () => {
    const { credentials, warnings } = parseDockerConfig('{not json', '/x/config.json');
    assert.deepEqual(credentials.registries(), []);
    assert.match(warnings[0]!, /\/x\/config\.json is not valid JSON/);
  });
});

describe('loadDockerCredentials', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('gives no credentials and no warning without a path', async () => {
    const { credentials, warnings } = await loadDockerCredentials(undefined);
    assert.deepEqual(credentials.registries(), []);
    assert.deepEqual(warnings, []);
  });

  it('gives no credentials and a warning for a missing file', async () => {
    const { credentials, warnings } = await loadDockerCredentials('/nonexistent/dockrev/config.json');
    assert.deepEqual(credentials.registries(), []);
    assert.match(warnings[0]!, /\/nonexistent\/dockrev\/config\.json not found/);
  });

  it('reads a file, or config.json inside a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dockrev-creds-'));
    dirs.push(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'ghcr.io': { auth: b64('u:p') } } }));
    for (const path of [join(dir, 'config.json'), dir]) {
      const { credentials, warnings } = await loadDockerCredentials(path);
      assert.deepEqual(warnings, []);
      assert.deepEqual(credentials.forRegistry('ghcr.io'), { username: 'u', password: 'p' });
    }
  });
});
