// Unit tests of the bench's own logic: statistics, the markdown output, the page splitting and the
// "loads more code" detection on the pinned peer files. No timing is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { quantile, median, summary, ratio, fmtKB } from '../lib/stats.mjs';
import { headlines, table } from '../lib/report.mjs';
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
  const verdict = Object.fromEntries(
    PEERS.map((p) => [p.name, p.loads(readFileSync(join(NODE_MODULES, p.pkg, p.file), 'utf8'))]),
  );
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
  assert.equal(
    schema.collectBodySchema.safeParse(JSON.parse(collectBodyJson('bench', 'dev-123456', 'run1', 0, 20, 'mobile')))
      .success,
    true,
  );
  const events = Array.from({ length: 40 }, (_, n) =>
    historyEvent(`run1-${n}-abcd`, 1_700_000_000_000 + n, n, 'desktop'),
  );
  const r = schema.collectBodySchema.safeParse({ site: 'bench', deviceId: 'dev-123456', events });
  assert.equal(r.success, true, JSON.stringify(r.error?.issues?.slice(0, 2)));
  const c = schema.validateSiteConfig(benchConfig(['http://127.0.0.1:1234']));
  assert.equal(c.ok, true, JSON.stringify(c.issues));
  // And the check can fail: an event id that is too short is refused.
  assert.equal(
    schema.collectBodySchema.safeParse({ site: 'bench', deviceId: 'dev-123456', events: [{ ...events[0], id: 'x' }] })
      .success,
    false,
  );
});

test('the summary is computed from the sections it has, and skips the others', async () => {
  const { headlines } = await import('../lib/report.mjs');
  const text = headlines([
    {
      title: '1. Bytes',
      headline: {
        cairnGzip: 4096,
        peers: [
          { name: 'A', gzip: 8192 },
          { name: 'B', gzip: 40960 },
        ],
      },
    },
    {
      title: '3. Time to personalized content',
      headline: { cairn: { shown: 500, painted: 0, n: 10 }, gb: { shown: 1500, painted: 3, n: 10 } },
    },
    { title: '4. Sync server', body: 'Not run', failed: true },
  ]);
  const lines = text.split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /4\.0 KB gzip -9.*2\.0× to 10\.0× larger/);
  assert.match(lines[1], /500 ms with Cairn \(default never painted\).*1500 ms .*painted in 3\/10 loads/);
  assert.equal(headlines([]), '');
});

// A synthetic trace: the shapes Chromium writes (complete events in µs, a CPU profile in chunks), on a
// page whose main thread is pid 1, tid 1. Times are ms after the commit, written as µs below.
function syntheticTrace() {
  const page = 'http://127.0.0.1:4000/?utm_source=pinterest';
  const T = 1_000_000;
  const at = (ms) => T + ms * 1000;
  const x = (name, ms, dur, data, extra = {}) => ({
    name,
    ph: 'X',
    pid: 1,
    tid: 1,
    ts: at(ms),
    dur: dur * 1000,
    tdur: dur * 500,
    args: data ? { data } : {},
    ...extra,
  });
  const head = 'http://127.0.0.1:5000/v1/sdk.js?site=bench';
  const core = 'http://127.0.0.1:5000/v1/cairn-core.0123abcd.js';
  const gb = 'http://127.0.0.1:4000/gb/auto.min.js';
  const events = [
    {
      name: 'CommitLoad',
      ph: 'X',
      pid: 1,
      tid: 1,
      ts: T,
      dur: 10,
      args: { data: { frame: 'F', isMainFrame: true, isOutermostMainFrame: true, url: page } },
    },
    { name: 'firstPaint', ph: 'R', pid: 1, tid: 1, ts: at(100), args: { frame: 'F', data: {} } },
    // The inline snippet, then the head: a 60 ms task of which 40 ms is the head's evaluation.
    x('RunTask', 1, 2),
    x('EvaluateScript', 1, 1, { url: page, lineNumber: 12, columnNumber: 46 }),
    x('v8.compile', 1, 0.5, { url: page, lineNumber: 12, columnNumber: 46, scriptId: 3 }),
    x('RunTask', 10, 60),
    x('EvaluateScript', 10, 40, { url: head, lineNumber: 1, columnNumber: 1 }),
    x('v8.compile', 10, 2, { url: head, lineNumber: 1, columnNumber: 1, scriptId: 4, streamed: true }),
    x('v8.run', 12, 38),
    x('V8.CompileCode', 14, 5),
    x('V8.ParseFunction', 14, 2),
    x('v8.produceCache', 50, 1),
    // A callback of the head before paint, through a microtask checkpoint, and a shop script's.
    x('RunTask', 80, 5),
    x('RunMicrotasks', 80, 4),
    x('v8.callFunction', 80, 3),
    x('FunctionCall', 80, 3, { url: head, functionName: 'obs', lineNumber: 1, columnNumber: 472 }),
    x('RunTask', 90, 3),
    x('FunctionCall', 90, 3, {
      url: 'http://127.0.0.1:4000/static/shop.js',
      functionName: 'f',
      lineNumber: 1,
      columnNumber: 1,
    }),
    // After paint: the core's timer, 70 ms (a long task), then a promise checkpoint the samples give to the core.
    x('RunTask', 200, 75),
    x('TimerFire', 200, 70),
    x('FunctionCall', 200, 70, { url: core, functionName: 'start', lineNumber: 1, columnNumber: 10 }),
    x('v8.compile', 199, 0.5, { url: core, lineNumber: 1, columnNumber: 1, scriptId: 5 }),
    x('RunTask', 300, 12),
    x('RunMicrotasks', 300, 10),
    // A checkpoint with no sample in it: the browser's own.
    x('RunTask', 400, 8),
    x('RunMicrotasks', 400, 8),
    // GrowthBook's file would be attributed to its own key.
    x('RunTask', 500, 4),
    x('FunctionCall', 500, 4, { url: gb, functionName: 'g', lineNumber: 1, columnNumber: 1 }),
    // The CPU profile: samples every 1 ms in the head's evaluation (in `q`, and `getItem` called from it)
    // and in the checkpoint at 300 ms (the core's `then`).
    { name: 'Profile', ph: 'P', pid: 1, tid: 1, id: '0x1', ts: T, args: { data: { startTime: T } } },
  ];
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)', url: '', scriptId: 0 } },
    { id: 2, parent: 1, callFrame: { functionName: '', url: head, scriptId: 4, lineNumber: 0, columnNumber: 0 } },
    { id: 3, parent: 2, callFrame: { functionName: 'q', url: head, scriptId: 4, lineNumber: 0, columnNumber: 20 } },
    { id: 4, parent: 3, callFrame: { functionName: 'getItem', url: '', scriptId: 0 } },
    { id: 5, parent: 1, callFrame: { functionName: 'then', url: core, scriptId: 5, lineNumber: 0, columnNumber: 99 } },
  ];
  const samples = [];
  const deltas = [];
  let last = T;
  const sample = (ms, id) => {
    samples.push(id);
    deltas.push(at(ms) - last);
    last = at(ms);
  };
  for (let ms = 12; ms < 50; ms++) sample(ms, ms < 40 ? 3 : 4);
  for (let ms = 300; ms < 310; ms++) sample(ms, 5);
  sample(600, 1);
  events.push({
    name: 'ProfileChunk',
    ph: 'P',
    pid: 1,
    tid: 2,
    id: '0x1',
    ts: at(600),
    args: { data: { cpuProfile: { nodes, samples }, timeDeltas: deltas } },
  });
  return { events, page };
}

test('trace attribution: entries by URL, inline snippet by place, checkpoints by samples, split at first paint', async () => {
  const { attributeTrace } = await import('../lib/trace.mjs');
  const { scriptOwners } = await import('../lib/site.mjs');
  const { events, page } = syntheticTrace();
  const html = `${'\n'.repeat(11)}    <script nonce="+/g+ShRvMmhBKsa691armw==">window.cairn=window.cairn||[];</script>`;
  const owners = [
    ...scriptOwners('cairn', { url: 'http://127.0.0.1:4000', html }),
    ...scriptOwners('gb', { url: 'http://127.0.0.1:4000', html: '' }),
  ];
  const r = attributeTrace(events, { pageUrl: page, owners, profileOf: ['head'] });
  assert.equal(r.firstPaint, 100);
  const s = r.scripts;
  // The head: its evaluation (40) and code-cache write (1) and the observer callback (3), all before paint.
  assert.equal(s.head.wall, 44);
  assert.equal(s.head.wallBeforePaint, 44);
  assert.equal(s.head.cpu, 22);
  assert.equal(s.snippet.wall, 1);
  // The core: its compile (0.5), its timer callback (70) and the checkpoint its samples fill (10); none before paint.
  assert.equal(s.core.wall, 80.5);
  assert.equal(s.core.wallBeforePaint, 0);
  assert.equal(s.gb.wall, 4);
  assert.equal(s.other.wall, 3);
  // The sample-less checkpoint (8) and the rest of the observer's checkpoint around its callback (1).
  assert.equal(s.unattributed.wall, 9);
  // Long tasks: the head's 60 ms task and the core's 75 ms one, each with its owner's part.
  assert.deepEqual(
    r.longTasks.map((t) => [t.ms, t.owners]),
    [
      [60, { head: 41 }],
      [75, { core: 70 }],
    ],
  );
  const b = r.breakdown.head;
  assert.equal(b.lazyCompiles, 1);
  assert.equal(b.lazyCompileMs, 5);
  assert.equal(b.topLevelCompileMs, 2);
  assert.deepEqual(b.compile, { streamed: true, notStreamedReason: null });
  assert.equal(b.entries.evaluation, 40);
  assert.equal(b.entries['obs@0:471, microtask checkpoint (MutationObserver, queueMicrotask)'], 3);
  // Self times: v8.run less the lazy compile inside it; samples name `q` and the native it called.
  assert.equal(b.events['v8.run'], 33);
  assert.equal(b.events['V8.CompileCode'], 3);
  assert.equal(Math.round(b.functions['q@0:20']), 28);
  assert.equal(Math.round(b.functions['getItem in q@0:20']), 10);
});

test('a trace without the page commit is refused, not read as zero', async () => {
  const { attributeTrace } = await import('../lib/trace.mjs');
  assert.throws(() => attributeTrace([], { pageUrl: 'http://127.0.0.1:1/', owners: [] }), /no main-frame commit/);
});

test('inline script positions are 1-based line and column of the script text, as the trace gives them', async () => {
  const { inlineScriptPositions } = await import('../lib/site.mjs');
  const html =
    '<head>\n  <script>a()</script>\n<script src="/x.js"></script><script nonce="n">window.cairn=window.cairn||[];</script>';
  assert.deepEqual(inlineScriptPositions(html), [
    { line: 2, column: 11 },
    { line: 3, column: 48 },
  ]);
  assert.deepEqual(
    inlineScriptPositions(html, (t) => /window\.cairn/.test(t)),
    [{ line: 3, column: 48 }],
  );
});

test('responses are compressed as the request accepts: brotli first, gzip, else as they are', async () => {
  const { acceptedCodings, encodings } = await import('../lib/site.mjs');
  const { brotliDecompressSync } = await import('node:zlib');
  assert.deepEqual([...acceptedCodings('gzip, deflate, br, zstd')], ['gzip', 'deflate', 'br', 'zstd']);
  assert.deepEqual([...acceptedCodings('br;q=0, gzip;q=0.5')], ['gzip']);
  const text = 'function f(){return 1}\n'.repeat(100);
  const pick = encodings(text);
  const br = pick('gzip, deflate, br, zstd');
  assert.equal(br.coding, 'br');
  assert.equal(brotliDecompressSync(br.body).toString(), text);
  assert.equal(pick('gzip').coding, 'gzip');
  assert.equal(pick(undefined).coding, null);
  assert.equal(pick('br;q=0').body.length, Buffer.byteLength(text));
});

test('Wilcoxon signed-rank: a shift pair by pair shows through noise that pairs share', async () => {
  const { wilcoxonSignedRank } = await import('../lib/stats.mjs');
  // Each round's load swings both values alike; the second is always 3 lower.
  const load = [10, 80, 5, 60, 30, 90, 20, 70, 40, 50];
  const a = load.map((x) => 100 + x);
  const shifted = wilcoxonSignedRank(
    a,
    a.map((x) => x - 3),
  );
  assert.equal(shifted.w, 0);
  assert.ok(shifted.p < 0.01);
  assert.equal(wilcoxonSignedRank(a, a).p, 1);
  const mixed = wilcoxonSignedRank(
    a,
    a.map((x, i) => x + (i % 2 ? 3 : -3)),
  );
  assert.ok(mixed.p > 0.5);
  assert.ok(Number.isNaN(wilcoxonSignedRank([NaN], [1]).p));
});

test('the normal distribution function', async () => {
  const { normalCdf } = await import('../lib/stats.mjs');
  assert.ok(Math.abs(normalCdf(1.96) - 0.975) < 1e-4);
  assert.ok(Math.abs(normalCdf(-1) - 0.1587) < 1e-4);
  assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-6);
});

test('targets are ratios of medians with the target beside, and the compile hint counts only a tested gain', async () => {
  const { targets, fmtTarget, hintVerdict } = await import('../lib/main-thread.mjs');
  const t = targets({ renderBlocking: 20, total: 90, gb: 60, longFromCairn: 0 });
  assert.deepEqual(
    t.map((x) => [x.key, Number(x.value.toFixed(3)), x.target, x.met]),
    [
      ['renderBlocking', 0.333, 0.5, true],
      ['total', 1.5, 1, false],
      ['longTasks', 0, 0, true],
    ],
  );
  assert.deepEqual(fmtTarget(t[1]), { value: '1.50', target: '≤ 1.0', met: 'NOT met' });
  assert.deepEqual(fmtTarget(t[2]), { value: '0', target: '0', met: 'met' });
  assert.equal(targets({ renderBlocking: 1, total: 1, gb: 0, longFromCairn: 2 })[0].met, null);
  const plain = [50, 52, 49, 51, 53, 50, 48, 52, 51, 50];
  assert.equal(
    hintVerdict(
      plain,
      plain.map((x) => x - 10),
    ).verdict,
    'gain',
  );
  assert.equal(
    hintVerdict(
      plain,
      plain.map((x) => x + 10),
    ).verdict,
    'loss',
  );
  assert.equal(hintVerdict(plain, [...plain].reverse()).verdict, 'no measurable difference');
});

test('one load comes to Cairn render-blocking, total and long tasks, and long animation frames by script', async () => {
  const { loadFigures } = await import('../lib/main-thread.mjs');
  const f = loadFigures({
    trace: {
      firstPaint: 300,
      scripts: {
        head: { wall: 40, cpu: 30, wallBeforePaint: 35, cpuBeforePaint: 25 },
        snippet: { wall: 2, cpu: 1, wallBeforePaint: 2, cpuBeforePaint: 1 },
        core: { wall: 60, cpu: 50, wallBeforePaint: 0, cpuBeforePaint: 0 },
      },
      longTasks: [
        { ms: 80, owners: { head: 35, snippet: 2 } },
        { ms: 70, owners: { core: 60 } },
        { ms: 55, owners: { other: 10 } },
      ],
    },
    loaf: [
      { ms: 90, scripts: [{ url: 'http://x/v1/sdk.js?site=a', ms: 30 }] },
      { ms: 60, scripts: [{ url: 'http://x/static/shop.js', ms: 10 }] },
      { ms: 40, scripts: [{ url: 'http://x/v1/cairn-core.0123abcd.js', ms: 20 }] },
    ],
  });
  assert.equal(f.renderBlocking, 37);
  assert.equal(f.cairnTotal, 102);
  assert.equal(f.cairnTotalCpu, 81);
  assert.equal(f.longTasks, 3);
  assert.equal(f.longFromCairn, 2);
  assert.equal(f.longCairnAlone, 1);
  assert.equal(f.cairnMsInLong, 97);
  assert.equal(f.loafs, 2);
  assert.equal(f.loafFromCairn, 1);
  assert.equal(f.gb, 0);
  // A load whose trace could not be read is not measured: no zeros in the medians.
  const none = loadFigures({ trace: null, loaf: null });
  assert.ok(Number.isNaN(none.renderBlocking) && Number.isNaN(none.longFromCairn) && Number.isNaN(none.loafs));
});

test('bytes on the wire: Content-Length when sent, else the transfer less the headers; only picked responses', async () => {
  const { wireResources } = await import('../lib/wire.mjs');
  const pick = (u) => (u.includes('sdk.js') ? 'head' : u.includes('auto.min.js') ? 'gb' : null);
  const rs = wireResources(
    [
      { url: 'http://x/static/shop.js', at: 1, decoded: 10 },
      {
        url: 'http://x/gb/auto.min.js',
        at: 3,
        status: 200,
        headers: {},
        headerBytes: 200,
        transfer: 1200,
        decoded: 5000,
      },
      {
        url: 'http://x/v1/sdk.js?site=a',
        at: 2,
        status: 200,
        sentHeaders: { 'Accept-Encoding': 'gzip, br' },
        headers: { 'Content-Encoding': 'br', 'Content-Length': '6000' },
        headerBytes: 300,
        transfer: 6300,
        decoded: 14000,
      },
    ],
    pick,
  );
  assert.deepEqual(
    rs.map((r) => [r.key, r.path, r.coding, r.encoded, r.decoded, r.transfer, r.acceptEncoding]),
    [
      ['head', '/v1/sdk.js?site=a', 'br', 6000, 14000, 6300, 'gzip, br'],
      ['gb', '/gb/auto.min.js', 'identity', 1000, 5000, 1200, null],
    ],
  );
});

test('the core chunk is read from the name the head holds, and code is found by its profiler position', async () => {
  const { coreFileOf } = await import('../lib/bytes.mjs');
  const { excerpt } = await import('../lib/main-thread.mjs');
  assert.equal(coreFileOf('x.src=new URL("cairn-core.0123abcdef01.js",b)'), 'cairn-core.0123abcdef01.js');
  assert.equal(coreFileOf('no core here'), null);
  const src = 'const a=1,q=(e,o)=>{try{return new URL(e,o)}catch{}};';
  assert.match(excerpt(src, 'q@0:12'), /^q=\(e,o\)=>\{try\{return new URL/);
  assert.match(excerpt(src, 'getItem in q@0:12, timer'), /^q=/);
  assert.equal(excerpt(src, '(program)'), '');
});

test('the summary reads the new main-thread and bytes headlines', async () => {
  const { headlines } = await import('../lib/report.mjs');
  const text = headlines([
    {
      title: '1. Bytes',
      headline: {
        cairnGzip: 8192,
        headGzip: 4096,
        headBudget: 5000,
        coreGzip: 4096,
        peers: [{ name: 'A', gzip: 16384 }],
      },
    },
    {
      title: '2. Main-thread cost',
      headline: {
        renderBlocking: 30,
        total: 70,
        gb: 60,
        loads: 20,
        targets: [
          { key: 'renderBlocking', value: 0.5, target: 0.5, met: true },
          { key: 'total', value: 70 / 60, target: 1, met: false },
          { key: 'longTasks', value: 3, target: 0, met: false },
        ],
        targetsCpu: [
          { key: 'renderBlocking', value: 0.6, target: 0.5, met: false },
          { key: 'total', value: 0.9, target: 1, met: true },
        ],
        bytes: { head: 6000, core: 8000, total: 14000, gb: 16000, coding: 'br' },
        hint: { ratio: 1.02, p: 0.6, verdict: 'no measurable difference' },
      },
    },
  ]);
  const lines = text.split('\n');
  assert.equal(lines.length, 4);
  assert.match(
    lines[0],
    /head \(cairn\.js, render-blocking\) is 4,096 B gzip -9 \(budget 5,000 B\) and its core 4\.0 KB, 8\.0 KB together.*2\.0× to 2\.0× that/,
  );
  assert.match(lines[1], /Cairn 30 ms render-blocking and 70 ms in all, GrowthBook auto 60 ms/);
  assert.match(lines[1], /0\.50, target ≤ 0\.5: met.*1\.17, target ≤ 1\.0: NOT met.*3, target 0: NOT met \(20 loads\)/);
  assert.match(lines[1], /In CPU time: 0\.60 \(NOT met\) and 0\.90 \(met\)\./);
  assert.match(
    lines[2],
    /\(br\): Cairn's sdk\.js 6000 B and core 8000 B, 14000 B together; GrowthBook's auto\.min\.js 16000 B/,
  );
  assert.match(lines[3], /no measurable difference \(head time ×1\.02, p = 0\.60\)/);
});

test('the SDK build is copied whole, the head with the core it names, or not at all', async () => {
  const { snapshotSdk } = await import('../lib/site.mjs');
  const { mkdtempSync, writeFileSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const src = mkdtempSync(join(tmpdir(), 'bench-test-sdk-'));
  try {
    writeFileSync(join(src, 'cairn.js'), 'x.src=new URL("cairn-core.0123abcd.js",b)');
    writeFileSync(join(src, 'cairn-core.0123abcd.js'), 'core()');
    const snap = snapshotSdk(join(src, 'copy'), join(src, 'cairn.js'));
    assert.equal(snap.core, 'cairn-core.0123abcd.js');
    assert.equal(readFileSync(join(src, 'copy', 'cairn-core.0123abcd.js'), 'utf8'), 'core()');
    assert.match(snap.sha, /^[0-9a-f]{12}$/);
    writeFileSync(join(src, 'cairn.js'), 'x.src=new URL("cairn-core.feedbeef.js",b)');
    assert.throws(() => snapshotSdk(join(src, 'copy2'), join(src, 'cairn.js'), 2), /could not copy the built SDK/);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test('ingestion: each ratio is checked against its target, and one that cannot be computed is not met', async () => {
  const { verdicts } = await import('../lib/ingestion.mjs');
  const byKey = (rows) => Object.fromEntries(rows.map((r) => [r.key, r]));
  const v = byKey(verdicts({ collect: 900, ceilingNew: 1000, ceilingOld: 500, profile: 700 }));
  assert.deepEqual(
    Object.values(v).map((r) => [r.key, r.value, r.met]),
    [
      ['collectOverCeiling', 0.9, true],
      ['newOverOldCeiling', 2, true],
      ['profileOverCollect', 700 / 900, false],
    ],
  );
  const none = byKey(verdicts({ collect: 900, ceilingNew: 0, ceilingOld: NaN, profile: 700 }));
  assert.equal(none.collectOverCeiling.met, false);
  assert.equal(none.newOverOldCeiling.met, false);
  assert.ok(Number.isNaN(none.newOverOldCeiling.value));
  assert.match(
    headlines([{ title: '6. Ingestion', headline: { checks: Object.values(v) } }]),
    /collect ÷ ceiling \(today\) 0\.90 \(target ≥ 0\.85: met\).*profile ÷ collect \(req\/s\) 0\.78 \(target ≥ 0\.8: NOT met\)/,
  );
});

test("ingestion: the ceiling schema before migration 4 has the product and category indexes, today's does not", async () => {
  const { openCeilingDb, eventIndexes } = await import('../lib/ceiling.mjs');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'bench-test-ceiling-'));
  try {
    const names = (versions) => {
      return openCeilingDb(join(dir, `${versions}.db`), versions).then(({ db, close }) => {
        try {
          return eventIndexes(db);
        } finally {
          close();
        }
      });
    };
    const old = await names(3);
    const now = await names('all');
    assert.ok(old.includes('events_product') && old.includes('events_category'));
    assert.ok(!now.includes('events_product') && !now.includes('events_category'));
    assert.ok(now.includes('events_device_type_at'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
