// Debian's Chromium, launched alike by the e2e tests and the benchmarks: its path (CHROMIUM_PATH,
// else /usr/bin/chromium when it is there, else Playwright's own) and the flags that keep a
// headless run in a container quiet and offline.
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH =
  process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
