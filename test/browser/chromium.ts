// Debian's chromium driven by playwright-core (no browser download). scripts/test.sh installs
// the package when it is missing; outside `make test` a missing browser skips the browser suites.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags that work in this sandbox-less, offline environment. Playwright adds a fresh profile dir. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumOrSkip(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is missing (apt-get install --no-install-recommends chromium)`;
  if (process.env.DOCKREV_TEST_REQUIRE_INFRA === '1') throw new Error(why);
  return why;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
}
