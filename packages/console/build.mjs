// Copies Chart.js's UMD build next to the console's static files (public/vendor/), where the sync
// server serves it from its own origin: the console's CSP allows scripts from 'self' only.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// chart.js resolves (its "require" entry) to dist/chart.cjs; the UMD file sits beside it.
const dist = dirname(createRequire(import.meta.url).resolve('chart.js'));
const vendor = join(here, 'public', 'vendor');
mkdirSync(vendor, { recursive: true });
copyFileSync(join(dist, 'chart.umd.min.js'), join(vendor, 'chart.umd.min.js'));
const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8'));
console.log(`@cairn/console: vendor/chart.umd.min.js (Chart.js ${version})`);
