import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { join } from 'node:path';

/** Paths the UI never answers, so the API's 404 envelope, the supervisor misroute and /metrics stay theirs. */
const RESERVED = /^\/(api|supervisor|metrics)(\/|$)/;
/** A last segment with a dot names a file: a missing one is a 404, not the app's HTML. */
const FILE_LIKE = /\/[^/]*\.[^/]*$/;

const NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dockrev: web UI not built</title></head>' +
  '<body><h1>The Dockrev web UI is not built</h1><p>The API is running (<a href="/api/health">/api/health</a>), ' +
  'but <code>dist/web</code> is missing. Run <code>make build</code> and reload this page.</p></body></html>';

const notFound = (_req: Request, res: Response) => {
  res.status(404).type('text/plain').send('not found');
};

/**
 * Files of the build served at the root under a fixed name (from web/public/): the service worker
 * must keep its URL across deploys (its subscriptions hang on it) and be revalidated each time.
 */
const ROOT_FILES = ['/sw.js'];

/**
 * Serves the built UI (`vite build` output) at `/`: hashed files under /assets are immutable and
 * cached for a year; the root files are revalidated; every other GET outside /api and /supervisor
 * gets index.html, uncached, so a deploy is picked up on the next load. Without a build the API
 * still runs and `/` says so.
 */
export function serveWebUi(app: Express, dir: string): void {
  app.use('/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, redirect: false }), notFound);
  for (const file of ROOT_FILES) {
    app.get(file, (req: Request, res: Response, next: NextFunction) => {
      res.sendFile(join(dir, file), { headers: { 'Cache-Control': 'no-cache' }, cacheControl: false }, (error?: NodeJS.ErrnoException) => {
        if (!error || res.headersSent) return;
        if (error.code === 'ENOENT') notFound(req, res);
        else next(error);
      });
    });
  }

  const index = join(dir, 'index.html');
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || RESERVED.test(req.path)) {
      next();
      return;
    }
    if (FILE_LIKE.test(req.path)) {
      notFound(req, res);
      return;
    }
    res.sendFile(index, { headers: { 'Cache-Control': 'no-cache' }, cacheControl: false }, (error?: NodeJS.ErrnoException) => {
      if (!error) return;
      if (error.code === 'ENOENT' && !res.headersSent) {
        res.status(503).set('Cache-Control', 'no-store').type('text/html').send(NOT_BUILT);
      } else if (!res.headersSent) {
        next(error);
      }
    });
  });
}
