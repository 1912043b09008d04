import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnvironment } from '../docker/compose.js';
import { recorder } from '../docker/testing/log-recorder.js';
import { composeFor, DEFAULT_COMMAND_TIMEOUTS_MS, DockerCli, type CliContext } from './commands.js';
import { PullProgressTracker } from './pull-progress.js';
import { retryDelayMs, retryStep, UpdateStepError } from './steps.js';

describe('retries of idempotent steps', () => {
  const policy = { maxAttempts: 3, baseMs: 300, maxMs: 3000 };

  it('waits base·2^(attempt−1) plus at most base/3, capped at max', () => {
    assert.equal(retryDelayMs(1, policy, () => 0), 300);
    assert.equal(retryDelayMs(2, policy, () => 0), 600);
    assert.equal(retryDelayMs(2, policy, () => 1), 700);
    assert.equal(retryDelayMs(5, policy, () => 1), 3000);
    assert.equal(retryDelayMs(4, { maxAttempts: 5, baseMs: 300, maxMs: 2500 }, () => 1), 2500);
  });

  it('returns the first success and logs the failed attempts', async () => {
    const { lines, log } = recorder();
    const delays: number[] = [];
    let calls = 0;
    const value = await retryStep(
      'pull',
      policy,
      async () => {
        calls += 1;
        if (calls < 3) throw new Error(`flaky ${calls}`);
        return 'ok';
      },
      { log, sleep: async (ms) => void delays.push(ms) },
    );
    assert.equal(value, 'ok');
    assert.equal(calls, 3);
    assert.equal(delays.length, 2);
    assert.ok(delays[0]! >= 300 && delays[0]! <= 400 && delays[1]! >= 600 && delays[1]! <= 700, String(delays));
    assert.match(lines[0]!.message, /^update step 'pull' attempt 1\/3 failed; retrying in \d+ ms: flaky 1$/);
  });

  it('gives up after maxAttempts with failureStep, retry and lastError', async () => {
    let calls = 0;
    const error = await retryStep('inspect', policy, async () => {
      calls += 1;
      throw new Error(`no engine ${calls}`);
    }, { sleep: async () => undefined }).catch((caught: unknown) => caught);
    assert.ok(error instanceof UpdateStepError);
    assert.equal(calls, 3);
    assert.equal(error.message, "update step 'inspect' failed after 3/3 attempts: no engine 3");
    assert.equal(error.failureStep, 'inspect');
    assert.equal(error.lastError, 'no engine 3');
    assert.deepEqual(error.retry, { attempts: 3, maxAttempts: 3, baseMs: 300, maxMs: 3000 });
  });
});

describe('Compose and docker steps against a fake CLI', () => {
  let dir: string;
  let fake: string;
  let calls: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dockrev-compose-test-'));
    await mkdir(join(dir, 'project'));
    fake = join(dir, 'fake-cli');
    calls = join(dir, 'calls.log');
    await writeFile(
      fake,
      [
        '#!/bin/sh',
        'echo "$PWD|$DOCKER_HOST|$DOCKER_CONFIG|$*" >> "$FAKE_CALLS"',
        'case "$*" in',
        '  *" pull missing"*) echo "Pulling missing ... error" >&2; exit 1 ;;',
        '  *" pull "*) printf "Pulling web ... downloading (50.0%%)\\rPulling web ... done\\n" >&2 ;;',
        '  *" up "*) echo "up failed" >&2; exit 2 ;;',
        '  "tag "*) exit 0 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    await chmod(fake, 0o755);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const context = (log: CliContext['log']): CliContext => ({
    log,
    env: { ...cliEnvironment({ dockerHost: 'unix:///run/test.sock', dockerConfigDir: '/staged/config' }), FAKE_CALLS: calls },
    retry: { maxAttempts: 3, baseMs: 1, maxMs: 5 },
    timeoutsMs: DEFAULT_COMMAND_TIMEOUTS_MS,
  });
  const stack = () => ({ name: 'shop', compose: { type: 'path', composeFiles: [join(dir, 'project', 'compose.yml')] } });
  const recordedCalls = async () => (await readFile(calls, 'utf8')).trim().split('\n');

  it('runs in the folder of the first compose file with DOCKER_HOST and DOCKER_CONFIG, and streams pull output', async () => {
    await rm(calls, { force: true });
    const runner = composeFor([fake, 'compose'], stack(), context(recorder().log));
    const tracker = new PullProgressTracker(['web']);
    const fractions: number[] = [];
    await runner.pull(['web'], { overrideFile: '/o.yml', onLine: (line) => tracker.feed(line) && fractions.push(tracker.snapshot().fraction) });
    assert.deepEqual(fractions, [0.25, 1]);
    assert.deepEqual(await recordedCalls(), [
      `${join(dir, 'project')}|unix:///run/test.sock|/staged/config|compose -p shop -f ${join(dir, 'project', 'compose.yml')} -f /o.yml pull web`,
    ]);
  });

  it('retries a failing pull and reports it as failureStep pull', async () => {
    await rm(calls, { force: true });
    const { lines, log } = recorder();
    const runner = composeFor([fake], stack(), context(log));
    const error = await runner.pull(['missing']).catch((caught: unknown) => caught);
    assert.ok(error instanceof UpdateStepError);
    assert.equal(error.failureStep, 'pull');
    assert.equal(error.retry?.attempts, 3);
    assert.equal(error.lastError, `${fake} pull missing exited with 1: Pulling missing ... error`);
    assert.equal((await recordedCalls()).length, 3);
    assert.equal(lines.filter((line) => line.message.startsWith('$ ')).length, 3);
    assert.ok(lines.some((line) => line.level === 'warn' && line.message === 'status=1 stdout= stderr=Pulling missing ... error'));
  });

  it('runs up once and tags its failure with the step', async () => {
    await rm(calls, { force: true });
    const runner = composeFor([fake], stack(), context(recorder().log));
    const error = await runner.up(['web'], { step: 'rollback' }).catch((caught: unknown) => caught);
    assert.ok(error instanceof UpdateStepError);
    assert.equal(error.failureStep, 'rollback');
    assert.equal(error.retry, undefined);
    assert.equal((await recordedCalls()).length, 1);
    assert.match((await recordedCalls())[0]!, /up -d --no-deps web$/);
  });

  it('tags images with the docker CLI', async () => {
    await rm(calls, { force: true });
    await new DockerCli(context(recorder().log), fake).tag('sha256:abc', 'registry/app:latest', 'sync_configured_tag');
    assert.match((await recordedCalls())[0]!, /\|tag sha256:abc registry\/app:latest$/);
  });
});
