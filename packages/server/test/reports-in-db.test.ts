// Reports computed from Store.reportData (activity aggregated in the database, only the events the
// reports read by body) against the same report code over Store.reportRows, every event of the
// window in JS (the activity then built in JS, reports/activity.ts), on the same seeded shop, for every
// attribution model, several ranges, with and without required confirmation and a chosen currency,
// on SQLite and PostgreSQL. toEqual compares numbers with Object.is: the same floats, not close ones.
// Store.computeReport (the same code run in the store's report worker thread, its own connection)
// is compared too: what the routes answer.
// Also: the reports' queries go through indexes (their plans are printed with SHOW_PLANS=1).
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelReport, experimentsReport, LOOKBACK_MS, MODELS } from '../src/reports/index.js';
import { reportsRoutes } from '../src/routes/reports.js';
import { numbered, REPORT_QUERIES } from '../src/store/report-queries.js';
import { REPORT_BODY_TYPES, type Store } from '../src/store/types.js';
import { makeStores, PG_TEST_URL, type TestDb } from './helpers/db.js';
import { DAY, seedShop, T0 } from './helpers/report-seed.js';

const site = 'in-db';
const ADMIN = 'reports-in-db-admin-key-0123456789';
/** Ranges [from, to): inside the history, all of it, a few hours, and past its end. */
const RANGES = [
  [T0 + 40 * DAY, T0 + 70 * DAY],
  [T0, T0 + 90 * DAY],
  [T0 + 60 * DAY + 5 * 3_600_000, T0 + 61 * DAY],
  [T0 + 85 * DAY, T0 + 120 * DAY],
] as const;

describe.each(makeStores())('reports in the database on $name', (db: TestDb) => {
  let store: Store;

  beforeAll(async () => {
    store = await db.open();
    const stored = await seedShop(store, site, {
      seed: 18,
      devices: 60,
      eventsPerDevice: 40,
      days: 90,
      // The first ranges' read windows start there: every third device's first event, all at once.
      sharedMoments: [T0 + 10 * DAY, T0 + 60 * DAY + 5 * 3_600_000],
    });
    expect(stored).toBeGreaterThan(1500);
  }, 120_000);
  afterAll(() => db.cleanup());

  it.each(RANGES)('the channels report is today’s, for every model and option (from %i)', async (from, to) => {
    const before = await store.reportRows(site, from - LOOKBACK_MS, to);
    const data = await store.reportData(site, from - LOOKBACK_MS, from, to);
    // Page views never leave the database; today's rows carry every one of them.
    expect(before.events.some((e) => e.type === 'page')).toBe(true);
    expect(data.events.every((e) => (REPORT_BODY_TYPES as readonly string[]).includes(e.type))).toBe(true);
    expect(data.events.length).toBeLessThan(before.events.length);
    let conflicts = 0;
    for (const model of MODELS)
      for (const confirmationRequired of [false, true])
        for (const currency of [undefined, 'USD']) {
          const o = { from, to, model, confirmationRequired, ...(currency ? { currency } : {}) };
          const expected = channelReport(before, o);
          expect(channelReport(data, o), `${model} ${confirmationRequired} ${currency}`).toEqual(expected);
          // The same code, read and run in the store's report worker: only the report comes back.
          const computed = await store.computeReport({ report: 'channels', site, options: o });
          expect(computed, `worker: ${model} ${confirmationRequired} ${currency}`).toEqual(expected);
          // Not an empty comparison: every report counts people, and most ranges orders.
          expect(expected.totals.visitors).toBeGreaterThan(0);
          conflicts += expected.orderChecks.conflictingClaims;
        }
    if (to - from > DAY) expect(conflicts).toBeGreaterThan(0);
  });

  it.each(RANGES)('the experiments report is today’s (from %i)', async (from, to) => {
    const before = await store.reportRows(site, from, to);
    const exposures = await store.reportExposures(site, from, to);
    const data = await store.reportData(site, from, from, to);
    for (const confirmationRequired of [false, true])
      for (const currency of [undefined, 'EUR']) {
        const o = { from, to, confirmationRequired, ...(currency ? { currency } : {}) };
        const expected = experimentsReport(before, o, exposures);
        expect(experimentsReport(data, o, exposures)).toEqual(expected);
        expect(await store.computeReport({ report: 'experiments', site, options: o, exposures })).toEqual(expected);
        expect(expected.baseline.visitors + expected.variants.length).toBeGreaterThan(0);
      }
  });

  it('the report routes answer from the aggregates what today’s code computes', async () => {
    const [from, to] = RANGES[0];
    const app = reportsRoutes({ store, adminKey: ADMIN });
    const get = async (path: string) => {
      const res = await app.request(path, { headers: { authorization: `Bearer ${ADMIN}` } });
      expect(res.status).toBe(200);
      return res.json();
    };
    const channels = await get(`/v1/reports/channels?site=${site}&from=${from}&to=${to}&model=linear`);
    const rows = await store.reportRows(site, from - LOOKBACK_MS, to);
    expect(channels).toEqual({ site, ...channelReport(rows, { from, to, model: 'linear' }) });
    const experiments = await get(`/v1/reports/experiments?site=${site}&from=${from}&to=${to}`);
    const expected = experimentsReport(
      await store.reportRows(site, from, to),
      { from, to },
      await store.reportExposures(site, from, to),
    );
    expect(experiments).toEqual(JSON.parse(JSON.stringify({ site, ...expected })));
  });

  it('reads through indexes: no query walks the site’s events', async () => {
    const [from, to] = RANGES[0];
    // The window's orders, as the reader gathers them before the queries that read them.
    const orders = (await store.reportRows(site, from - LOOKBACK_MS, to)).orderClaims.map((c) => c.orderId);
    const params = { site, readFrom: from - LOOKBACK_MS, from, to, orderIds: JSON.stringify(orders) };
    const plans = db.name === 'sqlite' ? explainSqlite(db, params) : await explainPg(db, params);
    expect(Object.keys(plans)).toEqual(Object.keys(REPORT_QUERIES));
    for (const [name, plan] of Object.entries(plans)) {
      if (process.env.SHOW_PLANS) console.log(`${db.name} ${name}\n${plan}\n`);
      const lines = plan.split('\n');
      // SQLite: a SCAN, or a SEARCH on the site alone, of the big tables. PostgreSQL: a Seq Scan, or
      // an index scan whose only condition is the site. The planner may take the site's purchases
      // through events_order (a partial index of the orders only) when they are fewer than the
      // window's events: that one is bounded by the orders, not the page views.
      const fullScans = lines.filter((l, i) =>
        db.name === 'sqlite'
          ? /^(SCAN|SEARCH) (events|optins|devices|e|d|l)\b/.test(l.trim()) &&
            (/^SCAN/.test(l.trim()) || /\(site=\?\)$/.test(l))
          : /Seq Scan on (events|optins|devices)\b/.test(l) ||
            (/Index Cond: \(site = '[^']*'::text\)$/.test(l) &&
              /on (events|optins|devices)\b/.test(lines[i - 1] ?? '') &&
              !/events_order/.test(lines[i - 1] ?? '')),
      );
      expect(fullScans, `${name}\n${plan}`).toEqual([]);
    }
    // The activity comes from the devices' bounds (migration 10), active since the window opened;
    // events are searched only device by device, for bounds beyond the window's edges.
    if (db.name === 'sqlite') {
      expect(plans.activity).toMatch(/SEARCH d USING INDEX devices_activity \(site=\? AND last_event_at>\?\)/);
      for (const line of (plans.activity ?? '').split('\n').filter((l) => /\bevents\b|SEARCH e\b/.test(l)))
        expect(line).toMatch(/SEARCH e USING (COVERING )?INDEX events_device_type_at \(site=\? AND device_id=\?\)/);
    } else {
      expect(plans.activity).toMatch(/Index Scan using devices_activity on devices/);
      for (const line of (plans.activity ?? '').split('\n').filter((l) => /on events\b/.test(l)))
        expect(line).toMatch(/Index (Only )?Scan using events_device_type_at on events/);
    }
    // The body rows through the partial index of their types alone: no page view is read.
    expect(plans.events).toMatch(/events_report/);
  });
});

type Params = { site: string; readFrom: number; from: number; to: number; orderIds: string };

function explainSqlite(db: TestDb, params: Params): Record<string, string> {
  const raw = new Database(db.options.sqlitePath as string, { readonly: true });
  try {
    return Object.fromEntries(
      Object.entries(REPORT_QUERIES).map(([name, sql]) => [
        name,
        (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail).join('\n'),
      ]),
    );
  } finally {
    raw.close();
  }
}

async function explainPg(db: TestDb, params: Params): Promise<Record<string, string>> {
  const sql = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
  try {
    // Fresh rows are not all-visible yet: without a VACUUM no plan could read the index alone.
    await sql.unsafe(`VACUUM ANALYZE ${db.options.pgSchema as string}.events`);
    return await sql.begin(async (tx) => {
      // On a few thousand rows a sequential scan is cheapest; on a real table it is not. Discouraged,
      // not forbidden: a query no index can serve still shows a Seq Scan.
      await tx`SET LOCAL enable_seqscan = off`;
      await tx`SELECT set_config('search_path', ${db.options.pgSchema as string}, true)`;
      const out: Record<string, string> = {};
      for (const [name, query] of Object.entries(REPORT_QUERIES)) {
        const { text, args } = numbered(query, params);
        const rows = await tx.unsafe(`EXPLAIN ${text}`, args);
        out[name] = rows.map((r) => r['QUERY PLAN'] as string).join('\n');
      }
      return out;
    });
  } finally {
    await sql.end();
  }
}
