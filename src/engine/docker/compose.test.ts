import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cliEnvironment,
  ComposeRunner,
  DEFAULT_COMMAND_TIMEOUTS_MS,
  DockerCli,
  PullProgressTracker,
  retryDelayMs,
  retryStep,
  runCommand,
  stageDockerConfig,
  UpdateStepError,
  type CliContext,
} from './compose.js';

type Line = { level: string; message: string };

function recorder() {
  const lines: Line[] = [];
  return {
    lines,
    log: {
      async log(level: 'info' | 'warn' | 'error', message: string) {
        lines.push({ level, message });
      },
    },
  };
}

const noRetry = { maxAttempts: 1, baseMs: 0, maxMs: 0 };

describe('ComposeRunner argv', () => {
  const context: CliContext = { log: recorder().log, env: {}, retry: noRetry, timeoutsMs: DEFAULT_COMMAND_TIMEOUTS_MS };
  const files = { project: 'shop', composeFiles: ['/srv/shop/compose.yml', '/srv/shop/compose.prod.yml'], envFile: '/srv/shop/.env' };

  it('puts project, files, override and env file before the command (Compose v1)', () => {
    const runner = new ComposeRunner(['docker-compose'], files, context);
    assert.deepEqual(runner.argv(['up', '-d', '--no-deps', 'web', 'api'], { overrideFile: '/var/o/job_1-stk_1.yml' }), [
      'docker-compose', '-p', 'shop', '-f', '/srv/shop/compose.yml', '-f', '/srv/shop/compose.prod.yml',
      '-f', '/var/o/job_1-stk_1.yml', '--env-file', '/srv/shop/.env', 'up', '-d', '--no-deps', 'web', 'api',
    ]);
  });

  it('uses the same flags after `docker compose` (Compose v2) and leaves out what is not set', () => {
    const runner = new ComposeRunner(['docker', 'compose'], { project: 'p', composeFiles: ['/a.yml'] }, context);
    assert.deepEqual(runner.argv(['ps', '-q', 'web']), ['docker', 'compose', '-p', 'p', '-f', '/a.yml', 'ps', '-q', 'web']);
  });

  it('refuses an empty command or a project without files', () => {
    assert.throws(() => new ComposeRunner([], files, context), /compose command is empty/);
    assert.throws(() => new ComposeRunner(['docker-compose'], { project: 'p', composeFiles: [] }, context), /no compose files/);
  });
});

describe('runCommand', () => {
  it('logs the command, then status and output, each truncated to 2000 characters', async () => {
    const { lines, log } = recorder();
    const script = "head -c 2500 /dev/zero | tr '\\0' y; echo oops >&2";
    const result = await runCommand('sh', ['-c', script], { log, env: process.env, timeoutMs: 10_000 });
    assert.equal(result.code, 0);
    assert.equal(lines[0]!.message, `$ sh -c ${JSON.stringify(script)}`);
    assert.deepEqual(lines[1], { level: 'info', message: `status=0 stdout=${'y'.repeat(2000)}...(truncated) stderr=oops` });
  });

  it('logs a failure as a warning with its exit code', async () => {
    const { lines, log } = recorder();
    const result = await runCommand('sh', ['-c', 'echo bad >&2; exit 3'], { log, env: process.env, timeoutMs: 10_000 });
    assert.equal(result.code, 3);
    assert.deepEqual(lines[1], { level: 'warn', message: 'status=3 stdout= stderr=bad' });
  });

  it('stops a command at its timeout', async () => {
    const { lines, log } = recorder();
    const started = Date.now();
    const result = await runCommand('sleep', ['5'], { log, env: process.env, timeoutMs: 200 });
    assert.ok(Date.now() - started < 3000);
    assert.equal(result.timedOut, true);
    assert.equal(result.code, null);
    assert.match(lines[1]!.message, /^status=timeout\(200ms\)/);
  });

  it('reports a program that does not exist instead of throwing', async () => {
    const { lines, log } = recorder();
    const result = await runCommand('/nonexistent/dockrev-compose', ['pull'], { log, env: process.env, timeoutMs: 1000 });
    assert.equal(result.code, null);
    assert.match(result.stderr, /ENOENT/);
    assert.equal(lines[1]!.level, 'warn');
  });

  it('hands over output line by line, also lines redrawn with carriage returns', async () => {
    const seen: string[] = [];
    await runCommand('sh', ['-c', 'printf "a\\rb\\nc"; printf "d\\n" >&2'], {
      log: recorder().log,
      env: process.env,
      timeoutMs: 10_000,
      onLine: (line) => seen.push(line),
    });
    assert.deepEqual(seen.sort(), ['a', 'b', 'c', 'd']);
  });
});

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

describe('ComposeRunner and DockerCli against a fake CLI', () => {
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
  const projectFiles = () => ({ project: 'shop', composeFiles: [join(dir, 'project', 'compose.yml')] });
  const recordedCalls = async () => (await readFile(calls, 'utf8')).trim().split('\n');

  it('runs in the folder of the first compose file with DOCKER_HOST and DOCKER_CONFIG, and streams pull output', async () => {
    await rm(calls, { force: true });
    const runner = new ComposeRunner([fake, 'compose'], projectFiles(), context(recorder().log));
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
    const runner = new ComposeRunner([fake], projectFiles(), context(log));
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
    const runner = new ComposeRunner([fake], projectFiles(), context(recorder().log));
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

describe('stageDockerConfig', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dockrev-stage-test-'));
    await mkdir(join(dir, 'conf', 'cli-plugins'), { recursive: true });
    await writeFile(join(dir, 'conf', 'config.json'), '{"auths":{}}');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('copies config.json of a folder into a private folder and links its CLI plugins', async () => {
    const staged = await stageDockerConfig(join(dir, 'conf'), join(dir, 'scratch', 'job_1.docker-config'));
    assert.equal(staged.dir, join(dir, 'scratch', 'job_1.docker-config'));
    assert.equal(staged.warning, undefined);
    assert.equal((await stat(staged.dir)).mode & 0o777, 0o700);
    assert.equal(await readFile(join(staged.dir, 'config.json'), 'utf8'), '{"auths":{}}');
    assert.equal(await readlink(join(staged.dir, 'cli-plugins')), join(dir, 'conf', 'cli-plugins'));
    await staged.dispose();
    await assert.rejects(lstat(staged.dir), { code: 'ENOENT' });
  });

  it('accepts the config.json file itself and replaces what a crashed run left', async () => {
    const target = join(dir, 'scratch', 'recovery.docker-config');
    await mkdir(target, { recursive: true });
    await writeFile(join(target, 'stale'), 'x');
    const staged = await stageDockerConfig(join(dir, 'conf', 'config.json'), target);
    assert.deepEqual((await readdir(staged.dir)).sort(), ['cli-plugins', 'config.json']);
    assert.equal(await readFile(join(staged.dir, 'config.json'), 'utf8'), '{"auths":{}}');
    await staged.dispose();
  });

  it('warns and stages an empty folder when the file is missing', async () => {
    const staged = await stageDockerConfig(join(dir, 'missing.json'), join(dir, 'scratch', 'job_2.docker-config'));
    assert.match(staged.warning ?? '', /missing\.json unreadable/);
    await assert.rejects(lstat(join(staged.dir, 'config.json')), { code: 'ENOENT' });
    await staged.dispose();
  });
});

describe('PullProgressTracker', () => {
  it('reads download and extraction percentages and finished services in Compose v1 output', () => {
    const tracker = new PullProgressTracker(['web', 'api']);
    assert.equal(tracker.feed('Pulling web ... '), false);
    assert.equal(tracker.feed('Pulling web ... pulling from acme/web'), false);
    assert.equal(tracker.feed('Pulling web ... downloading (40.0%)'), true);
    assert.equal(tracker.snapshot().fraction, 0.1);
    assert.equal(tracker.feed('Pulling web ... extracting (100.0%)'), true);
    assert.equal(tracker.snapshot().fraction, 0.5);
    assert.equal(tracker.feed('Pulling web ... done'), false, 'extraction at 100 % already finished web');
    assert.equal(tracker.feed('Pulling api ... done'), true);
    assert.deepEqual(tracker.snapshot(), {
      servicesDone: 2,
      servicesTotal: 2,
      fraction: 1,
      download: { completedLayers: 0, totalLayers: 0, activeLayers: 0, status: 'Pulling api ... done' },
    });
  });

  it('follows layers and services in Compose v2 output', () => {
    const tracker = new PullProgressTracker(['web']);
    assert.equal(tracker.feed(' web Pulling '), false);
    tracker.feed(' 0123456789ab Pulling fs layer ');
    tracker.feed(' ba9876543210 Downloading [=>   ]  1MB/4MB');
    tracker.feed(' 0123456789ab Pull complete ');
    const midway = tracker.snapshot();
    assert.equal(midway.download.completedLayers, 1);
    assert.equal(midway.download.totalLayers, 2);
    assert.equal(midway.download.activeLayers, 1);
    assert.ok(midway.fraction > 0.4 && midway.fraction < 0.5);
    assert.equal(tracker.feed(' web Pulled '), true);
    assert.equal(tracker.snapshot().fraction, 1);
  });
});
