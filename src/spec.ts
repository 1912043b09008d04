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
