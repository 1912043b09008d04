import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyEvent, HostAliases } from '../matching.js';
import { PAYLOAD_PARSERS } from './index.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const noAliases = new HostAliases([]);

function events(source: keyof typeof PAYLOAD_PARSERS, body: unknown) {
  const parsed = PAYLOAD_PARSERS[source](body);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
  return parsed.events;
}

describe('registry payloads', () => {
  it('reads the distribution envelope, taking the host from request.host or else the target URL', () => {
    const [pushed, proxied] = events('distribution', {
      events: [
        { id: 'e1', action: 'push', target: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: DIGEST, repository: 'acme/web', tag: 'latest' }, request: { host: 'Registry.Example.com:5000' } },
        { id: 'e2', action: 'push', target: { repository: 'acme/web', tag: '1.0', url: 'https://mirror.example.com/v2/acme/web/manifests/1.0' } },
      ],
    });
    assert.deepEqual(pushed, { id: 'e1', action: 'push', host: 'Registry.Example.com:5000', repository: 'acme/web', tag: 'latest', digest: DIGEST, mediaType: 'application/vnd.oci.image.index.v1+json' });
    assert.equal(proxied!.host, 'mirror.example.com');
    assert.deepEqual(classifyEvent(pushed!, noAliases), { target: { registry: 'registry.example.com:5000', key: 'registry.example.com:5000/acme/web', tag: 'latest', digest: DIGEST, eventId: 'e1' } });
  });

  it('refuses bodies that are not envelopes, naming what is missing', () => {
    for (const body of [null, [], 'events', { event: [] }, { events: {} }]) assert.equal(PAYLOAD_PARSERS.distribution(body).ok, false, JSON.stringify(body));
    const parsed = PAYLOAD_PARSERS.distribution({ events: [{ action: 'push' }, 7] });
    assert.deepEqual(parsed, { ok: false, message: 'events[1] is not an object' });
  });

  it('ignores pulls, deletes, blobs and untagged manifests, and names each reason', () => {
    const base = { host: 'r.example.com', repository: 'acme/web', digest: DIGEST };
    const reasons = [
      { ...base, action: 'pull', tag: 'latest' },
      { ...base, action: 'delete', tag: 'latest' },
      { ...base, action: 'push', mediaType: 'application/octet-stream' },
      { ...base, action: 'push', tag: 'latest', mediaType: 'application/vnd.docker.container.image.v1+json' },
      { ...base, action: 'push', tag: 'latest', host: undefined },
      { ...base, action: 'push', tag: 'latest', repository: 'Not/Lowercase' },
    ].map((event) => {
      const classified = classifyEvent(event, noAliases);
      return 'ignored' in classified ? classified.ignored.reason : 'acted';
    });
    assert.deepEqual(reasons, ['not_a_push', 'not_a_push', 'no_tag', 'not_a_manifest', 'no_registry_host', 'invalid_reference']);
  });

  it('maps reported hosts through aliases and folds Docker Hub names like checks do', () => {
    const aliases = new HostAliases([
      { from: 'registry.internal:5000', to: 'registry.example.com' },
      { from: 'docker.io', to: 'mirror.example.com' },
    ]);
    const key = (host: string, repository: string, with_ = aliases) => {
      const classified = classifyEvent({ action: 'push', host, repository, tag: 'v1' }, with_);
      return 'target' in classified ? classified.target.key : classified.ignored.reason;
    };
    assert.equal(key('REGISTRY.internal:5000', 'acme/web'), 'registry.example.com/acme/web');
    assert.equal(key('docker.io', 'nginx', noAliases), 'docker.io/library/nginx');
    assert.equal(key('index.docker.io', 'acme/web', noAliases), 'docker.io/acme/web');
    assert.equal(key('docker.io', 'library/nginx'), 'mirror.example.com/library/nginx');
  });

  it('reads Harbor in its Default and CloudEvents formats, one event per resource', () => {
    const data = {
      resources: [
        { digest: DIGEST, tag: 'latest', resource_url: 'harbor.example.com/acme/web:latest' },
        { digest: DIGEST, tag: DIGEST, resource_url: `harbor.example.com/acme/web@${DIGEST}` },
      ],
      repository: { name: 'web', namespace: 'acme', repo_full_name: 'acme/web', repo_type: 'private' },
    };
    const plain = events('harbor', { type: 'PUSH_ARTIFACT', occur_at: 1, operator: 'admin', event_data: data });
    assert.deepEqual(plain[0], { id: undefined, action: 'push', host: 'harbor.example.com', repository: 'acme/web', tag: 'latest', digest: DIGEST });
    assert.equal(plain[1]!.tag, undefined, 'a digest in place of a tag is no tag');
    const cloud = events('harbor', { specversion: '1.0', id: 'ce-1', type: 'harbor.artifact.pushed', data });
    assert.deepEqual(cloud.map((event) => event.id), ['ce-1/0', 'ce-1/1']);
    assert.equal(events('harbor', { type: 'PULL_ARTIFACT', event_data: data })[0]!.action, 'PULL_ARTIFACT');
    assert.equal(PAYLOAD_PARSERS.harbor({ type: 'PUSH_ARTIFACT' }).ok, false);
    assert.equal(PAYLOAD_PARSERS.harbor({ event_data: data }).ok, false);
  });

  it('reads Docker Hub: the registry is docker.io, no id, no digest', () => {
    assert.deepEqual(events('dockerhub', { push_data: { tag: 'latest', pusher: 'me', pushed_at: 1 }, repository: { repo_name: 'acme/web' } }), [
      { action: 'push', host: 'docker.io', repository: 'acme/web', tag: 'latest' },
    ]);
    assert.equal(events('dockerhub', { push_data: { tag: '1' }, repository: { namespace: 'acme', name: 'api' } })[0]!.repository, 'acme/api');
    assert.equal(PAYLOAD_PARSERS.dockerhub({ push_data: { tag: 'x' } }).ok, false);
    assert.equal(PAYLOAD_PARSERS.dockerhub({ push_data: { tag: 'x' }, repository: {} }).ok, false);
  });

  it('reads Quay repo_push with updated_tags as a list or an object, and ignores other Quay events', () => {
    const body = { repository: 'acme/web', namespace: 'acme', name: 'web', docker_url: 'quay.example.com/acme/web', homepage: 'https://quay.example.com/repository/acme/web' };
    assert.deepEqual(events('quay', { ...body, updated_tags: ['latest', 'v2'] }), [
      { action: 'push', host: 'quay.example.com', repository: 'acme/web', tag: 'latest' },
      { action: 'push', host: 'quay.example.com', repository: 'acme/web', tag: 'v2' },
    ]);
    assert.deepEqual(events('quay', { ...body, updated_tags: { latest: 'b750fe79269d' } }).map((event) => event.tag), ['latest']);
    assert.equal(events('quay', { ...body, build_id: 'b1', docker_tags: ['latest'] })[0]!.action, 'build');
    assert.equal(PAYLOAD_PARSERS.quay({ ...body, updated_tags: 'latest' }).ok, false);
    assert.equal(PAYLOAD_PARSERS.quay({ updated_tags: ['latest'] }).ok, false);
  });
});
