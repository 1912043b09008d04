import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManifestFormatError, MEDIA_TYPES, parseManifest, platformFromConfig, selectPlatform, type Manifest } from './manifest.js';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

function index(platforms: string[]): Manifest {
  return {
    kind: 'index',
    digest: digest(0),
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: platforms.map((platform, i) => ({ platform, digest: digest(i + 1) })),
  };
}

function image(platform: string | undefined): Manifest {
  return { kind: 'image', digest: digest(0), mediaType: MEDIA_TYPES.dockerManifest, configDigest: digest(9), configIsImage: true, platform };
}

describe('selectPlatform', () => {
  const cases: Array<{ name: string; manifest: Manifest; host: string; archMatch: string; platformDigest?: string; platforms?: string[] }> = [
    { name: 'exact host platform in an index', manifest: index(['linux/arm64', 'linux/amd64']), host: 'linux/amd64', archMatch: 'match', platformDigest: digest(2), platforms: ['linux/amd64', 'linux/arm64'] },
    { name: 'host platform missing from the index', manifest: index(['linux/arm64', 'linux/s390x']), host: 'linux/amd64', archMatch: 'mismatch' },
    { name: 'empty index', manifest: index([]), host: 'linux/amd64', archMatch: 'unknown', platforms: [] },
    { name: 'variant chosen exactly', manifest: index(['linux/arm/v6', 'linux/arm/v7']), host: 'linux/arm/v7', archMatch: 'match', platformDigest: digest(2) },
    { name: 'host without variant, several variants: match but no unique digest', manifest: index(['linux/arm/v6', 'linux/arm/v7']), host: 'linux/arm', archMatch: 'match', platformDigest: undefined },
    { name: 'host without variant, one variant: unique os/arch digest', manifest: index(['linux/amd64', 'linux/arm/v7']), host: 'linux/arm', archMatch: 'match', platformDigest: digest(2) },
    { name: 'host variant not offered', manifest: index(['linux/arm/v6']), host: 'linux/arm/v7', archMatch: 'mismatch', platformDigest: digest(1) },
    { name: 'arm64/v8 is arm64', manifest: index(['linux/amd64', 'linux/arm64/v8']), host: 'linux/arm64', archMatch: 'match', platformDigest: digest(2) },
    { name: 'arm64 host with v8 variant', manifest: index(['linux/arm64']), host: 'linux/arm64/v8', archMatch: 'match', platformDigest: digest(1) },
    { name: 'single manifest on the host platform', manifest: image('linux/amd64'), host: 'linux/amd64', archMatch: 'match', platforms: ['linux/amd64'] },
    { name: 'single manifest for another platform', manifest: image('linux/arm64'), host: 'linux/amd64', archMatch: 'mismatch' },
    { name: 'single manifest without platform', manifest: image(undefined), host: 'linux/amd64', archMatch: 'unknown', platforms: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const selection = selectPlatform(c.manifest, c.host);
      assert.equal(selection.archMatch, c.archMatch);
      assert.equal(selection.platformDigest, c.platformDigest);
      if (c.platforms) assert.deepEqual(selection.platforms, c.platforms);
    });
  }

  it('sorts and de-duplicates platforms', () => {
    assert.deepEqual(selectPlatform(index(['linux/arm64', 'linux/amd64', 'linux/arm64']), 'linux/amd64').platforms, ['linux/amd64', 'linux/arm64']);
  });
});

describe('parseManifest', () => {
  const body = (document: unknown) => Buffer.from(JSON.stringify(document));

  it('reads an index, dropping attestations and entries without platform', () => {
    const manifest = parseManifest(
      body({
        schemaVersion: 2,
        manifests: [
          { digest: digest(1), platform: { os: 'linux', architecture: 'amd64' } },
          { digest: digest(2), platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
          { digest: digest(3), platform: { os: 'unknown', architecture: 'unknown' } },
          { digest: digest(4) },
        ],
      }),
      `${MEDIA_TYPES.dockerManifestList}; charset=utf-8`,
      digest(0),
    );
    assert.deepEqual(manifest, {
      kind: 'index',
      digest: digest(0),
      mediaType: MEDIA_TYPES.dockerManifestList,
      manifests: [
        { platform: 'linux/amd64', digest: digest(1) },
        { platform: 'linux/arm/v7', digest: digest(2) },
      ],
    });
  });

  it('reads an image manifest, telling image configs from artifact configs', () => {
    const imageManifest = parseManifest(body({ mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(5) } }), 'application/json', digest(0));
    assert.equal(imageManifest.kind, 'image');
    assert.equal(imageManifest.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(imageManifest.kind === 'image' && imageManifest.configIsImage, true);
    const artifact = parseManifest(body({ config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: digest(5) } }), undefined, digest(0));
    assert.equal(artifact.kind === 'image' && artifact.configIsImage, false);
  });

  it('rejects garbage', () => {
    assert.throws(() => parseManifest(Buffer.from('{oops'), undefined, digest(0)), ManifestFormatError);
    assert.throws(() => parseManifest(body(42), undefined, digest(0)), ManifestFormatError);
    assert.throws(() => parseManifest(body({ schemaVersion: 1, fsLayers: [] }), undefined, digest(0)), /unsupported manifest/);
    assert.throws(() => parseManifest(body({ manifests: [{ platform: {} }] }), undefined, digest(0)), /without a digest/);
  });

  it('reads the platform of an image config', () => {
    assert.equal(platformFromConfig(body({ os: 'linux', architecture: 'arm', variant: 'v7' })), 'linux/arm/v7');
    assert.equal(platformFromConfig(body({ architecture: 'amd64' })), undefined);
    assert.throws(() => platformFromConfig(Buffer.from('nope')), ManifestFormatError);
  });
});
