// Section 2: main-thread cost in Chromium with 4× CPU throttling. Each load is a first visit to the
// demo home page from a Pinterest link, so that Cairn and GrowthBook both apply their change.
// Metrics cover the navigation, the load event and a fixed settle window after it, the same for every
// page, long enough for GrowthBook's features fetch and Cairn's start-up writes to settle.
//
// Every load is traced (lib/trace.mjs): main-thread time by script, split at first paint; long tasks
// and the scripts in them. Beside it, CDP's ScriptDuration with and without a script on the page, and
// the Long Animation Frames API's script attribution as a second opinion on long tasks. Two more page
// kinds serve sdk.js from the page's own origin, one with V8's compile hint prepended: the hint's
// effect, with nothing else different. One more load per page, with the Network domain on, records
// the bytes on the wire.
import { CHANGE, COMPILE_HINT, scriptOwners } from './site.mjs';
import { THROTTLE, interleaved } from './browser.mjs';
import { probedLoad } from './probes.mjs';
import { LONG_TASK_MS } from './trace.mjs';
import { wireLoad } from './wire.mjs';
import { table } from './report.mjs';
import { fmt, fmtSpread, median, summary, ratio, wilcoxonSignedRank } from './stats.mjs';

const SETTLE_MS = 1500;

/** Cairn's budgets on the wire, encoded bytes: its render-blocking script, and all of its scripts. */
const WIRE_BUDGET = { blocking: 6000, total: 13_000 };

/** The targets: Cairn's render-blocking time and total against GrowthBook's whole, and its long tasks. */
export const TARGETS = { renderBlocking: 0.5, total: 1.0, longTasks: 0 };

const KINDS = ['none', 'cairn', 'gb', 'cairn-plain', 'cairn-hint'];
const LABELS = { none: '(a) no script', cairn: '(b) Cairn', gb: '(c) GrowthBook auto, render-blocking, anti-flicker' };
const CAIRN_KEYS = ['head', 'core', 'snippet'];

/** What one traced load comes to: Cairn's and GrowthBook's time, its long tasks and long animation frames. */
export function loadFigures(run) {
  const s = run.trace?.scripts ?? {};
  // A load without a trace counts as not measured, not as zero.
  const ok = Boolean(run.trace);
  const wall = (k, f = 'wall') => (ok ? (s[k]?.[f] ?? 0) : NaN);
  const count = (xs) => (ok ? xs.length : NaN);
  const sum = (keys, f) => keys.reduce((a, k) => a + wall(k, f), 0);
  const cairnLong = (t) => CAIRN_KEYS.some((k) => (t.owners[k] ?? 0) > 0);
  const cairnIn = (t) => CAIRN_KEYS.reduce((a, k) => a + (t.owners[k] ?? 0), 0);
  const longs = run.trace?.longTasks ?? [];
  const ownUrl = (url) => /\/v1\/sdk\.js|\/cairn-core\.[0-9a-f]+\.js/.test(url ?? '');
  const loafs = (run.loaf ?? []).filter((f) => f.ms > LONG_TASK_MS);
  return {
    traced: Boolean(run.trace),
    // Before first paint, the head's time is what blocks rendering; the inline queue snippet is Cairn's too.
    renderBlocking: sum(['head', 'snippet'], 'wallBeforePaint'),
    renderBlockingCpu: sum(['head', 'snippet'], 'cpuBeforePaint'),
    headBeforePaint: wall('head', 'wallBeforePaint'),
    headBeforePaintCpu: wall('head', 'cpuBeforePaint'),
    snippet: wall('snippet'),
    snippetCpu: wall('snippet', 'cpu'),
    head: wall('head'),
    headCpu: wall('head', 'cpu'),
    core: wall('core'),
    coreCpu: wall('core', 'cpu'),
    coreBeforePaint: wall('core', 'wallBeforePaint'),
    coreBeforePaintCpu: wall('core', 'cpuBeforePaint'),
    cairnTotal: sum(CAIRN_KEYS, 'wall'),
    cairnTotalCpu: sum(CAIRN_KEYS, 'cpu'),
    gb: wall('gb'),
    gbCpu: wall('gb', 'cpu'),
    gbBeforePaint: wall('gb', 'wallBeforePaint'),
    gbBeforePaintCpu: wall('gb', 'cpuBeforePaint'),
    other: wall('other'),
    unattributed: wall('unattributed'),
    firstPaint: run.trace?.firstPaint ?? NaN,
    longTasks: count(longs),
    longFromCairn: count(longs.filter(cairnLong)),
    cairnMsInLong: ok ? longs.filter(cairnLong).reduce((a, t) => a + cairnIn(t), 0) : NaN,
    longCairnAlone: count(longs.filter((t) => cairnIn(t) > LONG_TASK_MS)),
    longFromGb: count(longs.filter((t) => (t.owners.gb ?? 0) > 0)),
    loafs: run.loaf ? loafs.length : NaN,
    loafFromCairn: run.loaf ? loafs.filter((f) => f.scripts.some((x) => ownUrl(x.url))).length : NaN,
    loafFromGb: run.loaf
      ? loafs.filter((f) => f.scripts.some((x) => /\/gb\/auto\.min\.js/.test(x.url ?? ''))).length
      : NaN,
    breakdown: run.trace?.breakdown?.head ?? null,
  };
}

/**
 * The targets from medians over loads: Cairn's render-blocking time and total over GrowthBook's whole
 * script time, and the long tasks with Cairn's script in them, over all loads.
 * @param {{ renderBlocking: number, total: number, gb: number, longFromCairn: number }} m
 */
export function targets(m) {
  const q = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
  const rows = [
    {
      key: 'renderBlocking',
      label: "Cairn's render-blocking time ÷ GrowthBook's whole script time",
      value: q(m.renderBlocking, m.gb),
      target: TARGETS.renderBlocking,
      kind: 'ratio',
    },
    {
      key: 'total',
      label: "Cairn's total script time ÷ GrowthBook's whole script time",
      value: q(m.total, m.gb),
      target: TARGETS.total,
      kind: 'ratio',
    },
    {
      key: 'longTasks',
      label: "Long tasks (over 50 ms) with Cairn's script in them, all loads",
      value: m.longFromCairn,
      target: TARGETS.longTasks,
      kind: 'count',
    },
  ];
  return rows.map((r) => ({ ...r, met: Number.isFinite(r.value) ? r.value <= r.target : null }));
}

/** "0.42 (≤ 0.5: met)" and friends. */
export function fmtTarget(t) {
  const v = t.kind === 'ratio' ? fmt(t.value, 2) : fmt(t.value, 0);
  const goal = t.kind === 'ratio' ? `≤ ${t.target.toFixed(1)}` : `${t.target}`;
  return { value: v, target: goal, met: t.met === null ? '–' : t.met ? 'met' : 'NOT met' };
}

/**
 * The compile hint's verdict from head times without and with it, load by load in the same rounds (the
 * Wilcoxon signed-rank test on the pairs): a gain only if the test says so.
 */
export function hintVerdict(plain, hinted, alpha = 0.05) {
  const r = median(hinted) / median(plain);
  const { p } = wilcoxonSignedRank(plain, hinted);
  if (!Number.isFinite(r) || !Number.isFinite(p)) return { ratio: r, p, verdict: 'not measured' };
  if (p < alpha) return { ratio: r, p, verdict: r < 1 ? 'gain' : 'loss' };
  return { ratio: r, p, verdict: 'no measurable difference' };
}

/** Per-load mean of per-load maps (missing keys count as 0), largest first. */
function meanOfMaps(maps) {
  const out = {};
  for (const m of maps) for (const [k, v] of Object.entries(m ?? {})) out[k] = (out[k] ?? 0) + v / maps.length;
  return Object.entries(out).sort((a, b) => b[1] - a[1]);
}

/** A short piece of sdk.js at a profiler position ("name@line:column"), to find a minified function by. */
export function excerpt(text, label) {
  const m = /@(\d+):(\d+)/.exec(label.split(' in ').pop());
  if (!m || !text) return '';
  const line = text.split('\n')[Number(m[1])] ?? '';
  const col = Number(m[2]);
  // The name it is bound to, when it is `name=` or `function name` just before.
  const lead = /(?:([\w$]+)=|function ([\w$]+))\s*$/.exec(line.slice(Math.max(0, col - 40), col));
  return `${lead ? `${lead[1] ?? lead[2]}=` : ''}${line.slice(col, col + 70)}…`;
}

/** @param {import('@playwright/test').Browser} browser @param {Awaited<ReturnType<import('./site.mjs').startSites>>} env */
export async function mainThreadSection(browser, env, { loads = 20 } = {}) {
  const headAtStart = await env.headText();
  const owners = Object.fromEntries(KINDS.map((k) => [k, scriptOwners(k, env.sites[k])]));
  const url = (kind) => env.sites[kind].url + '/' + CHANGE.query;
  const raw = await interleaved(KINDS, loads, (kind) =>
    probedLoad(browser, url(kind), {
      watchSlot: false,
      afterLoadMs: SETTLE_MS,
      loaf: true,
      trace: { owners: owners[kind], profileOf: owners[kind].some((o) => o.key === 'head') ? ['head'] : [] },
    }),
  );
  const wireKey = (u) => {
    const p = new URL(u).pathname;
    if (p === '/v1/sdk.js') return 'head';
    if (/^\/v1\/cairn-core\.[0-9a-f]+\.js$/.test(p)) return 'core';
    if (p === '/gb/auto.min.js') return 'gb';
    if (p.startsWith('/api/features/')) return 'gb-features';
    return null;
  };
  const wire = {
    cairn: await wireLoad(browser, url('cairn'), wireKey),
    gb: await wireLoad(browser, url('gb'), wireKey),
  };
  const headAtEnd = await env.headText();

  const figures = Object.fromEntries(KINDS.map((k) => [k, raw[k].map(loadFigures)]));
  const f = (k, key) => figures[k].map((x) => x[key]);
  const S = (k, key) => summary(f(k, key));

  // (1) CDP ScriptDuration and friends, with and without a script: the section's first table.
  const base = ['none', 'cairn', 'gb'];
  const s = Object.fromEntries(
    base.map((k) => {
      const r = raw[k];
      return [
        k,
        {
          script: summary(r.map((x) => x.script)),
          task: summary(r.map((x) => x.task)),
          longCount: summary(r.map((x) => x.longCount)),
          longTotal: summary(r.map((x) => x.longTotal)),
          applied: r.filter((x) => x.applied).length,
          errors: [
            ...new Set([
              ...r.flatMap((x) => x.errors),
              ...r.flatMap((x) => x.failed.map((y) => `request failed: ${y}`)),
            ]),
          ],
          n: r.length,
        },
      ];
    }),
  );
  const added = (k, key) => s[k][key].median - s.none[key].median;
  const cdpRows = base.map((k) => [
    LABELS[k],
    s[k].n,
    fmtSpread(s[k].script),
    k === 'none' ? '–' : fmt(added(k, 'script')),
    fmtSpread(s[k].task),
    k === 'none' ? '–' : fmt(added(k, 'task')),
    `${fmt(s[k].longCount.median, 0)} (${fmt(s[k].longCount.min, 0)}–${fmt(s[k].longCount.max, 0)})`,
    fmtSpread(s[k].longTotal, 0),
    k === 'none' ? '–' : `${s[k].applied}/${s[k].n}`,
    s[k].errors.length ? s[k].errors.join('; ').slice(0, 200) : 'none',
  ]);
  const addedRatio = (key) =>
    added('cairn', key) > 0 && added('gb', key) > 0 ? ratio(added('gb', key), added('cairn', key)) : '–';

  // (2) By script, from the traces.
  const m = {
    renderBlocking: S('cairn', 'renderBlocking'),
    renderBlockingCpu: S('cairn', 'renderBlockingCpu'),
    headBeforePaint: S('cairn', 'headBeforePaint'),
    headBeforePaintCpu: S('cairn', 'headBeforePaintCpu'),
    snippet: S('cairn', 'snippet'),
    snippetCpu: S('cairn', 'snippetCpu'),
    head: S('cairn', 'head'),
    headCpu: S('cairn', 'headCpu'),
    core: S('cairn', 'core'),
    coreCpu: S('cairn', 'coreCpu'),
    coreBeforePaint: S('cairn', 'coreBeforePaint'),
    coreBeforePaintCpu: S('cairn', 'coreBeforePaintCpu'),
    total: S('cairn', 'cairnTotal'),
    totalCpu: S('cairn', 'cairnTotalCpu'),
    gb: S('gb', 'gb'),
    gbCpu: S('gb', 'gbCpu'),
    gbBeforePaint: S('gb', 'gbBeforePaint'),
    gbBeforePaintCpu: S('gb', 'gbBeforePaintCpu'),
  };
  const traced = f('cairn', 'traced').filter(Boolean).length;
  const scriptRows = [
    [
      'Cairn: render-blocking (sdk.js and the inline snippet, before first paint)',
      fmtSpread(m.renderBlocking),
      fmtSpread(m.renderBlockingCpu),
    ],
    ['  of which sdk.js (the head)', fmtSpread(m.headBeforePaint), fmtSpread(m.headBeforePaintCpu)],
    ['  of which the inline snippet `window.cairn=window.cairn||[]`', fmtSpread(m.snippet), fmtSpread(m.snippetCpu)],
    ['Cairn: sdk.js, all of it (before and after first paint)', fmtSpread(m.head), fmtSpread(m.headCpu)],
    ['Cairn: core chunk, all of it', fmtSpread(m.core), fmtSpread(m.coreCpu)],
    ['  of which before first paint', fmtSpread(m.coreBeforePaint), fmtSpread(m.coreBeforePaintCpu)],
    ['Cairn: total (head, core and snippet)', fmtSpread(m.total), fmtSpread(m.totalCpu)],
    ['GrowthBook auto: whole (auto.min.js, all of it)', fmtSpread(m.gb), fmtSpread(m.gbCpu)],
    ['  of which before first paint', fmtSpread(m.gbBeforePaint), fmtSpread(m.gbBeforePaintCpu)],
  ];

  // (3) Targets, as ratios of this run's medians.
  const tg = targets({
    renderBlocking: m.renderBlocking.median,
    total: m.total.median,
    gb: m.gb.median,
    longFromCairn: f('cairn', 'longFromCairn').reduce((a, b) => a + b, 0),
  });
  const tgCpu = targets({
    renderBlocking: m.renderBlockingCpu.median,
    total: m.totalCpu.median,
    gb: m.gbCpu.median,
    longFromCairn: NaN,
  });
  const targetRows = tg.map((t, i) => {
    const x = fmtTarget(t);
    const c = t.kind === 'ratio' ? fmtTarget(tgCpu[i]) : { value: '–', met: '–' };
    return [t.label, x.target, x.value, x.met, c.value, c.met];
  });

  // (4) Long tasks.
  const total = (k, key) => f(k, key).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const loadsWith = (k, key) => f(k, key).filter((x) => x > 0).length;
  const longRows = [
    ['(a) no script', ...longCells('none', null)],
    ['(b) Cairn', ...longCells('cairn', 'cairn')],
    ['(c) GrowthBook auto', ...longCells('gb', 'gb')],
  ];
  function longCells(k, who) {
    const n = figures[k].length;
    const all = summary(f(k, 'longTasks'));
    if (!who) return [`${fmt(all.median, 0)} (${fmt(all.min, 0)}–${fmt(all.max, 0)})`, '–', '–', '–', '–'];
    const key = who === 'cairn' ? 'longFromCairn' : 'longFromGb';
    const loafKey = who === 'cairn' ? 'loafFromCairn' : 'loafFromGb';
    return [
      `${fmt(all.median, 0)} (${fmt(all.min, 0)}–${fmt(all.max, 0)})`,
      `${total(k, key)} in ${loadsWith(k, key)}/${n} loads`,
      who === 'cairn'
        ? `${total(k, 'longCairnAlone')} (${fmtSpread(summary(f(k, 'cairnMsInLong')), 0)} ms of Cairn in them)`
        : '–',
      `${total(k, loafKey)} in ${loadsWith(k, loafKey)}/${n} loads`,
      `${total(k, 'loafs')}`,
    ];
  }

  // (5) Bytes on the wire.
  const res = (page, key) => wire[page].resources.filter((r) => r.key === key);
  const one = (page, key) => res(page, key)[0] ?? null;
  const b = {
    head: one('cairn', 'head'),
    core: one('cairn', 'core'),
    gb: one('gb', 'gb'),
    gbFeatures: one('gb', 'gb-features'),
  };
  const sumOf = (...rs) => ({
    encoded: rs.reduce((a, r) => a + (r?.encoded ?? NaN), 0),
    decoded: rs.reduce((a, r) => a + (r?.decoded ?? NaN), 0),
    transfer: rs.reduce((a, r) => a + (r?.transfer ?? NaN), 0),
  });
  const cairnBytes = sumOf(b.head, b.core);
  const gbBytes = sumOf(b.gb, b.gbFeatures);
  const kb = (x) => (Number.isFinite(x) ? `${x.toLocaleString('en-US')} B (${(x / 1024).toFixed(1)} KB)` : '–');
  const byteRow = (label, r) => [
    label,
    r?.path ?? '–',
    r ? (r.failed ? `failed: ${r.failed}` : r.coding) : '–',
    kb(r?.encoded),
    kb(r?.decoded),
    kb(r?.transfer),
  ];
  const byteRows = [
    byteRow("Cairn sdk.js, the head (the bench site's config embedded)", b.head),
    byteRow('Cairn core chunk', b.core),
    ['**Cairn total**', '', '', kb(cairnBytes.encoded), kb(cairnBytes.decoded), kb(cairnBytes.transfer)],
    byteRow('GrowthBook auto.min.js', b.gb),
    byteRow("GrowthBook features JSON (Cairn's config is inside sdk.js)", b.gbFeatures),
    ['**GrowthBook total**', '', '', kb(gbBytes.encoded), kb(gbBytes.decoded), kb(gbBytes.transfer)],
  ];
  const accept = [...new Set([b.head, b.core, b.gb].map((r) => r?.acceptEncoding).filter(Boolean))];

  // (6) The compile hint, with nothing else different.
  const plain = f('cairn-plain', 'headBeforePaint');
  const hinted = f('cairn-hint', 'headBeforePaint');
  const hint = hintVerdict(plain, hinted);
  const hintCpu = hintVerdict(f('cairn-plain', 'headBeforePaintCpu'), f('cairn-hint', 'headBeforePaintCpu'));
  const comp = (k, key) => summary(figures[k].map((x) => x.breakdown?.[key] ?? NaN));
  const streamed = (k) => {
    const st = figures[k].map((x) => x.breakdown?.compile?.streamed).filter((x) => x !== undefined);
    const reasons = [...new Set(figures[k].map((x) => x.breakdown?.compile?.notStreamedReason).filter(Boolean))];
    return st.length
      ? `${st.filter(Boolean).length}/${st.length}${reasons.length ? ` (not: ${reasons.join(', ')})` : ''}`
      : '–';
  };
  const hintRows = ['cairn-plain', 'cairn-hint'].map((k) => [
    k === 'cairn-plain' ? 'sdk.js as served' : `sdk.js with \`${COMPILE_HINT.trim()}\` prepended`,
    figures[k].length,
    fmtSpread(S(k, 'headBeforePaint')),
    fmtSpread(S(k, 'headBeforePaintCpu')),
    fmtSpread(comp(k, 'lazyCompileMs')),
    fmt(comp(k, 'lazyCompiles').median, 0),
    fmtSpread(comp(k, 'topLevelCompileMs')),
    streamed(k),
  ]);
  const hintText =
    hint.verdict === 'gain'
      ? `a gain: the head's time is ${fmt(hint.ratio, 2)}× with the hint (Wilcoxon signed-rank p = ${fmt(hint.p, 3)}); keep it in the product.`
      : hint.verdict === 'loss'
        ? `a loss: the head's time is ${fmt(hint.ratio, 2)}× with the hint (Wilcoxon signed-rank p = ${fmt(hint.p, 3)}); leave it out.`
        : `no measurable difference: the head's time is ${fmt(hint.ratio, 2)}× with the hint, p = ${fmt(hint.p, 2)} (Wilcoxon signed-rank on the rounds' pairs, two-sided; a gain needs p < 0.05); leave it out.`;

  // (7) Where the head's time goes, before first paint, in Cairn's page.
  const bd = figures.cairn.map((x) => x.breakdown).filter(Boolean);
  const EVENT_NAMES = {
    'v8.run': "the evaluation's JavaScript (self)",
    'V8.CompileCode': 'lazy compile of functions on first call (self)',
    'V8.ParseFunction': 'parsing functions on first call',
    'V8.CompileIgnition': 'bytecode generation',
    'V8.CompileIgnitionFinalization': 'bytecode finalization',
    'V8.CompileScript': 'compile of the script (main thread)',
    'V8.CompileStreamedScript': 'finishing the streamed compile',
    'v8.compile': 'compile (self)',
    FlushInstructionCache: 'instruction-cache flushes (baseline code)',
    'v8.newInstance': 'creating DOM wrappers',
    EvaluateScript: 'evaluation (self)',
    FunctionCall: "callbacks' JavaScript (self)",
    UpdateLayoutTree: 'style recalculation it forced',
    Layout: 'layout it forced',
  };
  const evRows = meanOfMaps(bd.map((x) => x.events))
    .filter(([, v]) => v >= 0.1)
    .slice(0, 10)
    .map(([k, v]) => [
      k,
      EVENT_NAMES[k] ?? (k.startsWith('V8.GC') || /GC|Scavenge|MarkCompact/.test(k) ? 'garbage collection' : ''),
      fmt(v),
    ]);
  const entryRows = meanOfMaps(bd.map((x) => x.entries))
    .slice(0, 8)
    .map(([k, v]) => [k, /@\d+:\d+/.test(k) ? excerpt(headAtStart, k) : '', fmt(v)]);
  const fnAll = meanOfMaps(bd.map((x) => x.functions));
  const fnTotal = fnAll.reduce((a, [, v]) => a + v, 0);
  const fnRows = fnAll
    .slice(0, 12)
    .map(([k, v]) => [k, excerpt(headAtStart, k), fmt(v), fnTotal > 0 ? `${((100 * v) / fnTotal).toFixed(0)}%` : '–']);

  const med = (k, key) => fmt(median(f(k, key)));
  const traceErrors = [...new Set(KINDS.flatMap((k) => raw[k].map((x) => x.traceError).filter(Boolean)))];
  const failedAll = KINDS.flatMap((k) => raw[k].flatMap((x) => x.failed.map((y) => `${k}: ${y}`)));
  const changed = headAtStart !== headAtEnd;
  const body = [
    `Chromium, ${THROTTLE}× CPU throttling (CDP Emulation.setCPUThrottlingRate), ${loads} loads per page after one warm-up load, interleaved, each in a fresh context (a first visit). ` +
      "Cairn's sdk.js and its collect calls go to a local sync server; GrowthBook's file (brotli, as a CDN sends it) and features come from the page's origin. " +
      `URL: \`/${CHANGE.query}\`. Every load is traced (Chromium trace: devtools.timeline, v8, v8.execute, v8.compile events and V8's sampling profiler), from navigation to ${SETTLE_MS / 1000} s after the load event; ` +
      'tracing slows every page alike. Cells are median (p25–p75) in ms over the loads.',
    '',
    "**Script time by script**, from the traces by URL: every outermost script event on the page's main thread (a script's evaluation with its compile, a callback's FunctionCall: timers, animation frames, event listeners, IndexedDB callbacks; a code-cache write after an evaluation) counts whole for the script its URL names, with what ran inside it (lazy compiles, garbage collection, style and layout it forced). " +
      "Promise reactions (a fetch's `.then`, an `await`) run in microtask checkpoints that name no script: their time goes to scripts in proportion to the profiler's samples in them. " +
      "\"Before first paint\" is before the trace's firstPaint of the page. Wall time is the main thread's time as the throttled CPU runs it; CPU time is the thread's own CPU time (it leaves out waits, such as a busy machine's). " +
      "The page's first script pays V8's first compile in the page; in both Cairn's and GrowthBook's page that is their own tag.",
    '',
    table(['script time', 'wall ms', 'CPU ms'], scriptRows),
    '',
    `Traced loads: ${traced}/${figures.cairn.length} (Cairn)${traceErrors.length ? ` (unreadable traces: ${traceErrors.join('; ').slice(0, 200)})` : ''}. ` +
      `Failed requests, all pages: ${failedAll.length ? failedAll.join('; ').slice(0, 300) : 'none'}. Not in the rows above, median ms per page (none / Cairn / GrowthBook): ` +
      `the shop's own scripts ${med('none', 'other')} / ${med('cairn', 'other')} / ${med('gb', 'other')}; ` +
      `microtask checkpoints no sample could name (the browser's own promise work, with no script on the stack) ${med('none', 'unattributed')} / ${med('cairn', 'unattributed')} / ${med('gb', 'unattributed')}.`,
    '',
    "**Targets**, as ratios of this run's medians, in wall time and in CPU time: where they disagree, waits the rest of the machine caused weigh on the wall-time figure.",
    '',
    table(['target', 'goal', 'wall time', 'met', 'CPU time', 'met (CPU)'], targetRows),
    '',
    `**Long tasks** (main-thread tasks over ${LONG_TASK_MS} ms in the trace). "With Cairn in them" counts tasks in which any of Cairn's script events ran; "Cairn alone over 50 ms" those in which Cairn's own part is over 50 ms. ` +
      "Long animation frames are the Long Animation Frames API's, over 50 ms, with the script attribution it gives (scripts over 5 ms).",
    '',
    table(
      [
        'page',
        'long tasks per load',
        'with the script in them (all loads)',
        'Cairn alone over 50 ms (all loads)',
        'long animation frames naming the script (all loads)',
        'long animation frames (all loads)',
      ],
      longRows,
    ),
    '',
    `**Bytes on the wire**: one more first visit per page with CDP's Network domain on; the encoded body is what the server sent (Content-Length), the transfer adds the response headers. Chromium sent Accept-Encoding: ${accept.map((a) => `\`${a}\``).join(', ') || 'unknown'}.`,
    '',
    table(['resource', 'path', 'Content-Encoding', 'encoded body', 'decoded', 'transfer with headers'], byteRows),
    '',
    `GrowthBook's file over Cairn's two scripts, encoded: ${ratio(b.gb?.encoded, cairnBytes.encoded)}. ` +
      `Cairn's budgets on the wire are ${WIRE_BUDGET.blocking.toLocaleString('en-US')} B render-blocking and ${WIRE_BUDGET.total.toLocaleString('en-US')} B in all, on the demo home page with the demo's config (packages/sdk/test/budget.test.ts, e2e/tests/wire-bytes.spec.ts); ` +
      `this page's one-variant config makes the head ${kb(b.head?.encoded)} (${b.head?.encoded <= WIRE_BUDGET.blocking ? 'within' : 'OVER'}) and the total ${kb(cairnBytes.encoded)} (${cairnBytes.encoded <= WIRE_BUDGET.total ? 'within' : 'OVER'}).`,
    '',
    `**V8 compile hint** (\`${COMPILE_HINT.trim()}\` at the top of sdk.js): the same sdk.js, copied once from the sync server, served by the page's own origin with and without the comment, interleaved with the other pages: each round loads both, so the test compares them pair by pair. ` +
      "Head time is sdk.js's main-thread time before first paint; lazy compiles are V8.CompileCode events inside it (functions compiled on the main thread at their first call).",
    '',
    table(
      [
        'sdk.js',
        'loads',
        'head wall ms',
        'head CPU ms',
        'lazy compile ms',
        'lazy compiles',
        'top-level compile ms',
        'streamed (off-thread parse)',
      ],
      hintRows,
    ),
    '',
    `Result: ${hintText} In CPU time: ${fmt(hintCpu.ratio, 2)}×, p = ${fmt(hintCpu.p, 2)}.`,
    '',
    `**Where the head's time goes** (Cairn's page, sdk.js before first paint, mean ms per load). By what ran it:`,
    '',
    table(['entry', 'code there', 'ms per load'], entryRows),
    '',
    'Inside those, trace events by self time:',
    '',
    table(['trace event', 'what it is', 'ms per load'], evRows),
    '',
    "The sampling profiler's self time by function (a native function is named with the sdk.js function that called it; `name@line:column` is the minified name and its place in sdk.js as served, config embedded):",
    '',
    table(['function', 'code there', 'ms per load', 'share of samples'], fnRows),
    '',
    '**CDP Performance.getMetrics**, every script on the page (the shop\'s own included; its recently-viewed block asks Cairn for the history when Cairn is there), long tasks from the Long Tasks API: median (min–max) count and median (p25–p75) total ms. "Over (a)" is the difference of medians: with the script minus without.',
    '',
    table(
      [
        'page',
        'loads',
        'ScriptDuration',
        'script over (a)',
        'TaskDuration',
        'task over (a)',
        'long tasks',
        'long-task ms',
        'change applied',
        'page errors',
      ],
      cdpRows,
    ),
    '',
    `Script time GrowthBook adds over the bare page, relative to what Cairn adds: ${addedRatio('script')} (ScriptDuration), ${addedRatio('task')} (TaskDuration).`,
    '',
    `SDK build measured: cairn.js sha-256 ${env.sdk?.sha ?? '?'}…, core ${env.sdk?.core ?? 'none'}, copied when the pages started, so that a rebuild during the run does not mix builds.`,
    ...(changed
      ? ['', "**Note:** the sync server's sdk.js changed during this section: its figures mix two builds."]
      : []),
  ].join('\n');
  return {
    title: '2. Main-thread cost',
    body,
    headline: {
      cairnScriptAdded: added('cairn', 'script'),
      gbScriptAdded: added('gb', 'script'),
      cairnTaskAdded: added('cairn', 'task'),
      gbTaskAdded: added('gb', 'task'),
      renderBlocking: m.renderBlocking.median,
      total: m.total.median,
      gb: m.gb.median,
      targets: tg.map((t) => ({ key: t.key, value: t.value, target: t.target, met: t.met })),
      targetsCpu: tgCpu
        .filter((t) => t.kind === 'ratio')
        .map((t) => ({ key: t.key, value: t.value, target: t.target, met: t.met })),
      longFromCairn: tg.find((t) => t.key === 'longTasks').value,
      loads: figures.cairn.length,
      bytes: {
        head: b.head?.encoded ?? NaN,
        core: b.core?.encoded ?? NaN,
        total: cairnBytes.encoded,
        gb: b.gb?.encoded ?? NaN,
        coding: b.head?.coding ?? null,
      },
      hint: { ratio: hint.ratio, p: hint.p, verdict: hint.verdict },
    },
  };
}
