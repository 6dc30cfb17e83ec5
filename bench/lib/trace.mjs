// Chromium traces of one page load (CDP Tracing), and what the main thread spent on which script.
//
// Attribution is by entry point, as DevTools' and Lighthouse's per-script figures are: every outermost
// script event on the page's main thread (a script's evaluation, with its compile; a callback's
// FunctionCall: timers, animation frames, event listeners, IndexedDB and MutationObserver callbacks;
// a code-cache write after an evaluation) counts whole, with what it ran inside it (lazy compiles,
// garbage collection, style and layout it forced), for the script its URL names. Promise reactions
// (a fetch's `.then`, an `await`) run in a microtask checkpoint that names no script: that time goes
// to scripts in proportion to the V8 CPU profiler's samples inside it, by the outermost frame with a
// URL, and stays "unattributed" when no sample fell in it.
//
// Durations are wall time on the main thread ("dur"), which CPU throttling stretches as a slower CPU
// would; the thread's CPU time ("tdur") is kept beside it, as it does not count the waits a busy
// machine adds.

/** What the bench records: the timeline, V8's execution and compile events, and CPU samples. */
export const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'v8',
  'v8.execute',
  'disabled-by-default-v8.compile',
  'disabled-by-default-v8.cpu_profiler',
];

/** Starts tracing on a page's CDP session; events are kept until stopTrace. */
export async function startTrace(cdp, categories = TRACE_CATEGORIES) {
  const events = [];
  const onData = (e) => {
    for (const x of e.value) events.push(x);
  };
  cdp.on('Tracing.dataCollected', onData);
  await cdp.send('Tracing.start', {
    traceConfig: { includedCategories: categories, recordMode: 'recordAsMuchAsPossible' },
    transferMode: 'ReportEvents',
  });
  return {
    async stop() {
      const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.end');
      await Promise.race([
        done,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('trace: no tracingComplete within 30 s')), 30_000).unref(),
        ),
      ]);
      cdp.off('Tracing.dataCollected', onData);
      return events;
    },
  };
}

/** Long task threshold, as the Long Tasks API's: a task over 50 ms. */
export const LONG_TASK_MS = 50;

/** Events that start a script's own work; the outermost one on the stack takes the time. */
const ENTRY = new Set([
  'EvaluateScript',
  'v8.compile',
  'v8.compileModule',
  'v8.evaluateModule',
  'FunctionCall',
  'RunMicrotasks',
  'v8.produceCache',
  'v8.produceModuleCache',
]);

/**
 * The page's main thread: the renderer thread that committed the main-frame navigation to `pageUrl`
 * (its origin and path; the query may differ).
 * @param {any[]} events @param {string} pageUrl
 */
export function findMainThread(events, pageUrl) {
  const want = new URL(pageUrl);
  const same = (u) => {
    try {
      const x = new URL(u);
      return x.origin === want.origin && x.pathname === want.pathname;
    } catch {
      return false;
    }
  };
  const commit = events.find(
    (e) =>
      e.name === 'CommitLoad' &&
      e.args?.data?.isOutermostMainFrame !== false &&
      e.args?.data?.isMainFrame &&
      same(e.args.data.url),
  );
  if (!commit) return null;
  const frame = commit.args.data.frame;
  const paint = (name) =>
    events.find((e) => e.name === name && e.pid === commit.pid && e.args?.frame === frame && e.ts >= commit.ts)?.ts ??
    null;
  return {
    pid: commit.pid,
    tid: commit.tid,
    frame,
    commitTs: commit.ts,
    firstPaint: paint('firstPaint'),
    firstContentfulPaint: paint('firstContentfulPaint'),
  };
}

/** Complete events of one thread, parents before children (B/E pairs joined; unmatched ones dropped). */
function threadEvents(events, pid, tid) {
  const out = [];
  const open = [];
  for (const e of events) {
    if (e.pid !== pid || e.tid !== tid) continue;
    if (e.ph === 'X' && Number.isFinite(e.dur)) out.push(e);
    else if (e.ph === 'B') open.push(e);
    else if (e.ph === 'E') {
      const i = open.findLastIndex((b) => b.name === e.name);
      if (i >= 0) {
        const [b] = open.splice(i, 1);
        out.push({
          ...b,
          ph: 'X',
          dur: e.ts - b.ts,
          tdur: Number.isFinite(e.tts) && Number.isFinite(b.tts) ? e.tts - b.tts : undefined,
        });
      }
    }
  }
  // Same start: the longer one is the parent; same start and length: a task before what it runs.
  const rank = (e) => (e.name === 'RunTask' ? 0 : ENTRY.has(e.name) ? 2 : 1);
  return out.sort((a, b) => a.ts - b.ts || b.dur - a.dur || rank(a) - rank(b));
}

/**
 * The V8 CPU profiler's samples on one thread, in time order: `{ ts, w, node }`, `w` the time until the
 * next sample (µs, capped at four median intervals so that a pause is not counted as work).
 */
export function profileSamples(events, pid, tid) {
  const ids = new Set(events.filter((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid).map((e) => e.id));
  const start = new Map(
    events
      .filter((e) => e.name === 'Profile' && ids.has(e.id) && e.pid === pid)
      .map((e) => [e.id, e.args?.data?.startTime ?? e.ts]),
  );
  const nodes = new Map();
  const samples = [];
  const clock = new Map(start);
  for (const e of events) {
    if (e.name !== 'ProfileChunk' || e.pid !== pid || !ids.has(e.id)) continue;
    const d = e.args?.data ?? {};
    for (const n of d.cpuProfile?.nodes ?? []) nodes.set(n.id, n);
    const s = d.cpuProfile?.samples ?? [];
    const dt = d.timeDeltas ?? [];
    let t = clock.get(e.id) ?? 0;
    for (let i = 0; i < s.length; i++) {
      t += dt[i] ?? 0;
      samples.push({ ts: t, id: s[i] });
    }
    clock.set(e.id, t);
  }
  samples.sort((a, b) => a.ts - b.ts);
  const gaps = samples
    .slice(1)
    .map((s, i) => s.ts - samples[i].ts)
    .filter((g) => g > 0)
    .sort((a, b) => a - b);
  const cap = 4 * (gaps[gaps.length >> 1] ?? 1000);
  const frame = (id) => nodes.get(id)?.callFrame ?? {};
  const parent = (id) => nodes.get(id)?.parent;
  return samples.map((s, i) => ({
    ts: s.ts,
    w: Math.min(cap, Math.max(0, (samples[i + 1]?.ts ?? s.ts) - s.ts)),
    /** The frames from the leaf to the root. */
    stack() {
      const out = [];
      for (let id = s.id, n = 0; id !== undefined && n < 500; id = parent(id), n++) out.push(frame(id));
      return out;
    },
  }));
}

/**
 * @typedef {{ key: string, url?: RegExp, inline?: { url: RegExp, at: { line: number, column: number }[] } }} Owner
 * A script the bench tells apart: by its URL, or (an inline script) by the page's URL and where its text
 * starts, 1-based line and column as the trace gives them.
 */

/**
 * Which owner a script source is; the first match wins.
 * @param {Owner[]} owners @param {{ url?: string, line?: number, column?: number }} src
 * @returns {string} the owner's key, or 'other'
 */
export function ownerOf(owners, { url, line, column }) {
  if (!url) return 'other';
  for (const o of owners) {
    if (o.url?.test(url)) return o.key;
    if (o.inline?.url.test(url) && o.inline.at.some((p) => p.line === line && p.column === column)) return o.key;
  }
  return 'other';
}

const source = (e) => {
  const d = e.args?.data ?? {};
  return { url: d.url ?? e.args?.fileName ?? '', line: d.lineNumber, column: d.columnNumber };
};

/**
 * Main-thread time by script for one traced load.
 * @param {any[]} events the trace
 * @param {{ pageUrl: string, owners: Owner[], profileOf?: string[] }} o
 *   `profileOf`: owner keys whose work gets a CPU-sample breakdown (top functions, events inside).
 */
export function attributeTrace(events, { pageUrl, owners, profileOf = [] }) {
  const main = findMainThread(events, pageUrl);
  if (!main) throw new Error(`trace: no main-frame commit of ${pageUrl}`);
  const list = threadEvents(events, main.pid, main.tid);
  const samples = profileSamples(events, main.pid, main.tid);
  const paintAt = main.firstPaint ?? Infinity;
  // A sampled frame names its script by id; the script's compile event says where the script is from.
  const scriptKey = new Map();
  for (const e of list)
    if (e.name === 'v8.compile' && e.args?.data?.scriptId !== undefined)
      scriptKey.set(String(e.args.data.scriptId), ownerOf(owners, source(e)));
  const keyOfFrame = (f) => scriptKey.get(String(f.scriptId)) ?? ownerOf(owners, { url: f.url });

  /** @type {Record<string, { wall: number, cpu: number, wallBeforePaint: number, cpuBeforePaint: number, entries: number }>} */
  const by = {};
  const add = (key, wall, cpu, at) => {
    const b = (by[key] ??= { wall: 0, cpu: 0, wallBeforePaint: 0, cpuBeforePaint: 0, entries: 0 });
    b.wall += wall;
    b.cpu += cpu;
    b.entries++;
    if (at < paintAt) {
      b.wallBeforePaint += wall;
      b.cpuBeforePaint += cpu;
    }
  };
  const tasks = [];
  /** Windows of each profiled owner's entries, for the sample and event breakdowns. */
  const windows = Object.fromEntries(profileOf.map((k) => [k, []]));

  const stack = [];
  let task = null;
  let entry = null;
  let lastEvaluated = 'other';
  /** Microtask checkpoints that named no script: resolved with samples at the end. */
  const anonymous = [];
  for (const e of list) {
    while (stack.length && e.ts >= stack[stack.length - 1].ts + stack[stack.length - 1].dur) {
      const done = stack.pop();
      if (done === entry?.event) entry = null;
      if (done === task?.event) task = null;
    }
    if (e.name === 'RunTask' && !task) {
      task = { event: e, ts: e.ts, dur: e.dur, owners: {} };
      tasks.push(task);
    }
    if (ENTRY.has(e.name)) {
      if (!entry) {
        const cpu = e.tdur ?? 0;
        let key;
        if (e.name === 'RunMicrotasks') key = null;
        else if (e.name.startsWith('v8.produce')) key = lastEvaluated;
        else key = ownerOf(owners, source(e));
        if (e.name === 'EvaluateScript' || e.name === 'v8.evaluateModule') lastEvaluated = key;
        entry = { event: e, key, children: [] };
        if (key) {
          add(key, e.dur, cpu, e.ts);
          if (task) task.owners[key] = (task.owners[key] ?? 0) + e.dur;
          if (windows[key])
            windows[key].push({
              ts: e.ts,
              end: e.ts + e.dur,
              beforePaint: e.ts < paintAt,
              label: entryLabel(e, stack),
              ms: e.dur / 1000,
            });
        } else {
          anonymous.push((entry.micro = { event: e, task, children: [] }));
        }
      } else if (
        entry.key === null &&
        (e.name === 'FunctionCall' || e.name === 'EvaluateScript') &&
        stack.every((s) => s === entry.event || !ENTRY.has(s.name))
      ) {
        // A callback a checkpoint runs that names its script (a MutationObserver's, say): its own.
        const key = ownerOf(owners, source(e));
        add(key, e.dur, e.tdur ?? 0, e.ts);
        if (entry.micro.task) entry.micro.task.owners[key] = (entry.micro.task.owners[key] ?? 0) + e.dur;
        if (windows[key])
          windows[key].push({
            ts: e.ts,
            end: e.ts + e.dur,
            beforePaint: e.ts < paintAt,
            label: entryLabel(e, stack),
            ms: e.dur / 1000,
          });
        entry.micro.children.push(e);
      }
    }
    stack.push(e);
  }

  // The rest of each anonymous checkpoint, split by the samples inside it (outside its named callbacks).
  let si = 0;
  for (const m of anonymous) {
    const e = m.event;
    const end = e.ts + e.dur;
    const named = m.children.reduce((s, c) => s + c.dur, 0);
    const namedCpu = m.children.reduce((s, c) => s + (c.tdur ?? 0), 0);
    const rest = Math.max(0, e.dur - named);
    const restCpu = Math.max(0, (e.tdur ?? 0) - namedCpu);
    if (rest <= 0) continue;
    while (si < samples.length && samples[si].ts < e.ts) si++;
    const weight = {};
    let total = 0;
    for (let j = si; j < samples.length && samples[j].ts < end; j++) {
      const s = samples[j];
      if (m.children.some((c) => s.ts >= c.ts && s.ts < c.ts + c.dur)) continue;
      const outer = s.stack().findLast((f) => f.url);
      if (!outer) continue;
      const key = keyOfFrame(outer);
      weight[key] = (weight[key] ?? 0) + s.w;
      total += s.w;
    }
    if (!total) {
      add('unattributed', rest, restCpu, e.ts);
      continue;
    }
    for (const [key, w] of Object.entries(weight)) {
      add(key, (rest * w) / total, (restCpu * w) / total, e.ts);
      if (m.task) m.task.owners[key] = (m.task.owners[key] ?? 0) + (rest * w) / total;
      if (windows[key])
        windows[key].push({
          ts: e.ts,
          end,
          beforePaint: e.ts < paintAt,
          share: w / total,
          label: 'promise reactions (microtasks)',
          ms: (rest * w) / total / 1000,
        });
    }
  }

  const long = tasks
    .filter((t) => t.dur / 1000 > LONG_TASK_MS)
    .map((t) => ({
      ts: t.ts,
      ms: t.dur / 1000,
      owners: Object.fromEntries(Object.entries(t.owners).map(([k, v]) => [k, v / 1000])),
    }));
  const ms = (b) => ({
    wall: b.wall / 1000,
    cpu: b.cpu / 1000,
    wallBeforePaint: b.wallBeforePaint / 1000,
    cpuBeforePaint: b.cpuBeforePaint / 1000,
    entries: b.entries,
  });
  return {
    firstPaint: Number.isFinite(paintAt) ? (paintAt - main.commitTs) / 1000 : null,
    scripts: Object.fromEntries(Object.entries(by).map(([k, b]) => [k, ms(b)])),
    longTasks: long,
    samples: samples.length,
    breakdown: Object.fromEntries(
      profileOf.map((k) => {
        const compile = list.find((e) => e.name === 'v8.compile' && ownerOf(owners, source(e)) === k);
        const c = compile?.args?.data ?? {};
        return [
          k,
          {
            ...breakdown(list, samples, windows[k], keyOfFrame, k),
            compile: compile ? { streamed: c.streamed ?? null, notStreamedReason: c.notStreamedReason ?? null } : null,
          },
        ];
      }),
    ),
  };
}

/** What ran a script entry: its evaluation, or a callback (function and place) and what called it back. */
function entryLabel(e, stack) {
  if (e.name === 'EvaluateScript' || e.name === 'v8.evaluateModule') return 'evaluation';
  if (e.name === 'v8.compile' || e.name === 'v8.compileModule') return 'compile';
  if (e.name.startsWith('v8.produce')) return 'code-cache write';
  const d = e.args?.data ?? {};
  const where = `${d.functionName || '(anonymous)'}@${(d.lineNumber ?? 1) - 1}:${(d.columnNumber ?? 1) - 1}`;
  for (let i = stack.length - 1; i >= 0; i--) {
    const a = stack[i];
    const via = {
      RunMicrotasks: 'microtask checkpoint (MutationObserver, queueMicrotask)',
      EventDispatch: `event ${a.args?.data?.type ?? ''}`.trim(),
      TimerFire: 'timer',
      FireAnimationFrame: 'animation frame',
      FireIdleCallback: 'idle callback',
      ParseHTML: 'during parsing',
    }[a.name];
    if (via) return `${where}, ${via}`;
  }
  return where;
}

/**
 * Inside one owner's entries before first paint: V8's compile work (outermost V8.CompileCode: lazy
 * function compiles on the main thread), the self time of trace events by name, and the CPU samples'
 * self time by function (native leaves named with the script function that called them).
 */
function breakdown(list, samples, windows, keyOfFrame, key) {
  const pre = windows.filter((w) => w.beforePaint && !w.share);
  const inside = (e) => pre.some((w) => e.ts >= w.ts && e.ts < w.end);
  const events = list.filter(inside);
  const self = {};
  let lazyCompile = 0;
  let lazyCount = 0;
  let mainCompile = 0;
  const stack = [];
  for (const e of events) {
    while (stack.length && e.ts >= stack[stack.length - 1].ts + stack[stack.length - 1].dur) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) self[parent.name] = (self[parent.name] ?? 0) - e.dur;
    self[e.name] = (self[e.name] ?? 0) + e.dur;
    if (e.name === 'V8.CompileCode' && !stack.some((s) => s.name === 'V8.CompileCode')) {
      lazyCompile += e.dur;
      lazyCount++;
    }
    if (e.name === 'v8.compile' && !stack.some((s) => s.name === 'v8.compile')) mainCompile += e.dur;
    stack.push(e);
  }
  const fns = {};
  for (const s of samples) {
    const win = pre.find((w) => s.ts >= w.ts && s.ts < w.end);
    if (!win) continue;
    // A sample stands for the time until the next one, but not past the window it is in.
    const weight = Math.min(s.w, win.end - s.ts);
    const st = s.stack();
    const leaf = st[0] ?? {};
    const js = st.find((f) => f.url && keyOfFrame(f) === key);
    const where = (f) => `${f.functionName || '(anonymous)'}@${f.lineNumber ?? 0}:${f.columnNumber ?? 0}`;
    const label = leaf.url
      ? keyOfFrame(leaf) === key
        ? where(leaf)
        : `${leaf.functionName || '(anonymous)'} (${leaf.url.split('/').pop()})`
      : `${leaf.functionName || '(native)'}${js ? ` in ${where(js)}` : ''}`;
    fns[label] = (fns[label] ?? 0) + weight;
  }
  const toMs = (o) =>
    Object.fromEntries(
      Object.entries(o)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => [k, v / 1000]),
    );
  const entries = {};
  for (const w of windows) if (w.beforePaint) entries[w.label] = (entries[w.label] ?? 0) + w.ms;
  return {
    lazyCompileMs: lazyCompile / 1000,
    lazyCompiles: lazyCount,
    topLevelCompileMs: mainCompile / 1000,
    entries,
    events: toMs(self),
    functions: toMs(fns),
  };
}
