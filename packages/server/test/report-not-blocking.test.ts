// A report never blocks ingestion on SQLite: its reads run in a worker thread on their own read-only
// connection (WAL: they read one snapshot while the main connection writes), so collects are
// answered while a report over a large window is still reading. Asserted by order and by count,
// never by time: collects sent after the report started complete before it does.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteDb, type TestDb } from './helpers/db.js';
import { admin, bearer, clientToken, harness, id, pageEvent, SITE, type Harness } from './helpers/http.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const DEVICES = 20_000;
const EVENTS = 300_000;

/** Writes EVENTS page views and touches of DEVICES devices over 30 days straight into the file: fast. */
function seed(path: string): void {
  const db = new Database(path);
  try {
    const device = db.prepare(
      'INSERT INTO devices (site, device_id, token_hash, kind, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const event = db.prepare(
      `INSERT INTO events (site, id, device_id, type, at, channel, device, body, received_seq)
       VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
    );
    db.transaction(() => {
      for (let d = 0; d < DEVICES; d++) device.run(SITE, `seed-device-${d}`, 'h', 'mobile', T0, T0);
      for (let i = 0; i < EVENTS; i++) {
        const touch = i % 10 === 0;
        const channel = ['Email', 'Paid Search', 'Direct'][i % 3] as string;
        event.run(
          SITE,
          `seed-event-${i.toString().padStart(8, '0')}`,
          `seed-device-${(i * 7919) % DEVICES}`,
          touch ? 'touch' : 'page',
          T0 + Math.floor((i / EVENTS) * 30 * DAY),
          touch ? channel : null,
          touch
            ? JSON.stringify({ touch: { channel, source: 'x', medium: 'x', landingPath: '/', at: T0 } })
            : '{"path":"/p","title":"P"}',
          i + 1,
        );
      }
      // The devices' bounds, as collect keeps them (migration 10): the reports' activity reads them.
      db.exec(`UPDATE devices SET (first_event_at, last_event_at) =
        (SELECT min(at), max(at) FROM events e WHERE e.site = devices.site AND e.device_id = devices.device_id)`);
    })();
  } finally {
    db.close();
  }
}

describe('a report on SQLite does not hold collects', () => {
  const db: TestDb = sqliteDb();
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
    seed(db.options.sqlitePath as string);
  }, 120_000);
  afterAll(() => db.cleanup());

  it('collects sent after a report started over a large window complete before it', async () => {
    const order: string[] = [];
    const report = h
      .req('GET', `/v1/reports/channels?site=${SITE}&from=${T0 + DAY}&to=${T0 + 30 * DAY}&model=linear`, {
        headers: admin,
      })
      .then(async (res) => {
        order.push('report');
        return res;
      });
    // Collects one after the other until the report answers.
    const deviceId = id();
    const token = clientToken();
    let collects = 0;
    while (!order.includes('report') && collects < 200) {
      const res = await h.req('POST', '/v1/collect', {
        body: { site: SITE, deviceId, events: [pageEvent({ at: T0 + 2 * DAY })] },
        headers: bearer(token),
      });
      expect(res.status).toBe(202);
      order.push('collect');
      collects++;
    }
    const res = await report;
    expect(res.status).toBe(200);
    // The report read the whole seeded window: every seeded device visited in the range.
    const body = (await res.json()) as { totals: { visitors: number } };
    expect(body.totals.visitors).toBeGreaterThanOrEqual(DEVICES * 0.9);
    // The first collect came back before the report, and several more did while it was reading.
    expect(order[0]).toBe('collect');
    expect(order.indexOf('report')).toBeGreaterThanOrEqual(3);
  });
});
