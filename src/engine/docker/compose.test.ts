import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ComposeRunner, runCommand } from './compose.js';
import { recorder } from './testing/log-recorder.js';

describe('ComposeRunner argv', () => {
  const context = { log: recorder().log, env: {} };
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
