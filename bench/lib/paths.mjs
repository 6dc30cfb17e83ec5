// Where things are, from the bench package's point of view.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH_DIR, '..');
export const NODE_MODULES = join(BENCH_DIR, 'node_modules');
export const CAIRN_JS = join(ROOT, 'packages/sdk/dist/cairn.js');
export const SERVER_DIST = join(ROOT, 'packages/server/dist/index.js');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
