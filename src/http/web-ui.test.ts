import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import express from 'express';
import supertest from 'supertest';
import { serveWebUi } from './web-ui.js';

/** The UI in front of a stand-in for the contract pipeline, which answers everything it is given. */
function appServing(dir: string) {
  const app = express();
  serveWebUi(app, dir);
  app.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}`, details: {} } });
  });
  return supertest(app);
}

describe('the web UI static serving', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Dockrev</title><div id="root"></div>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("ui")');
  writeFileSync(join(dir, 'sw.js'), 'self.addEventListener("push", () => {})');
  const web = appServing(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves index.html at / and at client routes, uncached', async () => {
    for (const path of ['/', '/stacks/stk_01JNR1Y6QK3G7W9T8E2M4B5C6D', '/jobs?status=failed']) {
      const response = await web.get(path);
      assert.equal(response.status, 200, path);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.equal(response.headers['cache-control'], 'no-cache');
      assert.match(response.text, /<div id="root">/);
    }
  });

  it('serves hashed assets with a one-year immutable cache', async () => {
    const response = await web.get('/assets/index-abc123.js');
    assert.equal(response.status, 200);
    assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable');
  });

  it('serves the service worker at its fixed URL, revalidated on every load', async () => {
    const response = await web.get('/sw.js');
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type']), /javascript/);
    assert.equal(response.headers['cache-control'], 'no-cache');
    assert.match(response.text, /addEventListener\("push"/);
    assert.equal((await appServing(join(dir, 'no-such-build')).get('/sw.js')).status, 404, 'no build, no worker');
  });

  it('answers a missing asset or file with 404 instead of the app', async () => {
    for (const path of ['/assets/index-old.js', '/favicon.ico']) {
      const response = await web.get(path);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(response.text, /<div id="root">/);
    }
  });

  it('never shadows /api or /supervisor, whatever the method', async () => {
    for (const path of ['/api', '/api/no-such-route', '/api/stacks/x', '/supervisor', '/supervisor/', '/supervisor/health']) {
      const response = await web.get(path);
      assert.equal(response.status, 404, path);
      assert.equal(response.body.error.code, 'not_found', path);
    }
    assert.equal((await web.post('/').send({})).body.error.code, 'not_found');
  });

  it('explains a missing build instead of failing when dist/web does not exist', async () => {
    const response = await appServing(join(dir, 'no-such-build')).get('/');
    assert.equal(response.status, 503);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(response.text, /make build/);
    const api = await appServing(join(dir, 'no-such-build')).get('/api/health');
    assert.equal(api.body.error.code, 'not_found', 'the API still gets its requests');
  });
});
