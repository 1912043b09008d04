// The kept listings against a scripted engine whose event stream the test drives: what is listed
// again after which event, and what API status reads answer without waiting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMPOSE_LABELS, type ComposeContainer } from './containers.js';
import type { DockerEvent, EventHandlers, ImageInfo, ListComposeContainersOptions } from './engine.js';
import { DockerStateCache, STATUS_FRESHNESS } from './state-cache.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function container(project: string, service: string, state: ComposeContainer['state'] = 'running'): ComposeContainer {
  const id = `${project}-${service}`;
  return {
    id,
    name: `${project}-${service}-1`,
    project,
    service,
    imageId: `sha256:${project}${service}`,
    configuredImage: `registry.test/${project}/${service}:latest`,
    labels: { [COMPOSE_LABELS.project]: project, [COMPOSE_LABELS.service]: service },
    state,
  };
}

/** An engine with containers and images the test changes, counting every call. */
function scriptedEngine(containers: ComposeContainer[]) {
  const calls: string[] = [];
  let handlers: EventHandlers | undefined;
  const images = new Map<string, ImageInfo>(
    containers.map((c) => [c.imageId, { repoDigests: [`registry.test/${c.project}/${c.service}@sha256:${c.service}`], repoTags: [c.configuredImage] }]),
  );
  let listingDelayMs = 0;
  const engine = {
    calls,
    containers,
    images,
    set listingDelayMs(ms: number) {
      listingDelayMs = ms;
    },
    async listComposeContainers(options: ListComposeContainersOptions = {}) {
      calls.push(options.project === undefined ? 'list all' : `list ${options.project}`);
      const answer = containers
        .filter((c) => options.project === undefined || c.project === options.project)
        .filter((c) => options.includeStopped || c.state === 'running')
        .map((c) => ({ ...c }));
      if (listingDelayMs > 0) await sleep(listingDelayMs);
      return answer;
    },
    async imageRepoDigests(ids: readonly string[]) {
      calls.push('image digests');
      return new Map(ids.map((id) => [id, images.get(id)?.repoDigests ?? []]));
    },
    async listImages() {
      calls.push('list images');
      return new Map(images);
    },
    async inspectImages(ids: readonly string[]) {
      calls.push(`inspect ${ids.length}`);
      return new Map(ids.flatMap((id) => (images.has(id) ? [[id, images.get(id)!] as const] : [])));
    },
    watchEvents(_query: unknown, given: EventHandlers) {
      handlers = given;
      queueMicrotask(() => given.onOpen());
      return { close: () => undefined };
    },
    emit(event: DockerEvent) {
      handlers!.onEvent(event);
    },
    end() {
      handlers!.onEnd(new Error('stream cut'));
    },
  };
  return engine;
}

function containerEvent(c: ComposeContainer, action: string, extra: Record<string, string> = {}): DockerEvent {
  return { Type: 'container', Action: action, Actor: { ID: c.id, Attributes: { ...c.labels, name: c.name, image: c.configuredImage, ...extra } } };
}

async function watchingCache(engine: ReturnType<typeof scriptedEngine>) {
  const cache = new DockerStateCache(engine);
  await cache.listComposeContainers({ projects: ['a'] });
  await sleep(0);
  assert.equal(cache.watching, true);
  return cache;
}

describe('kept Docker listings', () => {
  it('lists nothing again while only another project changes, however often', async () => {
    const churn = container('churn', 'app');
    const engine = scriptedEngine([container('a', 'web'), container('a', 'db'), container('b', 'web'), churn]);
    const cache = await watchingCache(engine);
    await cache.listComposeContainers({ projects: ['a', 'b'] });
    await cache.imageRepoDigests(engine.containers.map((c) => c.imageId));
    engine.calls.length = 0;
    for (let i = 0; i < 50; i++) {
      engine.emit(containerEvent(churn, i % 2 ? 'start' : 'die'));
      engine.emit({ Type: 'image', Action: 'pull', Actor: { ID: 'registry.test/churn/other:latest', Attributes: { name: 'registry.test/churn/other' } } });
      engine.emit({ Type: 'container', Action: 'start', Actor: { ID: 'plain', Attributes: { name: 'not-compose' } } });
    }
    const listed = await cache.listComposeContainers({ projects: ['a', 'b'] });
    assert.deepEqual(listed.map((c) => c.id), ['a-db', 'a-web', 'b-web']);
    await cache.imageRepoDigests(listed.map((c) => c.imageId));
    assert.deepEqual(await cache.statuses(['a', 'b']), ['healthy', 'healthy']);
    assert.deepEqual(engine.calls, []);
    cache.close();
  });

  it('lists only the project an event was about, once for readers that ask together', async () => {
    const web = container('a', 'web');
    const engine = scriptedEngine([web, container('a', 'db'), container('b', 'web')]);
    const cache = await watchingCache(engine);
    await cache.listComposeContainers({ projects: ['a', 'b'] });
    engine.calls.length = 0;
    engine.containers[0] = { ...web, state: 'exited' };
    engine.emit(containerEvent(web, 'die'));
    const [first, second] = await Promise.all([cache.listComposeContainers({ projects: ['a', 'b'] }), cache.listComposeContainers({ project: 'a', includeStopped: true })]);
    assert.deepEqual(engine.calls, ['list a']);
    assert.deepEqual(first.map((c) => c.id), ['a-db', 'b-web']);
    assert.equal(second.find((c) => c.id === 'a-web')?.state, 'exited');
    cache.close();
  });

  it('answers statuses from the events at once, then lists the project in the background', async () => {
    const web = container('a', 'web');
    const engine = scriptedEngine([web, container('a', 'db')]);
    const cache = await watchingCache(engine);
    assert.deepEqual(await cache.statuses(['a']), ['healthy']);
    engine.calls.length = 0;
    engine.listingDelayMs = 200;
    engine.containers[0] = { ...web, state: 'exited' };
    engine.emit(containerEvent(web, 'stop'));
    const started = Date.now();
    assert.deepEqual(await cache.statuses(['a']), ['degraded']);
    assert.ok(Date.now() - started < 100, 'the status read waited for the engine');
    assert.deepEqual(engine.calls, []);
    await sleep(STATUS_FRESHNESS.coalesceMs + 250);
    assert.deepEqual(engine.calls, ['list a']);
    engine.emit(containerEvent(web, 'start'));
    assert.deepEqual(await cache.statuses(['a']), ['healthy']);
    cache.close();
  });

  it('keeps a status event that arrives while a listing is in flight', async () => {
    const web = container('a', 'web');
    const engine = scriptedEngine([web]);
    const cache = await watchingCache(engine);
    engine.emit(containerEvent(web, 'die'));
    engine.listingDelayMs = 100;
    const listing = cache.listComposeContainers({ project: 'a', includeStopped: true });
    // The listing answered "running" before this event: the event must win for statuses.
    await sleep(10);
    engine.emit(containerEvent(web, 'die'));
    await listing;
    assert.deepEqual(await cache.statuses(['a']), ['degraded']);
    cache.close();
  });

  it('inspects only the images an event named', async () => {
    const engine = scriptedEngine([container('a', 'web'), container('a', 'db')]);
    const cache = await watchingCache(engine);
    const ids = engine.containers.map((c) => c.imageId);
    await cache.imageRepoDigests(ids);
    engine.calls.length = 0;
    engine.emit({ Type: 'image', Action: 'tag', Actor: { ID: ids[0]!, Attributes: { name: 'x:1' } } });
    await cache.imageRepoDigests(ids);
    assert.deepEqual(engine.calls, ['inspect 1']);
    engine.calls.length = 0;
    engine.emit({ Type: 'image', Action: 'push', Actor: { ID: 'registry.test/a/db:latest', Attributes: { name: 'registry.test/a/db' } } });
    await cache.imageRepoDigests(ids);
    assert.deepEqual(engine.calls, ['inspect 1']);
    // Another project's build, import and prune on a shared engine.
    engine.calls.length = 0;
    engine.emit({ Type: 'image', Action: 'import', Actor: { ID: 'sha256:other', Attributes: { name: 'other/base:1' } } });
    engine.emit({ Type: 'image', Action: 'delete', Actor: { ID: 'sha256:gone', Attributes: { name: 'sha256:gone' } } });
    engine.emit({ Type: 'image', Action: 'prune', Actor: { ID: '' } });
    await cache.imageRepoDigests(ids);
    assert.deepEqual(engine.calls, []);
    cache.close();
  });

  it('without the event stream reads the engine for checks, and answers statuses from the last listing while asking for a new one', async () => {
    const engine = scriptedEngine([container('a', 'web')]);
    const cache = await watchingCache(engine);
    assert.deepEqual(await cache.statuses(['a']), ['healthy']);
    engine.end();
    engine.calls.length = 0;
    await cache.listComposeContainers({ project: 'a' });
    await cache.listComposeContainers({ project: 'a' });
    assert.deepEqual(engine.calls, ['list a', 'list a']);
    // Statuses still answer from the last listing, without waiting, and ask for a new one.
    engine.calls.length = 0;
    const started = Date.now();
    assert.deepEqual(await cache.statuses(['a']), ['healthy']);
    assert.ok(Date.now() - started < 100);
    await sleep(STATUS_FRESHNESS.unwatchedRefreshMs + 100);
    assert.deepEqual(engine.calls, ['list a']);
    cache.close();
  });

  it('says unknown once the engine has not answered for the limit, without waiting for it', async () => {
    const engine = scriptedEngine([container('a', 'web')]);
    const cache = new DockerStateCache(engine, { freshness: { unwatchedLimitMs: 300, unwatchedRefreshMs: 50 } });
    await cache.listComposeContainers({ projects: ['a'] });
    await sleep(0);
    assert.deepEqual(await cache.statuses(['a']), ['healthy']);
    engine.end();
    engine.listComposeContainers = async () => {
      throw new Error('engine gone');
    };
    assert.deepEqual(await cache.statuses(['a']), ['healthy']);
    await sleep(350);
    const started = Date.now();
    assert.deepEqual(await cache.statuses(['a']), ['unknown']);
    assert.ok(Date.now() - started < 100);
    cache.close();
  });

  it('waits a bounded time for a project it never listed, then says unknown', async () => {
    const engine = scriptedEngine([container('a', 'web')]);
    const cache = new DockerStateCache(engine);
    engine.listingDelayMs = STATUS_FRESHNESS.firstReadWaitMs + 500;
    const started = Date.now();
    assert.deepEqual(await cache.statuses(['a']), ['unknown']);
    const waited = Date.now() - started;
    assert.ok(waited >= STATUS_FRESHNESS.firstReadWaitMs - 20 && waited < STATUS_FRESHNESS.firstReadWaitMs + 400, `waited ${waited} ms`);
    cache.close();
  });
});
