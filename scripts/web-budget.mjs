#!/usr/bin/env node
// Fails the build when the UI's initial JavaScript is over budget. "Initial" is what index.html
// makes the browser fetch before the first render: its module scripts and modulepreload links
// (Vite lists every statically imported chunk of the entry there). Sizes are gzip at the default
// level, as a reverse proxy compresses them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 200 * 1000;
const dir = process.argv[2] ?? 'dist/web';

const html = readFileSync(join(dir, 'index.html'), 'utf8');
const urls = new Set();
for (const tag of html.match(/<(script|link)\b[^>]*>/g) ?? []) {
  const isModule = /^<script/.test(tag) && /type="module"/.test(tag);
  const isPreload = /^<link/.test(tag) && /rel="modulepreload"/.test(tag);
  const url = /(?:src|href)="([^"]+)"/.exec(tag)?.[1];
  if ((isModule || isPreload) && url) urls.add(url);
}
if (urls.size === 0) {
  console.error(`web budget: no module script in ${join(dir, 'index.html')}`);
  process.exit(1);
}

let total = 0;
for (const url of urls) {
  const size = gzipSync(readFileSync(join(dir, url.replace(/^\//, '')))).length;
  total += size;
  console.log(`web budget: ${url} ${(size / 1000).toFixed(1)} kB gzipped`);
}
const verdict = total <= BUDGET_BYTES ? 'ok' : 'OVER BUDGET';
console.log(`web budget: initial JS ${(total / 1000).toFixed(1)} kB gzipped of ${BUDGET_BYTES / 1000} kB: ${verdict}`);
if (total > BUDGET_BYTES) process.exit(1);
