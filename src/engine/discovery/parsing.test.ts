import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  composeLabels,
  ComposeFileError,
  homepageFromLabels,
  interpolate,
  mergeComposeServices,
  normalizeConfigFiles,
  parseComposeImage,
  parseComposeServices,
  parseEnvFile,
  resolveConfigFiles,
  servicesFromCompose,
} from './index.js';

describe('config_files label', () => {
  it('splits on commas and newlines, trims, drops empties and duplicates, keeps order', () => {
    assert.deepEqual(normalizeConfigFiles(' /a.yml,\n/b.yml\r\n/a.yml\n\n,/c.yml '), ['/a.yml', '/b.yml', '/c.yml']);
    assert.deepEqual(normalizeConfigFiles(' , \n'), []);
    assert.deepEqual(
      normalizeConfigFiles('/srv/a/compose.yml,/data/overrides/job_01JNR1Y6QK3G7W9T8E2M4B5C6F-stk_01JNR1Y6QK3G7W9T8E2M4B5C6D.yml'),
      ['/srv/a/compose.yml'],
      "an update's temporary override file is not one of the project's files",
    );
  });

  it('keeps absolute paths as they are', () => {
    assert.deepEqual(resolveConfigFiles('/srv/app/compose.yml,/srv/app/prod.yml', undefined), {
      ok: true,
      candidates: [['/srv/app/compose.yml', '/srv/app/prod.yml']],
    });
  });

  it('resolves Compose v1 relative paths against working_dir', () => {
    assert.deepEqual(resolveConfigFiles('docker-compose.yml,docker-compose.override.yml', '/srv/app'), {
      ok: true,
      candidates: [['/srv/app/docker-compose.yml', '/srv/app/docker-compose.override.yml']],
    });
    assert.deepEqual(resolveConfigFiles('compose.yml,/etc/shared.yml', '/srv/app'), {
      ok: true,
      candidates: [['/srv/app/compose.yml', '/etc/shared.yml']],
    });
  });

  it('offers the first file\'s folder as a second guess when the label has a folder part', () => {
    // `docker-compose -f dk/p3/compose.yml -f dk/p3/extra.yml` run in /tmp: working_dir is /tmp/dk/p3.
    assert.deepEqual(resolveConfigFiles('dk/p3/compose.yml,dk/p3/extra.yml', '/tmp/dk/p3'), {
      ok: true,
      candidates: [
        ['/tmp/dk/p3/dk/p3/compose.yml', '/tmp/dk/p3/dk/p3/extra.yml'],
        ['/tmp/dk/p3/compose.yml', '/tmp/dk/p3/extra.yml'],
      ],
    });
    // `docker-compose` found ../compose.yml searching upward from /tmp/dk/p3/sub/deeper.
    assert.deepEqual(resolveConfigFiles('../compose.yml', '/tmp/dk/p3/sub'), {
      ok: true,
      candidates: [['/tmp/dk/p3/compose.yml'], ['/tmp/dk/p3/sub/compose.yml']],
    });
  });

  it('rejects relative paths without an absolute working_dir, and empty labels', () => {
    assert.deepEqual(resolveConfigFiles('compose.yml', undefined), { ok: false, reason: 'config_files_relative_path_rejected' });
    assert.deepEqual(resolveConfigFiles('compose.yml', 'srv/app'), { ok: false, reason: 'config_files_relative_path_rejected' });
    assert.deepEqual(resolveConfigFiles(' ,\n', '/srv/app'), { ok: false, reason: 'config_files_empty' });
  });
});

describe('image strings', () => {
  it('splits repository and tag, defaulting to latest', () => {
    assert.deepEqual(parseComposeImage('nginx'), { ref: 'nginx', tag: 'latest' });
    assert.deepEqual(parseComposeImage('postgres:16'), { ref: 'postgres', tag: '16' });
    assert.deepEqual(parseComposeImage('ghcr.io/acme/web:5.2'), { ref: 'ghcr.io/acme/web', tag: '5.2' });
    assert.deepEqual(parseComposeImage(' ghcr.io/acme/web '), { ref: 'ghcr.io/acme/web', tag: 'latest' });
  });

  it('does not mistake a registry port for a tag', () => {
    assert.deepEqual(parseComposeImage('localhost:5000/repo/app'), { ref: 'localhost:5000/repo/app', tag: 'latest' });
    assert.deepEqual(parseComposeImage('127.0.0.1:5101/repo/app:1.2.3'), { ref: '127.0.0.1:5101/repo/app', tag: '1.2.3' });
  });

  it('keeps the tag of digest-pinned references and reports the digest', () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    assert.deepEqual(parseComposeImage(`valkey/valkey:8-alpine@${digest}`), { ref: 'valkey/valkey', tag: '8-alpine', digest });
    assert.deepEqual(parseComposeImage(`localhost:5000/app@${digest}`), { ref: 'localhost:5000/app', tag: 'latest', digest });
  });

  it('treats an empty tag (an unset variable) as latest', () => {
    assert.deepEqual(parseComposeImage('ghcr.io/acme/web:'), { ref: 'ghcr.io/acme/web', tag: 'latest' });
  });
});

describe('labels and homepage', () => {
  it('reads map and list syntax', () => {
    assert.deepEqual(composeLabels({ 'homepage.name': 'Web', port: 8080, flag: null }), { 'homepage.name': 'Web', port: '8080', flag: '' });
    assert.deepEqual(composeLabels(['homepage.href=http://x/?a=b', 'bare']), { 'homepage.href': 'http://x/?a=b', bare: '' });
    assert.deepEqual(composeLabels(undefined), {});
  });

  it('keeps the known homepage fields only', () => {
    assert.deepEqual(
      homepageFromLabels({
        'homepage.group': 'Media',
        'homepage.name': 'Jellyfin',
        'homepage.icon': 'jellyfin.png',
        'homepage.href': 'http://jf.lan/',
        'homepage.description': ' Movies ',
        'homepage.widget.type': 'jellyfin',
        'traefik.enable': 'true',
      }),
      { group: 'Media', name: 'Jellyfin', icon: 'jellyfin.png', href: 'http://jf.lan/', description: 'Movies' },
    );
    assert.equal(homepageFromLabels({ 'homepage.name': '  ', other: 'x' }), undefined);
  });
});

describe('env files and interpolation', () => {
  it('parses .env lines', () => {
    const text = '# comment\nTAG=1.2\nexport REGISTRY="ghcr.io/acme"\nQUOTED=\'a b\'\nTRAILING=x # note\nEMPTY=\nnot a line\n';
    assert.deepEqual(parseEnvFile(text), { TAG: '1.2', REGISTRY: 'ghcr.io/acme', QUOTED: 'a b', TRAILING: 'x', EMPTY: '' });
  });

  it('substitutes like Compose', () => {
    const vars = { TAG: '1.2', EMPTY: '' };
    assert.equal(interpolate('app:$TAG', vars), 'app:1.2');
    assert.equal(interpolate('app:${TAG}', vars), 'app:1.2');
    assert.equal(interpolate('app:${MISSING:-latest}', vars), 'app:latest');
    assert.equal(interpolate('app:${EMPTY:-latest}', vars), 'app:latest');
    assert.equal(interpolate('app:${EMPTY-latest}', vars), 'app:');
    assert.equal(interpolate('${TAG:+set}/${MISSING+set}', vars), 'set/');
    assert.equal(interpolate('app:${MISSING:?required}', vars), 'app:');
    assert.equal(interpolate('cost $$5 $MISSING.', vars), 'cost $5 .');
  });
});

describe('Compose files', () => {
  it('reads services with images and labels, interpolated', () => {
    const text = [
      'x-common: &common',
      '  labels:',
      '    - homepage.group=Apps',
      'services:',
      '  web:',
      '    <<: *common',
      '    image: ${REGISTRY}/web:${TAG:-1.0}',
      '  builder:',
      '    build: .',
    ].join('\n');
    const services = parseComposeServices(text, { REGISTRY: 'ghcr.io/acme' });
    assert.deepEqual(services.get('web'), { image: 'ghcr.io/acme/web:1.0', labels: { 'homepage.group': 'Apps' } });
    assert.deepEqual(services.get('builder'), { labels: {} });
  });

  it('lets later files override earlier ones per service', () => {
    const base = parseComposeServices('services:\n  web:\n    image: acme/web:1\n    labels:\n      homepage.name: Web\n  db:\n    image: postgres:15\n');
    const override = parseComposeServices('services:\n  web:\n    image: acme/web:2\n    labels:\n      homepage.icon: web.png\n  cache:\n    image: redis\n');
    assert.deepEqual(servicesFromCompose(mergeComposeServices([base, override])), [
      { name: 'cache', image: { ref: 'redis', tag: 'latest' } },
      { name: 'db', image: { ref: 'postgres', tag: '15' } },
      { name: 'web', image: { ref: 'acme/web', tag: '2' }, homepage: { name: 'Web', icon: 'web.png' } },
    ]);
  });

  it('skips services without an image; a file without services adds none', () => {
    assert.deepEqual(servicesFromCompose(parseComposeServices('services:\n  app:\n    build: .\n')), []);
    assert.equal(parseComposeServices('networks:\n  default: {}\n').size, 0);
  });

  it('rejects what is not a Compose file', () => {
    assert.throws(() => parseComposeServices('services: [oops'), ComposeFileError);
    assert.throws(() => parseComposeServices(''), /top level must be a mapping/);
    assert.throws(() => parseComposeServices('- a\n- b\n'), /top level must be a mapping/);
    assert.throws(() => parseComposeServices('services: [web]\n'), /'services' must be a mapping/);
    assert.throws(() => parseComposeServices('services:\n  web: nginx\n'), /service 'web' must be a mapping/);
    assert.throws(() => parseComposeServices('services:\n  web:\n    image: [a]\n'), /'image' must be a string/);
  });
});
