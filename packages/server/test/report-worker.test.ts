// Store.computeReport runs a report where its rows are read: in a worker thread with its own
// connection, on PostgreSQL as on SQLite. The thread that serves collects only waits for the
// finished report: over a window of 200k events its event loop stays idle for most of the report
// (its utilisation, a ratio of its own busy time, not a duration), where reading the rows and
// attributing them on it keeps it busy for most of it. Closing the store stops the worker; a dropped
// connection costs no report; a worker that cannot start rejects with an Error that names why.
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelReport, LOOKBACK_MS } from '../src/reports/index.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import { PG_TEST_URL, postgresDb, type TestDb } from './helpers/db.js';

const DAY = 86_400_000;
const TO = Date.UTC(2026, 0, 31);
const FROM = TO - 30 * DAY;
const N = 200_000;
const site = 'worker';

/** N page views, touches and purchases of N / 10 devices over the range, written by the database itself. */
async function seed(schema: string): Promise<void> {
  const sql = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
  try {
    await sql.unsafe(`SET search_path TO ${schema}`);
    const kind = '(i % 100)';
    const channel = `CASE (i / 100) % 3 WHEN 0 THEN 'Email' WHEN 1 THEN 'Paid Search' ELSE 'Direct' END`;
    await sql.unsafe(`
      INSERT INTO events (site, id, device_id, type, at, channel, body, received_seq, order_id)
      SELECT '${site}', 'e' || i, 'd' || ((i * 7919) % ${N / 10}),
        CASE WHEN ${kind} < 10 THEN 'touch' WHEN ${kind} = 10 THEN 'purchase' ELSE 'page' END,
        ${FROM} + (i * ${30 * DAY} / ${N}), CASE WHEN ${kind} < 10 THEN ${channel} END,
        (CASE WHEN ${kind} < 10 THEN '{"touch":{"channel":"' || ${channel} || '","source":"s"}}'
          WHEN ${kind} = 10 THEN '{"orderId":"o' || i || '","value":' || (i % 200) || ',"currency":"EUR"}'
          ELSE '{"path":"/p"}' END)::jsonb,
        i, CASE WHEN ${kind} = 10 THEN 'o' || i END
      FROM generate_series(1::bigint, ${N}) i`);
    // Their devices, with the bounds collect keeps (migration 10): the reports' activity reads them.
    await sql.unsafe(`
      INSERT INTO devices (site, device_id, token_hash, created_at, last_seen_at, first_event_at, last_event_at)
      SELECT site, device_id, 'h', min(at), max(at), min(at), max(at) FROM events GROUP BY site, device_id`);
    await sql.unsafe(`VACUUM ANALYZE ${schema}.events`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

describe('a report on PostgreSQL runs off the thread serving requests', () => {
  const db: TestDb = postgresDb();
  let store: Store;
  beforeAll(async () => {
    store = await db.open();
    await seed(db.options.pgSchema as string);
  }, 120_000);
  afterAll(() => db.cleanup());

  it('the main event loop stays mostly idle while the worker reads and attributes the window', async () => {
    const options = { from: FROM, to: TO, model: 'linear' as const };
    // A first report starts the worker (module loading is not the report's work).
    await store.computeReport({ report: 'channels', site, options: { ...options, to: FROM + 1 } });
    const start = performance.eventLoopUtilization();
    const report = await store.computeReport({ report: 'channels', site, options });
    const used = performance.eventLoopUtilization(start);
    expect(report.totals.visitors).toBe(N / 10);
    expect(report.totals.orders).toBeGreaterThan(0);
    // The same report computed on this thread, as the routes did before: it keeps it busy.
    const here = performance.eventLoopUtilization();
    const expected = channelReport(await store.reportData(site, FROM - LOOKBACK_MS, FROM, TO), options);
    const busy = performance.eventLoopUtilization(here);
    expect(report).toEqual(expected);
    expect(busy.utilization).toBeGreaterThan(0.5);
    expect(used.utilization).toBeLessThan(0.25);
  });

  it('a report after its connection was dropped (a PostgreSQL restart) reconnects and answers', async () => {
    const request = { report: 'channels', site, options: { from: FROM, to: FROM + DAY, model: 'last' } } as const;
    const before = await store.computeReport(request);
    const sql = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
    try {
      const ended = await sql<{ ended: boolean }[]>`
        SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
        WHERE application_name = ${`cairn-reports:${db.options.pgSchema as string}`}`;
      expect(ended.map((r) => r.ended)).toEqual([true]);
    } finally {
      await sql.end({ timeout: 5 });
    }
    expect(await store.computeReport(request)).toEqual(before);
    expect(await store.computeReport(request)).toEqual(before);
  });

  it('closing the store ends the worker and its connection', async () => {
    const other = await db.open();
    await other.computeReport({ report: 'channels', site, options: { from: FROM, to: FROM + DAY, model: 'last' } });
    const sql = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
    try {
      const sessions = async () =>
        Number(
          (await sql<{ n: string }[]>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()`)[0]
            ?.n,
        );
      const open = await sessions();
      await other.close();
      // The store's pool and the worker's own connection are gone: fewer sessions than before.
      expect(await sessions()).toBeLessThan(open);
      await expect(
        other.computeReport({ report: 'channels', site, options: { from: FROM, to: FROM + DAY, model: 'last' } }),
      ).rejects.toThrow();
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe('a report worker that cannot start', () => {
  it('rejects with an Error naming the cause, and the next report starts a new worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-worker-'));
    const file = join(dir, 'cairn.db');
    const store = await openStore({ sqlitePath: file });
    try {
      const request = { report: 'channels', site, options: { from: FROM, to: FROM + DAY, model: 'last' } } as const;
      // The file moved away before the first report: the worker's read-only connection cannot open.
      renameSync(file, `${file}.moved`);
      const failed = store.computeReport(request);
      await expect(failed).rejects.toBeInstanceOf(Error);
      await expect(failed).rejects.toThrow(/SQLITE_CANTOPEN/);
      renameSync(`${file}.moved`, file);
      expect((await store.computeReport(request)).channels).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
