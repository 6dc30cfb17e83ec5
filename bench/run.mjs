#!/usr/bin/env node
// `pnpm bench`: every benchmark in one run, on one machine. Prints the tables and writes
// bench/RESULTS.md. A section that cannot run (a package not built yet, no PostgreSQL) says why in
// the report and makes the exit code non-zero; the other sections still run.
//
// Options: --only=bytes,main,ttpc,server,growth,ingest,reports   --quick (fewer loads, shorter runs: for trying it out)
//          --build (build the workspace first; done anyway when a dist is missing)
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CAIRN_JS, ROOT, SERVER_DIST } from './lib/paths.mjs';
import { headlines, machine, pkgVersion, renderReport, writeReport } from './lib/report.mjs';
import { bytesSection } from './lib/bytes.mjs';
import { launch } from './lib/browser.mjs';
import { startSites } from './lib/site.mjs';
import { mainThreadSection } from './lib/main-thread.mjs';
import { personalizationSection } from './lib/personalization.mjs';
import { serverSection } from './lib/server.mjs';
import { growthSection } from './lib/growth.mjs';
import { ingestionSection } from './lib/ingestion.mjs';
import { reportsSection } from './lib/reports.mjs';
import { pgClient, pgVersion } from './lib/pg.mjs';

const argv = process.argv.slice(2);
const opt = (name) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const only = opt('only')?.split('=')[1]?.split(',');
const quick = Boolean(opt('quick'));
const want = (s) => !only || only.includes(s);
const cfg = quick
  ? {
      loads: 3,
      ttpcLoads: 3,
      server: { duration: 2, warmup: 0.5, connections: 10 },
      ingest: { duration: 2, warmup: 0.5, connections: 10, rounds: 1 },
      reports: { sizes: [10_000, 100_000], duration: 2, connections: 10, runs: 1 },
    }
  : {
      loads: 20,
      ttpcLoads: 10,
      server: { duration: 5, warmup: 1, connections: 10 },
      ingest: { duration: 5, warmup: 1, connections: 10, rounds: 2 },
      reports: { sizes: [100_000, 1_000_000], duration: 5, connections: 10, runs: 2 },
    };

const t0 = performance.now();
const date = new Date();
const loadStart = loadavg()[0];
const log = (s) => process.stdout.write(`${s}\n`);

function build() {
  log('Building the workspace (node scripts/pnpm.mjs run build)…');
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/pnpm.mjs'), 'run', 'build'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) log('The build failed: the sections that need it will say so.');
}
const needSdk = ['bytes', 'main', 'ttpc'].some(want) && !existsSync(CAIRN_JS);
const needServer = ['main', 'ttpc', 'server', 'growth', 'ingest', 'reports'].some(want) && !existsSync(SERVER_DIST);
if (opt('build') || needSdk || needServer) build();

/** @type {{ title: string, body: string, headline?: unknown, failed?: boolean }[]} */
const sections = [];
async function section(title, fn) {
  const t = performance.now();
  log(`\n## ${title}\n`);
  try {
    const s = await fn();
    sections.push(s);
    log(s.body);
    log(`\n(${((performance.now() - t) / 1000).toFixed(0)} s)`);
    return s;
  } catch (e) {
    const cause = e?.cause ? ` (${e.cause.code ?? ''} ${e.cause.message ?? e.cause})`.replace('( ', '(') : '';
    const body = `**Not run:** ${e?.message ?? e}${cause}`;
    sections.push({ title, body, failed: true });
    log(body);
    if (process.env.BENCH_DEBUG) console.error(e);
    return null;
  }
}

const versions = { Node: process.version };

if (want('bytes')) await section('1. Bytes', () => bytesSection());

if (want('main') || want('ttpc')) {
  let browser = null;
  let env = null;
  try {
    browser = await launch();
    versions.Chromium = browser.version();
    env = await startSites();
  } catch (e) {
    for (const [k, title] of [
      ['main', '2. Main-thread cost'],
      ['ttpc', '3. Time to personalized content'],
    ]) {
      if (want(k)) await section(title, () => Promise.reject(e));
    }
  }
  if (browser && env) {
    try {
      if (want('main'))
        await section('2. Main-thread cost', () => mainThreadSection(browser, env, { loads: cfg.loads }));
      // After section 2 the servers, their caches and Chromium are warm already.
      if (want('ttpc'))
        await section('3. Time to personalized content', () =>
          personalizationSection(browser, env, { loads: cfg.ttpcLoads, warmup: !want('main') }),
        );
    } finally {
      await env.close().catch(() => {});
    }
  }
  await browser?.close().catch(() => {});
}

if (want('server')) await section('4. Sync server', () => serverSection(cfg.server));
if (want('growth')) await section('5. Growth', () => growthSection());
if (want('ingest')) await section('6. Ingestion', () => ingestionSection(cfg.ingest));
if (want('reports')) await section('7. Reports', () => reportsSection(cfg.reports));

for (const p of [
  '@playwright/test',
  'autocannon',
  'hono',
  '@hono/node-server',
  'posthog-js',
  '@segment/analytics-next',
  '@growthbook/growthbook',
  '@snowplow/browser-tracker',
  '@rudderstack/analytics-js',
  'terser',
]) {
  versions[p] = pkgVersion(p);
}
versions['@cairn/sdk'] = pkgVersion('@cairn/sdk');
try {
  const sql = await pgClient();
  versions.PostgreSQL = await pgVersion(sql);
  await sql.end({ timeout: 5 });
} catch {
  versions.PostgreSQL = 'unreachable';
}

const seconds = (performance.now() - t0) / 1000;
const file = writeReport(
  renderReport({
    date,
    seconds,
    machine: machine(),
    versions,
    sections,
    load: { start: loadStart, end: loadavg()[0] },
  }),
);
const failed = sections.filter((s) => s.failed).map((s) => s.title);
const summary = headlines(sections);
if (summary) log(`\n## Summary\n\n${summary}`);
log(`\nWrote ${file} in ${seconds.toFixed(0)} s.${failed.length ? ` Not run: ${failed.join(', ')}.` : ''}`);
process.exit(failed.length ? 1 : 0);
