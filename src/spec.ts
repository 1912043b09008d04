import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document } from 'openapi-backend';

/** The project root: the nearest folder above this module that holds package.json. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot locate the project root (package.json)');
    dir = parent;
  }
  return dir;
}

const cache = new Map<string, Document>();

/** The bundled contract produced by `make gen` (src/generated/<name>.openapi.json). */
export function loadSpec(name: 'dockrev' | 'supervisor'): Document {
  let document = cache.get(name);
  if (!document) {
    const file = join(projectRoot(), 'src', 'generated', `${name}.openapi.json`);
    document = JSON.parse(readFileSync(file, 'utf8')) as Document;
    cache.set(name, document);
  }
  // openapi-backend dereferences in place, so every backend gets its own copy.
  return structuredClone(document);
}

const published = new Map<string, unknown>();

/** The bundled document as served (`GET /api/openapi.json`): read once, never changed. */
export function publishedSpec(name: 'dockrev' | 'supervisor'): unknown {
  if (!published.has(name)) published.set(name, JSON.parse(readFileSync(join(projectRoot(), 'src', 'generated', `${name}.openapi.json`), 'utf8')));
  return published.get(name);
}

const DOCS_NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dockrev API</title></head><body>' +
  '<h1>Dockrev API</h1><p>The rendered reference is built by <code>make build</code>; the OpenAPI document is at ' +
  '<a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>';

let docs: string | undefined;

/** The API reference page built by `make build` (dist/docs/api.html), or a page that links the document. */
export function apiDocsHtml(): string {
  if (docs === undefined) {
    const file = join(projectRoot(), 'dist', 'docs', 'api.html');
    docs = existsSync(file) ? readFileSync(file, 'utf8') : DOCS_NOT_BUILT;
  }
  return docs;
}
