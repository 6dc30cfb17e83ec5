// One channels report, in a process of its own so that its memory is its own: argv[2] is JSON
// { store: openStore options, path: 'old' | 'new', site, from, to, runs }. 'old' is the code before
// reports moved into the database (Store.reportRows, every event of the window into JS, and the report computed here);
// 'new' is what the route does: Store.computeReport, read and computed in the store's worker thread.
// Sends { ms: [...], extraMB, visitors } on stdout.
import { join } from 'node:path';
import { ROOT } from './paths.mjs';

const spec = JSON.parse(process.argv[2]);
const { openStore } = await import('@cairn/server');
const { channelReport, LOOKBACK_MS } = await import(join(ROOT, 'packages/server/dist/reports/index.js'));
const store = await openStore({ ...spec.store, migrate: false });
const before = process.memoryUsage().rss;
const ms = [];
let visitors = 0;
try {
  for (let i = 0; i < spec.runs; i++) {
    const t = performance.now();
    const options = { from: spec.from, to: spec.to, model: 'linear' };
    const report =
      spec.path === 'old'
        ? channelReport(await store.reportRows(spec.site, spec.from - LOOKBACK_MS, spec.to), options)
        : await store.computeReport({ report: 'channels', site: spec.site, options });
    visitors = report.totals.visitors;
    ms.push(performance.now() - t);
  }
} finally {
  await store.close();
}
// Peak resident memory over the runs (the SQLite worker thread included) above what was there before.
const extraMB = (process.resourceUsage().maxRSS * 1024 - before) / 1e6;
process.stdout.write(JSON.stringify({ ms, extraMB, visitors }));
