// The reports' activity comes from each device's bounds (devices.first_event_at, last_event_at:
// migration 10), which every write that stores or deletes a device's events keeps exact. Here the
// writes that move them most are run on a seeded shop: events that arrive late (older than the
// device's first), retention deleting a device's early events (all of some devices' events), and an
// erasure. After each, the channels report from the bounds must equal the one computed from every
// event of the window (Store.reportRows), on ranges whose windows straddle what moved.
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CairnEvent } from '@cairn/schema';
import { channelReport, LOOKBACK_MS } from '../src/reports/index.js';
import { REPORT_BODY_TYPES, type Store } from '../src/store/types.js';
import { atSchemaVersion, makeStores, PG_TEST_URL, type Row, type TestDb } from './helpers/db.js';
import { DAY, seedShop, T0 } from './helpers/report-seed.js';

const site = 'bounds';
/** Ranges [from, to) whose read windows start before, at and after what the steps below move. */
const RANGES = [
  [T0 + 20 * DAY, T0 + 50 * DAY],
  [T0 + 31 * DAY, T0 + 40 * DAY],
  [T0 + 45 * DAY, T0 + 75 * DAY],
] as const;
const CUTOFF = T0 + 25 * DAY;

it('the report index holds every type the reports read by body', () => {
  // events_report keeps every event but page views (migration 10): a page view there would be read
  // from the table instead, and a report type named 'page' would not be in the index at all.
  expect(REPORT_BODY_TYPES.length).toBeGreaterThan(0);
  expect(REPORT_BODY_TYPES).not.toContain('page');
});

describe.each(makeStores())('report activity from device bounds on $name', (db: TestDb) => {
  let store: Store;

  /** Every range's report, from the bounds and from every event, must agree; returns the visitors. */
  async function sameReports(): Promise<number[]> {
    const visitors: number[] = [];
    for (const [from, to] of RANGES) {
      const o = { from, to, model: 'linear' as const };
      const expected = channelReport(await store.reportRows(site, from - LOOKBACK_MS, to), o);
      expect(channelReport(await store.reportData(site, from - LOOKBACK_MS, from, to), o)).toEqual(expected);
      visitors.push(expected.totals.visitors);
    }
    return visitors;
  }

  /** Each device's bounds, against its stored events' first and last time. */
  async function boundsMatchEvents(): Promise<number> {
    const t = await db.tables();
    const events = (t.events ?? []).filter((e) => e.site === site);
    const devices = (t.devices ?? []).filter((d) => d.site === site);
    for (const d of devices) {
      const ats = events.filter((e) => e.device_id === d.device_id).map((e) => Number(e.at));
      const bound = (v: Row[string]) => (v === null ? null : Number(v));
      expect([bound(d.first_event_at), bound(d.last_event_at)], String(d.device_id)).toEqual(
        ats.length ? [Math.min(...ats), Math.max(...ats)] : [null, null],
      );
    }
    return devices.length;
  }

  beforeAll(async () => {
    store = await db.open();
    await seedShop(store, site, { seed: 7, devices: 50, eventsPerDevice: 16, days: 90 });
    // Two devices of one user, for the erasure below.
    await store.link(site, 'dev-7-00001', 'erased-user', T0 + DAY);
    await store.link(site, 'dev-7-00002', 'erased-user', T0 + DAY);
  }, 120_000);
  afterAll(() => db.cleanup());

  it('starts with bounds that match the events and reports that agree', async () => {
    expect(await boundsMatchEvents()).toBe(50);
    expect(Math.min(...(await sameReports()))).toBeGreaterThan(0);
  });

  it('a late batch, older than the devices’ first events, widens their bounds', async () => {
    for (let d = 10; d < 20; d++) {
      const deviceId = `dev-7-000${d}`;
      const late: CairnEvent[] = [
        { id: `late-${d}-a`, type: 'page', at: T0 + 30 * DAY + d * 60_000, path: '/late', title: 'Late' } as CairnEvent,
        { id: `late-${d}-b`, type: 'page', at: T0 - 40 * DAY, path: '/very-late', title: 'Late' } as CairnEvent,
      ];
      await store.ingest(site, deviceId, late, 'h');
    }
    await boundsMatchEvents();
    await sameReports();
  });

  it('retention narrows the bounds to what is left, down to none', async () => {
    // Devices with every event before the cutoff: the last ones' bounds become null.
    for (let d = 40; d < 45; d++)
      await store.ingest(
        site,
        `early-${d}`,
        [{ id: `early-${d}`, type: 'page', at: CUTOFF - DAY - d, path: '/e', title: 'E' } as CairnEvent],
        'h',
      );
    const before = await sameReports();
    let deleted = 0;
    for (let n = -1; n !== 0; deleted += n) n = await store.deleteEventsBefore(CUTOFF, 25);
    expect(deleted).toBeGreaterThan(25);
    await boundsMatchEvents();
    const after = await sameReports();
    // The first range's window starts before the cutoff: it lost visitors with their events.
    expect(after[0]).toBeLessThan(before[0]!);
  });

  it('an erasure empties the bounds of the user’s devices', async () => {
    expect(await store.deleteUser(site, 'erased-user')).toBe(true);
    await boundsMatchEvents();
    await sameReports();
  });
});

describe.each(makeStores())('migration 10 on $name', (db: TestDb) => {
  afterAll(() => db.cleanup());

  it('backfills the bounds of devices stored before it, and swaps events_at for the new indexes', async () => {
    const DEVICES = 6;
    // A database at version 9 with devices and events written by that version's collect.
    const rows: string[] = [];
    for (let d = 0; d < DEVICES; d++) {
      rows.push(
        `INSERT INTO devices (site, device_id, token_hash, created_at, last_seen_at) VALUES ('m', 'd${d}', 'h', 0, 0)`,
      );
      for (let i = 0; i <= d; i++)
        rows.push(
          `INSERT INTO events (site, id, device_id, type, at, body) VALUES ('m', 'e${d}-${i}', 'd${d}', 'page', ${T0 + (d + i * 7) * DAY}, '{}')`,
        );
    }
    await atSchemaVersion(db, 9, rows);
    const store = await db.open();
    const t = await db.tables();
    const devices = (t.devices ?? []).filter((d) => d.site === 'm');
    expect(devices).toHaveLength(DEVICES);
    for (const d of devices) {
      const n = Number(String(d.device_id).slice(1));
      expect([Number(d.first_event_at), Number(d.last_event_at)]).toEqual([T0 + n * DAY, T0 + (n + n * 7) * DAY]);
    }
    const indexes = await eventIndexes(db);
    expect(indexes).not.toContain('events_at');
    expect(indexes).toEqual(expect.arrayContaining(['events_report', 'events_day']));
    const [from, to] = [T0 + 5 * DAY, T0 + 40 * DAY];
    const o = { from, to, model: 'linear' as const };
    const expected = channelReport(await store.reportRows('m', from - LOOKBACK_MS, to), o);
    expect(channelReport(await store.reportData('m', from - LOOKBACK_MS, from, to), o)).toEqual(expected);
    expect(expected.totals.visitors).toBe(DEVICES - 1);
  });
});

/** The names of the indexes on `events`. */
async function eventIndexes(db: TestDb): Promise<string[]> {
  if (db.name === 'sqlite') {
    const raw = new Database(db.options.sqlitePath!, { readonly: true });
    try {
      return raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")
        .pluck()
        .all() as string[];
    } finally {
      raw.close();
    }
  }
  const raw = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
  try {
    const rows = await raw<{ indexname: string }[]>`
      SELECT indexname FROM pg_indexes WHERE schemaname = ${db.options.pgSchema!} AND tablename = 'events'`;
    return rows.map((r) => r.indexname);
  } finally {
    await raw.end();
  }
}
