// The house rules of DESIGN.md §3 that a compiler cannot check, checked on the source files.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from './spec.js';

const SRC = join(projectRoot(), 'src');

/** The TypeScript sources (not tests) under a folder of src/. */
function sources(room: string): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) files.push({ path: relative(SRC, path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(join(SRC, room));
  assert.ok(files.length > 0, `no sources under src/${room}`);
  return files;
}

const importsOf = (text: string) => [...text.matchAll(/^import[^;]*?from '([^']+)';/gms)].map((match) => match[1]!);

describe('layering', () => {
  it('handlers never catch errors: domain failures become HTTP answers in src/http, once', () => {
    for (const { path, text } of sources('handlers')) {
      assert.doesNotMatch(text, /\bcatch\b/, `${path} catches an error`);
      assert.doesNotMatch(text, /instanceof \w*Error\b/, `${path} tells error classes apart`);
    }
  });

  it('src/http imports no handler', () => {
    for (const { path, text } of sources('http')) {
      for (const target of importsOf(text)) assert.doesNotMatch(target, /handlers\//, `${path} imports ${target}`);
    }
  });

  it('the engine imports nothing of the HTTP layer and names no HTTP status of the API', () => {
    for (const { path, text } of sources('engine')) {
      for (const target of importsOf(text)) assert.doesNotMatch(target, /\/(http|handlers)\//, `${path} imports ${target}`);
      // The Docker, registry and GitHub clients and the notification channels compare the statuses
      // of the protocols they speak (a Telegram 400, a push service's 410); nothing else may.
      if (/^engine\/(docker\/engine|docker\/errors|registry\/client|registry\/errors|registry\/http|registry\/hosts\/|registry\/testing\/|notify\/channels\/|github\/client)/.test(path)) continue;
      assert.doesNotMatch(text, /\b(status|statusCode)\b\s*[:=]+\s*[1-5]\d\d\b/, `${path} names an HTTP status`);
      assert.doesNotMatch(text, /\b(400|401|403|404|409|422|500|501|502)\b/, `${path} names an HTTP status`);
    }
  });

  it('no engine source file is longer than 400 lines', () => {
    for (const { path, text } of sources('engine')) {
      const lines = text.split('\n').length;
      assert.ok(lines <= 400, `${path} has ${lines} lines`);
    }
  });

  it('only src/store talks SQL through knex', () => {
    for (const room of ['engine', 'handlers', 'http']) {
      for (const { path, text } of sources(room)) {
        for (const target of importsOf(text)) assert.notEqual(target, 'knex', `${path} imports knex`);
        assert.doesNotMatch(text, /\.knex\b/, `${path} reaches into the store's knex`);
      }
    }
  });
});
