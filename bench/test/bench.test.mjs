// Unit tests of the bench's own logic: statistics, the markdown output, the page splitting and the
// "loads more code" detection on the pinned peer files. No timing is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { quantile, median, summary, ratio, fmtKB } from '../lib/stats.mjs';
import { table } from '../lib/report.mjs';
import { splitCairnTags, growthbookPayload, CHANGE } from '../lib/site.mjs';
import { PEERS, sizes } from '../lib/bytes.mjs';
import { NODE_MODULES } from '../lib/paths.mjs';
import { collectBodyJson, historyEvent } from '../lib/events.mjs';

test('quantiles interpolate between order statistics and ignore non-numbers', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(quantile([10, 20, 30, 40, 50], 0.25), 20);
  assert.equal(quantile([1, NaN, 3], 1), 3);
  assert.ok(Number.isNaN(median([])));
  const s = summary([5, 1, 4, 2, 3]);
  assert.deepEqual([s.min, s.p25, s.median, s.p75, s.max, s.n], [1, 2, 3, 4, 5, 5]);
});

test('ratios and sizes format, and refuse what cannot be computed', () => {
  assert.equal(ratio(30, 10), '3.0×');
  assert.equal(ratio(1, 0), '–');
  assert.equal(ratio(NaN, 2), '–');
  assert.equal(fmtKB(2048), '2.0 KB');
});

test('a markdown table escapes pipes so a value cannot add a column', () => {
  const t = table(['a', 'b'], [['x|y', 2]]).split('\n');
  assert.equal(t.length, 3);
  assert.equal(t[1], '| --- | --- |');
  assert.equal(t[2], '| x\\|y | 2 |');
});

test('sizes: gzip -9 decompresses back to the input, and compresses repetitive text', () => {
  const text = 'function f(){return 1}\n'.repeat(200);
  const s = sizes(text);
  assert.equal(s.raw, Buffer.byteLength(text));
  assert.ok(s.gzip < s.raw && s.brotli < s.raw);
  assert.equal(gzipSync(text, { level: 9 }).length, s.gzip);
  assert.equal(gunzipSync(gzipSync(text, { level: 9 })).toString(), text);
});

test('splitCairnTags takes out every Cairn tag and keeps the rest of the page', () => {
  const page = [
    '<head><link rel="stylesheet" href="/static/site.css">',
    '<script nonce="abc">window.cairn=window.cairn||[];</script>',
    '<script src="http://127.0.0.1:1/v1/sdk.js?site=bench" data-site="bench"></script>',
    '<script src="/static/shop.js" defer></script></head><body>Cairn demo</body>',
  ].join('\n');
  const { before, cairn, after } = splitCairnTags(page);
  assert.match(cairn, /window\.cairn=/);
  assert.match(cairn, /\/v1\/sdk\.js/);
  assert.doesNotMatch(before + after, /sdk\.js|window\.cairn/);
  assert.match(after, /shop\.js/);
  assert.match(before, /site\.css/);
  assert.throws(() => splitCairnTags('<head><script src="/static/shop.js"></script></head>'), /no Cairn script tag/);
});

test('the GrowthBook payload targets the same slot and URL as the Cairn variant', () => {
  const [exp] = growthbookPayload().experiments;
  assert.ok(new RegExp(exp.urlPatterns[0].pattern).test(`http://x/${CHANGE.query}`));
  assert.ok(!new RegExp(exp.urlPatterns[0].pattern).test('http://x/?utm_source=google'));
  assert.deepEqual(exp.weights, [0, 1]);
  assert.equal(exp.variations[1].domMutations[0].selector, CHANGE.selector);
  assert.equal(exp.variations[1].domMutations[0].value, CHANGE.text);
});

test('"loads more code" is read from the pinned files: PostHog, Segment and RudderStack do, Snowplow and GrowthBook do not', () => {
  const verdict = Object.fromEntries(PEERS.map((p) => [p.name, p.loads(readFileSync(join(NODE_MODULES, p.pkg, p.file), 'utf8'))]));
  assert.deepEqual(verdict, { PostHog: true, Segment: true, GrowthBook: false, Snowplow: false, RudderStack: true });
  // The detectors do not fire on an inert script.
  for (const p of PEERS) assert.equal(p.loads('var a=document.createElement("div");a.textContent="x";'), false, p.name);
});

test('synthetic collect bodies are valid JSON with unique event ids', () => {
  const body = JSON.parse(collectBodyJson('bench', 'dev-123456', 'run1', 40, 20));
  assert.equal(body.events.length, 20);
  assert.equal(new Set(body.events.map((e) => e.id)).size, 20);
  const next = JSON.parse(collectBodyJson('bench', 'dev-123456', 'run1', 60, 20));
  assert.equal(new Set([...body.events, ...next.events].map((e) => e.id)).size, 40);
  const kinds = new Set(Array.from({ length: 40 }, (_, n) => historyEvent(`id-${n}-xxxx`, 1, n, 'mobile').type));
  assert.deepEqual([...kinds].sort(), ['add_to_cart', 'page', 'touch']);
});

test('synthetic events and the bench config pass the real @cairn/schema validation', async (t) => {
  const schema = await import('../../packages/schema/dist/index.js').catch(() => null);
  if (!schema) return t.skip('@cairn/schema is not built');
  const { benchConfig } = await import('../lib/site.mjs');
  assert.equal(schema.collectBodySchema.safeParse(JSON.parse(collectBodyJson('bench', 'dev-123456', 'run1', 0, 20, 'mobile'))).success, true);
  const events = Array.from({ length: 40 }, (_, n) => historyEvent(`run1-${n}-abcd`, 1_700_000_000_000 + n, n, 'desktop'));
  const r = schema.collectBodySchema.safeParse({ site: 'bench', deviceId: 'dev-123456', events });
  assert.equal(r.success, true, JSON.stringify(r.error?.issues?.slice(0, 2)));
  const c = schema.validateSiteConfig(benchConfig(['http://127.0.0.1:1234']));
  assert.equal(c.ok, true, JSON.stringify(c.issues));
  // And the check can fail: an event id that is too short is refused.
  assert.equal(schema.collectBodySchema.safeParse({ site: 'bench', deviceId: 'dev-123456', events: [{ ...events[0], id: 'x' }] }).success, false);
});

test('the summary is computed from the sections it has, and skips the others', async () => {
  const { headlines } = await import('../lib/report.mjs');
  const text = headlines([
    { title: '1. Bytes', headline: { cairnGzip: 4096, peers: [{ name: 'A', gzip: 8192 }, { name: 'B', gzip: 40960 }] } },
    { title: '3. Time to personalized content', headline: { cairn: { shown: 500, painted: 0, n: 10 }, gb: { shown: 1500, painted: 3, n: 10 } } },
    { title: '4. Sync server', body: 'Not run', failed: true },
  ]);
  const lines = text.split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /4\.0 KB gzip -9.*2\.0× to 10\.0× larger/);
  assert.match(lines[1], /500 ms with Cairn \(default never painted\).*1500 ms .*painted in 3\/10 loads/);
  assert.equal(headlines([]), '');
});
