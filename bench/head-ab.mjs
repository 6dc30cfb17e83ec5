#!/usr/bin/env node
// Two builds of Cairn's head, pair by pair: how long each holds up the parser on a first visit, in
// Chromium at 4× CPU, for deciding whether a change to the head pays for its bytes.
//
//   node bench/head-ab.mjs <before/cairn.js> <after/cairn.js> [--loads=80] [--internal]
//
// Copy dist/cairn.js and its chunks (dist/cairn-*.js) aside, into a folder each, before and after the
// change (`node build.mjs` in packages/sdk). Each round
// loads both builds, each in a fresh context (a first visit), on the same page: a landing from
// Pinterest whose one variant applies, the bench site's config embedded as /v1/sdk.js embeds it.
// With --internal, each load is a second page, reached from the first (internal navigation).
// The time is from the inline script before the tag, or the end of sdk.js's download if later, to the
// inline script after it: the head's whole run before the parser goes on, and nothing else.
// Each head's core is served from beside it 100 ms late, as over a network: it arrives after the
// parser went on, and runs after first paint, as on a real connection.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { launch, THROTTLE } from './lib/browser.mjs';
import { benchConfig, CHANGE } from './lib/site.mjs';
import { fmt, median, wilcoxonSignedRank } from './lib/stats.mjs';

const argv = process.argv.slice(2);
const files = argv.filter((a) => !a.startsWith('--'));
const loads = Number(argv.find((a) => a.startsWith('--loads='))?.split('=')[1] ?? 80);
const internal = argv.includes('--internal');
if (files.length !== 2 || !(loads > 0)) {
  console.error('usage: node bench/head-ab.mjs <before/cairn.js> <after/cairn.js> [--loads=80] [--internal]');
  process.exit(2);
}

let origin = '';
const builds = files.map((file) => {
  const config = JSON.stringify(benchConfig([]));
  return readFileSync(file, 'utf8').replace('"__CAIRN_EMBEDDED_CONFIG__"', () => JSON.stringify(config));
});
const page = (build) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Head A/B</title>
<script>window.t0 = performance.now(); window.cairn = window.cairn || [];</script>
<script src="/${build}/sdk.js" data-site="bench" data-server="${origin}/none"></script>
<script>window.t1 = performance.now();</script>
</head><body><main><h1 data-cairn-slot="${CHANGE.slot}">Linen</h1>${'<p>The linen edit.</p>'.repeat(40)}</main></body></html>`;

const CORE_DELAY_MS = 100;
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const build = Number(url.searchParams.get('build'));
  if (url.pathname === '/' || url.pathname === '/next')
    return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(build));
  const [, dir, file] = /^\/([01])\/(sdk\.js|cairn-[a-z]+\.[0-9a-f]+\.js)$/.exec(url.pathname) ?? [];
  if (file === 'sdk.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(builds[dir]);
  if (file)
    return setTimeout(() => {
      try {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(dirname(files[dir]), file)));
      } catch {
        res.writeHead(404).end();
      }
    }, CORE_DELAY_MS);
  res.writeHead(404).end();
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
origin = `http://127.0.0.1:${server.address().port}`;

const browser = await launch();
/** One first visit with `build`: the head's time in ms, and whether the variant (or its holdout) decided. */
async function load(build) {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    const cdp = await context.newCDPSession(tab);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
    await tab.goto(`${origin}/?build=${build}${CHANGE.query.replace('?', '&')}`, { waitUntil: 'load' });
    if (internal) await tab.goto(`${origin}/next?build=${build}`, { waitUntil: 'load', referer: `${origin}/` });
    return await tab.evaluate(() => {
      const sdk = performance.getEntriesByType('resource').find((e) => e.name.includes('/sdk.js'));
      const w = /** @type {any} */ (window);
      return w.t1 - Math.max(w.t0, sdk?.responseEnd ?? 0);
    });
  } finally {
    await context.close();
  }
}

const times = [[], []];
for (let round = -2; round < loads; round++)
  for (const build of round % 2 ? [1, 0] : [0, 1]) {
    const ms = await load(build);
    if (round >= 0) times[build].push(ms);
  }
await browser.close();
server.close();

const [a, b] = times;
const faster = a.filter((x, i) => b[i] < x).length;
const { p } = wilcoxonSignedRank(a, b);
console.log(`${internal ? 'Internal navigation' : 'First visit, a landing'}, ${THROTTLE}× CPU, ${loads} rounds:`);
console.log(`  ${files[0]}: median ${fmt(median(a))} ms`);
console.log(`  ${files[1]}: median ${fmt(median(b))} ms`);
console.log(
  `  after ÷ before ${(median(b) / median(a)).toFixed(2)}; after faster in ${faster}/${loads} rounds; p = ${p < 0.001 ? '< 0.001' : p.toFixed(3)} (Wilcoxon signed-rank, two-sided)`,
);
