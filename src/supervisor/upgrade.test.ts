// Medium tests of the self-upgrade state machine: the real state file in a temporary folder, a
// fake Docker side (test/fixtures/fake-target.ts), no HTTP.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { FAKE_REPO, FakeTarget } from '../../test/fixtures/fake-target.js';
import { operationsOf } from './history.js';
import { StateFile, type UpgradeState } from './state.js';
import { SelfUpgrade, type StartRequest } from './upgrade.js';

const folders: string[] = [];
after(() => Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true }))));

async function statePath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dockrev-supervisor-'));
  folders.push(dir);
  return join(dir, 'supervisor', 'self-upgrade.json');
}

const silent = pino({ level: 'silent' });
/** How a rollback names the fake's first image: by its digest in the repository. */
const PREVIOUS_BY_DIGEST = `${FAKE_REPO}@sha256:${'a'.repeat(64)}`;

async function open(path: string, runtime: FakeTarget, logger = silent): Promise<SelfUpgrade> {
  return SelfUpgrade.open({ file: new StateFile(path), runtime, imageRepo: FAKE_REPO, healthTimeoutMs: 1000, logger });
}

const apply = (tag: string, rollbackOnFailure = true): StartRequest => ({ target: { tag }, mode: 'apply', rollbackOnFailure });

async function persisted(path: string): Promise<UpgradeState> {
  return JSON.parse(await readFile(path, 'utf8')) as UpgradeState;
}

const messages = (state: UpgradeState) => state.logs.map((line) => `${line.level} ${line.msg}`);

describe('self-upgrade state machine', () => {
  let path: string;
  let target: FakeTarget;
  beforeEach(async () => {
    path = await statePath();
    target = new FakeTarget();
  });

  it('upgrades through every step, remembers the previous image and ends succeeded', async () => {
    const upgrade = await open(path, target);
    const started = await upgrade.start(apply('2.0.0'));
    assert.ok(started.ok);
    assert.match(started.opId, /^sup_[0-9A-HJKMNP-TV-Z]{26}$/);
    await upgrade.settled();

    const state = upgrade.snapshot();
    assert.equal(state.state, 'succeeded');
    assert.deepEqual(state.progress, { step: 'done', message: 'ok' });
    assert.equal(state.request, undefined, 'the request is kept only while running');
    assert.deepEqual(state.previous, { tag: `${FAKE_REPO}:1.0.0`, digest: 'sha256:' + 'a'.repeat(64) });
    assert.deepEqual(target.calls, ['resolve', `pull ${FAKE_REPO}:2.0.0`, `recreate ${FAKE_REPO}:2.0.0`, 'waitHealthy']);
    assert.deepEqual(messages(state).at(0), 'INFO self-upgrade requested');
    assert.ok(messages(state).includes('INFO target answers version 2.0.0'));
    assert.deepEqual(messages(state).at(-1), 'INFO succeeded');
    assert.deepEqual(await persisted(path), state, 'the file holds what the process holds');
  });

  it('pulls a digest when one is given, with sha256: added', async () => {
    const upgrade = await open(path, target);
    await upgrade.start({ target: { tag: 'latest', digest: 'b'.repeat(64) }, mode: 'dry-run', rollbackOnFailure: false });
    await upgrade.settled();
    assert.ok(target.calls.includes(`pull ${FAKE_REPO}@sha256:${'b'.repeat(64)}`));
    assert.equal(upgrade.snapshot().target.digest, `sha256:${'b'.repeat(64)}`);
  });

  it('dry-run resolves and pulls only, then succeeds', async () => {
    const upgrade = await open(path, target);
    await upgrade.start({ target: { tag: '2.0.0' }, mode: 'dry-run', rollbackOnFailure: true });
    await upgrade.settled();
    const state = upgrade.snapshot();
    assert.equal(state.state, 'succeeded');
    assert.deepEqual(state.progress, { step: 'done', message: 'dry-run completed' });
    assert.equal(messages(state).at(-1), 'INFO dry-run done');
    assert.ok(!target.calls.some((call) => call.startsWith('recreate')), 'the container is not touched');
  });

  it('leaves the running container untouched when the pull fails, even with rollbackOnFailure', async () => {
    target.pullError = 'manifest unknown';
    const upgrade = await open(path, target);
    await upgrade.start(apply('9.9.9'));
    await upgrade.settled();
    const state = upgrade.snapshot();
    assert.equal(state.state, 'failed');
    assert.deepEqual(state.progress, { step: 'rollback', message: 'failed: manifest unknown' });
    assert.deepEqual(target.calls, ['resolve', `pull ${FAKE_REPO}:9.9.9`]);
    assert.equal(target.container?.imageRef, `${FAKE_REPO}:1.0.0`);
  });

  it('rolls back to the previous digest when the new image never gets healthy', async () => {
    target.unhealthy.add(`${FAKE_REPO}:broken`);
    const upgrade = await open(path, target);
    await upgrade.start(apply('broken'));
    await upgrade.settled();
    const state = upgrade.snapshot();
    assert.equal(state.state, 'rolled_back');
    assert.deepEqual(state.progress, { step: 'done', message: 'rolled back' });
    assert.equal(target.container?.imageRef, PREVIOUS_BY_DIGEST, 'the digest reference is preferred');
    assert.deepEqual(messages(state).slice(-2).map((line) => line.split(':')[0]), ['ERROR failed', 'WARN rolled back']);
    assert.equal(operationsOf(state)[0]!.state, 'rolled_back');
  });

  it('stays failed on the new image when rollbackOnFailure is false', async () => {
    target.unhealthy.add(`${FAKE_REPO}:broken`);
    const upgrade = await open(path, target);
    await upgrade.start(apply('broken', false));
    await upgrade.settled();
    assert.equal(upgrade.snapshot().state, 'failed');
    assert.equal(target.container?.imageRef, `${FAKE_REPO}:broken`);
  });

  it('answers an identical request while running with the same opId, and a different one with a conflict', async () => {
    let release!: () => void;
    target.healthGate = new Promise((resolve) => (release = resolve));
    const upgrade = await open(path, target);
    const first = await upgrade.start(apply('2.0.0'));
    assert.ok(first.ok);
    assert.deepEqual(await upgrade.start(apply(' 2.0.0 ')), { ok: true, opId: first.opId });
    assert.deepEqual(await upgrade.start(apply('2.0.0', false)), {
      ok: false, kind: 'conflict', message: 'a self-upgrade with different parameters is already running',
    });
    assert.deepEqual(await upgrade.rollback(first.opId), { ok: false, kind: 'conflict', message: 'self-upgrade is running' });
    assert.deepEqual(upgrade.snapshot().request, { mode: 'apply', rollbackOnFailure: true });
    release();
    await upgrade.settled();
    const next = await upgrade.start(apply('2.0.0'));
    assert.ok(next.ok && next.opId !== first.opId, 'a finished operation does not absorb a new request');
    await upgrade.settled();
  });

  it('refuses a blank or malformed tag, a malformed digest and an unknown mode', async () => {
    const upgrade = await open(path, target);
    const refused = (message: string) => ({ ok: false, kind: 'invalid_argument', message });
    assert.deepEqual(await upgrade.start(apply('  ')), refused('target.tag is required'));
    assert.match((await upgrade.start(apply('1.0; rm -rf /')) as { message: string }).message, /must be a Docker tag/);
    assert.deepEqual(
      await upgrade.start({ target: { tag: 'v1', digest: 'sha256:xyz' }, mode: 'apply', rollbackOnFailure: true }),
      refused('target.digest must be sha256:<64 hex digits>'),
    );
    assert.deepEqual(await upgrade.start({ ...apply('v1'), mode: 'sideways' as never }), refused('mode must be apply|dry-run'));
    assert.equal(upgrade.snapshot().state, 'idle');
    assert.deepEqual(target.calls, []);
  });

  it('rolls back by hand to the image that ran before the operation', async () => {
    const upgrade = await open(path, target);
    const started = await upgrade.start(apply('2.0.0'));
    assert.ok(started.ok);
    await upgrade.settled();
    assert.deepEqual(await upgrade.rollback('sup_someoneelse'), { ok: false, kind: 'invalid_argument', message: 'opId not found' });
    assert.deepEqual(await upgrade.rollback(started.opId), { ok: true });
    const running = upgrade.snapshot();
    assert.equal(running.state, 'running');
    assert.equal(running.request, undefined);
    await upgrade.settled();
    const state = upgrade.snapshot();
    assert.equal(state.state, 'rolled_back');
    assert.equal(target.container?.imageRef, PREVIOUS_BY_DIGEST);
    assert.ok(messages(state).includes('WARN manual rollback requested'));
  });

  it('has no rollback target before any operation, nor when the previous image is unknown', async () => {
    const upgrade = await open(path, target);
    assert.deepEqual(await upgrade.rollback(''), { ok: false, kind: 'invalid_argument', message: 'opId not found' });
    target.container = undefined;
    const started = await upgrade.start(apply('2.0.0'));
    assert.ok(started.ok);
    await upgrade.settled();
    assert.equal(upgrade.snapshot().state, 'failed');
    assert.deepEqual(await upgrade.rollback(started.opId), { ok: false, kind: 'conflict', message: 'no rollback target available' });
  });
});

describe('self-upgrade state file on start-up', () => {
  it('starts idle with a warning when the file is missing, and when it is corrupt keeps it aside', async () => {
    const path = await statePath();
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
    assert.equal((await open(path, new FakeTarget(), logger)).snapshot().state, 'idle');
    assert.match(warnings.at(-1)!, /no state file/);

    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '{"schemaVersion": 1, "state": "runn');
    const upgrade = await open(path, new FakeTarget(), logger);
    assert.equal(upgrade.snapshot().state, 'idle');
    assert.match(warnings.at(-1)!, /is corrupt \(not JSON.*kept as .*self-upgrade\.json\.corrupt-\d+/);
  });

  it('marks an operation interrupted while the target kept running and answering as failed, saying which image runs', async () => {
    const path = await statePath();
    const target = await interruptAtHealthWait(path, apply('2.0.0'));
    const upgrade = await open(path, target);
    await upgrade.settled();
    const state = upgrade.snapshot();
    assert.equal(state.state, 'failed');
    assert.equal(state.progress.step, 'postcheck');
    assert.equal(
      state.progress.message,
      'supervisor restarted; previous operation interrupted; target runs registry.test/dockrev:2.0.0 (the new image)',
    );
    assert.deepEqual(await persisted(path), state);
  });

  it('rolls an interrupted operation back when the new image does not answer and rollbackOnFailure was asked', async () => {
    const path = await statePath();
    const target = await interruptAtHealthWait(path, apply('broken'), (dying) => dying.unhealthy.add(`${FAKE_REPO}:broken`));
    const upgrade = await open(path, target);
    await upgrade.settled();
    const state = upgrade.snapshot();
    assert.equal(state.state, 'rolled_back');
    assert.equal(target.container?.imageRef, PREVIOUS_BY_DIGEST);
    assert.ok(messages(state).includes('WARN supervisor restarted; previous operation interrupted'));
  });

  it('brings the previous image back when the interrupted operation left no running container', async () => {
    const path = await statePath();
    const target = await interruptAtHealthWait(path, apply('2.0.0', false));
    target.container = { ...target.container!, running: false };
    const upgrade = await open(path, target);
    await upgrade.settled();
    assert.equal(upgrade.snapshot().state, 'rolled_back');
    assert.equal(target.container?.running, true);
    assert.equal(target.container?.imageRef, PREVIOUS_BY_DIGEST);
  });
});

/**
 * Runs `request` until the health wait and leaves that supervisor stuck there for good, as if it
 * had been killed; returns a Docker side in the state the dead one left, for the next supervisor.
 */
async function interruptAtHealthWait(path: string, request: StartRequest, prepare?: (dying: FakeTarget) => void): Promise<FakeTarget> {
  const dying = new FakeTarget();
  prepare?.(dying);
  dying.healthGate = new Promise(() => undefined);
  await (await open(path, dying)).start(request);
  await waitForStep(path, 'wait_healthy');
  const survivor = new FakeTarget();
  survivor.container = dying.container;
  survivor.unhealthy = dying.unhealthy;
  return survivor;
}

async function waitForStep(path: string, step: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const state = await persisted(path).catch(() => undefined);
    if (state?.progress.step === step) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`the state file never reached step ${step}`);
}
