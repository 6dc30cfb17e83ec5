// Markdown output: tables, the machine, the versions and the date. Every number in the report comes
// from the run; nothing here is typed in by hand.
import { cpus, totalmem, type, release, arch } from 'node:os';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BENCH_DIR, ROOT } from './paths.mjs';

/**
 * A markdown table. Cells are escaped so that a "|" in a value cannot break the layout.
 * @param {string[]} head @param {(string|number)[][]} rows
 */
export function table(head, rows) {
  const esc = (c) =>
    String(c ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  const line = (cells) => `| ${cells.map(esc).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** CPU model, core count, memory and OS of this machine. */
export function machine() {
  const c = cpus();
  let os = `${type()} ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) os = `${pretty[1]} (${type()} ${release()})`;
  } catch {
    // Not Linux: the kernel name is enough.
  }
  return {
    cpu: c[0]?.model?.trim() || 'unknown',
    cores: c.length,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os}, ${arch()}`,
  };
}

/** The installed version of a package, as the bench resolves it. */
export function pkgVersion(name) {
  try {
    const req = createRequire(join(BENCH_DIR, 'package.json'));
    // Some packages do not export ./package.json: find it next to the resolved node_modules entry.
    const dir = join(BENCH_DIR, 'node_modules', name, 'package.json');
    const file = existsSync(dir) ? dir : req.resolve(`${name}/package.json`);
    return JSON.parse(readFileSync(file, 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

/** The commit the bench ran on, and whether the tree had local changes. */
export function gitRevision() {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${rev} + local changes` : rev;
  } catch {
    return 'unknown';
  }
}

/**
 * The whole report as markdown.
 * @param {{ date: Date, seconds: number, machine: ReturnType<typeof machine>, versions: Record<string,string>, sections: { title: string, body: string }[], load?: { start: number, end: number } }} r
 */
export function renderReport(r) {
  const m = r.machine;
  const versions = Object.entries(r.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    '# Cairn benchmarks',
    '',
    `Run on ${r.date
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC')} by \`pnpm bench\` in ${r.seconds.toFixed(0)} s.`,
    '',
    `- **Machine:** ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}`,
    `- **Versions:** ${versions}`,
    `- **Commit:** ${gitRevision()}`,
    ...(r.load
      ? [
          `- **Load average** (1 min, other work on the machine): ${r.load.start.toFixed(2)} at the start, ${r.load.end.toFixed(2)} at the end`,
        ]
      : []),
    '',
    'Every number below was measured in this run, on this machine; ratios compare rows of the same run.',
    '',
    ...(headlines(r.sections) ? ['## Summary', '', headlines(r.sections), ''] : []),
    ...r.sections.flatMap((s) => [`## ${s.title}`, '', s.body.trim(), '']),
  ].join('\n');
}

export function writeReport(markdown) {
  const file = join(BENCH_DIR, 'RESULTS.md');
  writeFileSync(file, markdown.endsWith('\n') ? markdown : markdown + '\n');
  return file;
}

/**
 * A few lines that sum the run up, from the sections' headline numbers (absent sections are skipped).
 * @param {{ title: string, headline?: any }[]} sections
 */
export function headlines(sections) {
  const h = (prefix) => sections.find((s) => s.title.startsWith(prefix) && s.headline)?.headline;
  const out = [];
  const b = h('1.');
  if (b) {
    const rs = b.peers.map((p) => p.gzip / b.cairnGzip);
    const kb = (x) => `${(x / 1024).toFixed(1)} KB`;
    const range = `${Math.min(...rs).toFixed(1)}× to ${Math.max(...rs).toFixed(1)}×`;
    if (Number.isFinite(b.coreGzip) && b.coreGzip !== null)
      out.push(
        `Cairn's head (cairn.js, render-blocking) is ${b.headGzip.toLocaleString('en-US')} B gzip -9 (budget ${b.headBudget.toLocaleString('en-US')} B) and its core ${kb(b.coreGzip)}, ${kb(b.cairnGzip)} together; the peers' script-tag files are ${range} that.`,
      );
    else out.push(`cairn.js is ${kb(b.cairnGzip)} gzip -9; the peers' script-tag files are ${range} larger.`);
  }
  const m = h('2.');
  if (m && Number.isFinite(m.renderBlocking)) {
    const t = Object.fromEntries((m.targets ?? []).map((x) => [x.key, x]));
    const met = (x, digits = 2) =>
      x
        ? `${Number.isFinite(x.value) ? x.value.toFixed(digits) : '–'}, target ${x.key === 'longTasks' ? x.target : `≤ ${x.target.toFixed(1)}`}: ${x.met === null ? 'not measured' : x.met ? 'met' : 'NOT met'}`
        : '–';
    out.push(
      `Main-thread script time at 4× CPU throttling, from the traces (median): Cairn ${m.renderBlocking.toFixed(0)} ms render-blocking and ${m.total.toFixed(0)} ms in all, GrowthBook auto ${m.gb.toFixed(0)} ms. ` +
        `Render-blocking ÷ GrowthBook ${met(t.renderBlocking)}; total ÷ GrowthBook ${met(t.total)}; long tasks with Cairn in them ${met(t.longTasks, 0)} (${m.loads} loads).` +
        (m.targetsCpu?.length
          ? ` In CPU time: ${m.targetsCpu.map((x) => `${Number.isFinite(x.value) ? x.value.toFixed(2) : '–'} (${x.met === null ? 'not measured' : x.met ? 'met' : 'NOT met'})`).join(' and ')}.`
          : ''),
    );
    if (m.bytes)
      out.push(
        `On the wire (${m.bytes.coding ?? 'identity'}): Cairn's sdk.js ${m.bytes.head} B and core ${m.bytes.core} B, ${m.bytes.total} B together; GrowthBook's auto.min.js ${m.bytes.gb} B.`,
      );
    if (m.hint)
      out.push(
        `V8 compile hint on sdk.js: ${m.hint.verdict} (head time ×${Number.isFinite(m.hint.ratio) ? m.hint.ratio.toFixed(2) : '–'}, p = ${Number.isFinite(m.hint.p) ? m.hint.p.toFixed(2) : '–'}).`,
      );
  } else if (m)
    out.push(
      `Main-thread script time added to the home page at 4× CPU throttling (median): Cairn ${m.cairnScriptAdded.toFixed(0)} ms, GrowthBook ${m.gbScriptAdded.toFixed(0)} ms.`,
    );
  const t = h('3.');
  if (t?.cairn && t.gb) {
    const painted = (x) => (x.painted ? `default painted in ${x.painted}/${x.n} loads` : 'default never painted');
    out.push(
      `Personalized hero visible at ${t.cairn.shown.toFixed(0)} ms with Cairn (${painted(t.cairn)}) and ${t.gb.shown.toFixed(0)} ms with GrowthBook and its anti-flicker (${painted(t.gb)}).`,
    );
  }
  const s = h('4.');
  if (s) {
    const sqlite = s.results.find((r) => r.label === 'SQLite');
    if (sqlite)
      out.push(
        `Sync server on SQLite: ${Math.round(sqlite.collect.rps * 20).toLocaleString('en-US')} events/s in 20-event batches, ${Math.round(sqlite.profile.rps).toLocaleString('en-US')} profile reads/s (p99 ${sqlite.profile.p99} ms); bare Hono: ${Math.round(s.hono).toLocaleString('en-US')} req/s.`,
      );
  }
  const g = h('5.');
  if (g)
    out.push(
      `Merged-profile read p50 at 1k / 10k / 100k events (one user, 5 devices): ${g.map((r) => `${r.label} ${r.rows.map((x) => x.p50.toFixed(1)).join(' / ')} ms`).join('; ')}.`,
    );
  const i = h('6.');
  if (i)
    out.push(
      `Ingestion on SQLite: ${i.checks.map((c) => `${c.label} ${Number.isFinite(c.value) ? c.value.toFixed(2) : '–'} (target ≥ ${c.target}: ${c.met ? 'met' : 'NOT met'})`).join('; ')}.`,
    );
  return out.map((l) => `- ${l}`).join('\n');
}
