import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stageDockerConfig } from './staged-config.js';

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
