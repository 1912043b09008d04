// The bundle budget check that `make build` runs after `vite build`: it must pass a small build
// and fail one whose initial JavaScript is over 200 kB gzipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projectRoot } from '../src/spec.js';

const script = join(projectRoot(), 'scripts', 'web-budget.mjs');

function buildWith(dir: string, entry: Buffer, preload?: Buffer): string {
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'assets', 'entry.js'), entry);
  let links = '';
  if (preload) {
    writeFileSync(join(dir, 'assets', 'vendor.js'), preload);
    links = '<link rel="modulepreload" crossorigin href="/assets/vendor.js">';
  }
  writeFileSync(join(dir, 'index.html'), `<!doctype html><script type="module" crossorigin src="/assets/entry.js"></script>${links}`);
  return dir;
}

const budget = (dir: string) => spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });

describe('the web bundle budget', () => {
  const root = mkdtempSync(join(tmpdir(), 'dockrev-budget-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('passes a build whose initial JavaScript is small', () => {
    const result = budget(buildWith(join(root, 'small'), Buffer.from('console.log(1);'.repeat(1000))));
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /initial JS [\d.]+ kB gzipped of 200 kB: ok/);
  });

  it('fails a build over 200 kB gzipped, counting modulepreloaded chunks too', () => {
    // Random bytes do not compress: 120 kB + 120 kB stays over budget only when both count.
    const result = budget(buildWith(join(root, 'big'), randomBytes(120_000), randomBytes(120_000)));
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stdout, /OVER BUDGET/);
  });
});
