// Every query a profile read runs goes through an index, on both stores: migration 4 dropped the
// product and category indexes that collect used to write, and the profile reads those lists from
// the page rows (events_device_type_at) instead. The queries are the stores' own, captured as they
// run (better-sqlite3's statements, postgres.js's debug hook), then explained with the same arguments.
//
// Plans seen (SQLite 3.4x; PostgreSQL 15 with seq scans discouraged, as on a big table):
//   products, categories  SQLite: SEARCH events USING INDEX events_device_type_at (site=? AND device_id=? AND type=?)
//                         PG: Limit -> Index Scan using events_device_type_at, Index Cond: site, device_id, type = 'page'
//   page views, touches   SEARCH events USING INDEX events_device_type_at (site=? AND device_id=? AND type=?)
//   last non-Direct touch SEARCH events USING INDEX events_campaign (site=? AND device_id=?)
//   exposures             SEARCH events USING INDEX events_device_type_at (site=? AND device_id=? AND type=?)
//   devices, opt-ins      SEARCH devices / optins by their primary key or (site, …) indexes
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CairnEvent, Touch } from '@cairn/schema';
import type { Store } from '../src/store/index.js';
import { makeStores, PG_TEST_URL, type TestDb } from './helpers/db.js';
import { capturedPg, capturedSqlite, plansPg, plansSqlite, type Ran } from './helpers/statements.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const site = 'plans';
const touch = (channel: string, at: number): Touch =>
  ({ source: 'google', medium: 'cpc', channel, landingPath: '/', at }) as Touch;

/** A device's history: product and category page views, plain pages, touches, an exposure. */
function history(device: string, n: number): CairnEvent[] {
  const out: CairnEvent[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${device}-${i.toString().padStart(5, '0')}`;
    const at = 1_700_000_000_000 + i * 1000;
    const k = i % 10;
    if (k < 6)
      out.push({
        id,
        type: 'page',
        at,
        path: `/p/${i % 40}`,
        title: 'P',
        product: `sku-${i % 40}`,
        category: `c-${i % 7}`,
      });
    else if (k < 8) out.push({ id, type: 'page', at, path: '/about', title: 'About' });
    else if (k === 8)
      out.push({ id, type: 'touch', at, touch: touch(i % 20 === 8 ? 'Direct' : 'Paid Search', at) } as CairnEvent);
    else out.push({ id, type: 'variant_applied', at, variant: `v-${i % 3}` });
  }
  return out;
}

describe.each(makeStores())('profile query plans on $name', (db: TestDb) => {
  let store: Store;

  beforeAll(async () => {
    store = await db.open();
    for (const device of ['a', 'b', 'c', 'd']) {
      const events = history(device, 600);
      for (let i = 0; i < events.length; i += 200) await store.ingest(site, device, events.slice(i, i + 200), 'h');
    }
    // A shop has many visitors: 300 more devices, a short history each. With statistics that say so
    // (ANALYZE), PostgreSQL's planner weighs the site's time-ordered report index (events_report)
    // against each device's own rows as it would on a real table.
    for (let i = 0; i < 300; i++) await store.ingest(site, `x${i}`, history(`x${i}`, 20), 'h');
    if (db.name === 'postgres') {
      const sql = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
      await sql.unsafe(`ANALYZE ${db.options.pgSchema}.events`);
      await sql.end();
    }
    // Two devices of one person: the profile reads each device's rows.
    await store.link(site, 'a', 'user-1', 1_700_000_000_000);
    await store.link(site, 'b', 'user-1', 1_700_000_000_000);
  });
  afterAll(() => db.cleanup());

  it('reads products and categories from the page rows, and every profile query uses an index', async () => {
    const ran = db.name === 'sqlite' ? await capturedSqliteProfile(store) : await capturedPgProfile(store);
    const plans = db.name === 'sqlite' ? explainSqlite(db, ran) : await explainPg(db, ran);
    // profileDevices, pages, products, categories, touches, first and last touch, opt-in, exposures.
    expect(plans.length).toBeGreaterThanOrEqual(9);
    if (process.env.SHOW_PLANS) for (const p of plans) console.log(`${p.sql}\n${p.plan}\n`);
    for (const p of plans) expect(p.fullScans, `${p.sql}\n${p.plan}`).toEqual([]);
    const items = plans.filter((p) => /"?\b(product|category)"? AS value\b/.test(p.sql));
    expect(items).toHaveLength(2);
    for (const p of items) {
      // The index gives the newest page rows in order: LIMIT stops the walk, nothing is sorted first.
      if (db.name === 'sqlite')
        expect(p.plan).toMatch(
          /SEARCH events USING INDEX events_device_type_at \(site=\? AND device_id=\? AND type=\?\)/,
        );
      else
        expect(p.plan).toMatch(
          /Index Scan using events_device_type_at on events[^\n]*\n[^\n]*Index Cond: \(\(site = .*\(type = 'page'::text\)\)/,
        );
    }
    // The profile itself is what it was: distinct products, newest first.
    const profile = await store.profile(site, 'a');
    expect(profile.products.length).toBeGreaterThan(0);
    expect(profile.categories.map((c) => c.id).sort()).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6']);
  });
});

/** The statements a SQLite profile read runs, with their arguments. */
const capturedSqliteProfile = async (store: Store): Promise<Ran[]> =>
  uniqueSql(await capturedSqlite(() => store.profile(site, 'a')));

/** The queries a PostgreSQL profile read sends. */
const capturedPgProfile = async (store: Store): Promise<Ran[]> =>
  uniqueSql((await capturedPg(store, () => store.profile(site, 'a'))).filter((r) => /^\s*select/i.test(r.sql)));

function uniqueSql(ran: Ran[]): Ran[] {
  const seen = new Set<string>();
  return ran.filter((r) => /\bFROM\b/i.test(r.sql) && !seen.has(r.sql) && (seen.add(r.sql), true));
}

interface Plan {
  sql: string;
  plan: string;
  /** Plan lines that read a whole table (or a whole index) of events, devices or opt-ins. */
  fullScans: string[];
}

function explainSqlite(db: TestDb, ran: Ran[]): Plan[] {
  return plansSqlite(db.options.sqlitePath as string, ran).map((lines, i) => ({
    sql: ran[i]!.sql,
    plan: lines.join('\n'),
    // "SCAN events" (with or without an index) walks the whole table; a SEARCH on the site alone
    // walks every row of the site. Only a SEARCH that names the device or user is bounded.
    fullScans: lines.filter(
      (d) => /^SCAN (events|devices|optins)\b/.test(d) || /^SEARCH \w+ USING .*\(site=\?\)$/.test(d),
    ),
  }));
}

async function explainPg(db: TestDb, ran: Ran[]): Promise<Plan[]> {
  return (await plansPg(PG_TEST_URL, db.options.pgSchema as string, ran)).map((lines, i) => ({
    sql: ran[i]!.sql,
    plan: lines.join('\n'),
    fullScans: lines.filter(
      (l) => /Seq Scan on (events|devices|optins)\b/.test(l) || /Index Cond: \(site = '[^']*'::text\)$/.test(l),
    ),
  }));
}
