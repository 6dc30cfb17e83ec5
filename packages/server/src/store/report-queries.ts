import type { ReportData, ReportDevice } from './types.js';
import { REPORT_INDEX_WHERE } from './migrations.js';
import { asKind, jsonColumn, orderConfirmationFromRow, type ReportRowsRead } from './rows.js';
import { REPORT_BODY_TYPES } from './types.js';

// The reports' reads (Store.reportData), in SQL both databases run as written: aggregates instead of
// page views. Parameters are named (@site, @readFrom, @from, @to); postgres.ts numbers them ($1…).
//
// Plans (test/reports-in-db.test.ts prints them with SHOW_PLANS=1 and asserts that no query reads the
// site's whole events table):
//   events     SQLite: SEARCH events USING INDEX events_report (site=? AND at>? AND at<?)
//              PG: Index Scan using events_report (a partial index of every event but page views)
//   activity   SQLite: SEARCH d USING INDEX devices_activity (site=? AND last_event_at>?); the devices
//              whose bounds pass an edge of the range, SEARCH e USING COVERING INDEX events_device_type_at
//              (site=? AND device_id=?): each one's own rows, whatever their time
//              PG: Index Scan using devices_activity; the same edge searches (Index Only Scan)
//   optins     SEARCH optins USING INDEX optins_at (site=? AND at>? AND at<?)
//   claims     the orders gathered from `events` and `confirmedOrders` (@orderIds), their claims through events_order
//   devices    primary key of devices (joined to the activity too), the unions above, links_user for the link time

/**
 * The orders claimed or confirmed in the window (all their claims are read, whatever their time),
 * as a JSON array the reader gathers from the `events` and `confirmedOrders` rows: found once
 * rather than by each query that needs them (on SQLite each search of the window's purchases walks
 * the window's index). PostgreSQL reads it with jsonb_array_elements_text (see `numbered`).
 */
const ORDER_IDS = 'SELECT value FROM json_each(@orderIds)';

/** When the device `d` was linked to its user. */
const LINKED_AT = `(SELECT min(l.at) FROM links l WHERE l.site = d.site AND l.device_id = d.device_id AND l.user_id = d.user_id AND l.action = 'linked')`;

/** The types the reports read by body, as SQL. */
const REPORT_TYPES_IN = `type IN (${REPORT_BODY_TYPES.map((t) => `'${t}'`).join(', ')})`;

export const REPORT_QUERIES = {
  events: `SELECT id, device_id, type, at, device, body, order_id FROM events
    WHERE site = @site AND at >= @readFrom AND at < @to AND ${REPORT_INDEX_WHERE} AND ${REPORT_TYPES_IN}
    ORDER BY at, id`,
  // Each device's first event in the window, and its first and last in the range, from the bounds
  // its row keeps (devices.first_event_at, last_event_at: its stored events' first and last time).
  // A device whose bounds lie inside the range needs nothing more; one whose first event is before
  // the range, or whose last is past its end, has its events read once (`edge`, through
  // events_device_type_at: its own rows, not the window's), and drops out if none is in the window.
  // CROSS JOIN keeps `c` the outer loop on SQLite, which would otherwise walk the site's events.
  // Devices whose first events share a millisecond are ordered by the first one's id, found for them
  // alone (`id || ''`: a bare min(id) has SQLite walk the site's primary key in id order instead).
  activity: `WITH c AS MATERIALIZED (
      SELECT d.device_id, d.kind, d.user_id, d.first_event_at, d.last_event_at, ${LINKED_AT} AS linked_at
      FROM devices d WHERE d.site = @site AND d.last_event_at >= @readFrom AND d.first_event_at < @to),
    edge AS MATERIALIZED (
      SELECT c.device_id, min(e.at) AS first_at, min(CASE WHEN e.at >= @from THEN e.at END) AS first_in_range,
        max(e.at) AS last_at
      FROM c CROSS JOIN events e
      WHERE (c.first_event_at < @from OR c.last_event_at >= @to)
        AND e.site = @site AND e.device_id = c.device_id AND e.at >= @readFrom AND e.at < @to
      GROUP BY c.device_id),
    a AS MATERIALIZED (
      SELECT c.device_id, c.kind, c.user_id, c.linked_at,
        c.first_event_at AS first_at, c.first_event_at AS first_in_range, c.last_event_at AS last_at
      FROM c WHERE c.first_event_at >= @from AND c.last_event_at < @to
      UNION ALL
      SELECT c.device_id, c.kind, c.user_id, c.linked_at, edge.first_at, edge.first_in_range, edge.last_at
      FROM c JOIN edge ON edge.device_id = c.device_id),
    tied AS (SELECT first_at FROM a GROUP BY first_at HAVING count(*) > 1)
    SELECT a.device_id, a.first_in_range, a.last_at,
      CASE WHEN a.first_at IN (SELECT first_at FROM tied) THEN
        (SELECT min(e.id || '') FROM events e WHERE e.site = @site AND e.device_id = a.device_id AND e.at = a.first_at) END AS first_id,
      a.kind, a.user_id, a.linked_at
    FROM a ORDER BY a.first_at, first_id`,
  optins: `SELECT id, device_id, at, prompt_id FROM optins WHERE site = @site AND at >= @readFrom AND at < @to ORDER BY at, id`,
  confirmedOrders: `SELECT order_id FROM order_confirmations WHERE site = @site AND confirmed_at >= @readFrom AND confirmed_at < @to`,
  // From here on, the queries read @orderIds: the orders of the rows above.
  orderClaims: `SELECT id, order_id, device_id, at, received_seq, body FROM events
    WHERE site = @site AND order_id IS NOT NULL AND order_id IN (${ORDER_IDS}) ORDER BY received_seq`,
  orderConfirmations: `SELECT order_id, value, currency, device_id, confirmed_at FROM order_confirmations
    WHERE site = @site AND order_id IN (${ORDER_IDS}) ORDER BY order_id`,
  // The devices with an opt-in in the window, or behind a claim or confirmation; those with events
  // come with their activity (reportRows lists both).
  devices: `SELECT d.device_id, d.kind, d.user_id, ${LINKED_AT} AS linked_at
    FROM devices d WHERE d.site = @site AND d.device_id IN (
      SELECT device_id FROM optins WHERE site = @site AND at >= @readFrom AND at < @to
      UNION SELECT device_id FROM events WHERE site = @site AND order_id IN (${ORDER_IDS})
      UNION SELECT device_id FROM order_confirmations WHERE site = @site AND device_id IS NOT NULL AND order_id IN (${ORDER_IDS}))
    ORDER BY d.device_id`,
} as const;

export type ReportQueryName = keyof typeof REPORT_QUERIES;

export interface ReportParams {
  site: string;
  readFrom: number;
  from: number;
  to: number;
  /** JSON array of the window's order ids (ORDER_IDS); the reader fills it in before the queries that read it. */
  orderIds?: string;
}

/**
 * An `activity` row as both databases return it. Every device with events has its `devices` row (a
 * collect makes it before it stores any event), which holds the bounds the activity is read from.
 */
export interface ActivityRow {
  device_id: string;
  first_in_range: number | null;
  last_at: number;
  first_id: string | null;
  kind: string | null;
  user_id: string | null;
  linked_at: number | null;
}

/** The rows of every REPORT_QUERIES query, by name. */
export type ReportReads = Omit<ReportRowsRead, 'events'> & {
  events: (ReportRowsRead['events'][number] & { order_id: string | null })[];
  activity: ActivityRow[];
  confirmedOrders: { order_id: string }[];
};

/** The query with PostgreSQL's numbered parameters, and its arguments in their order. */
export function numbered(sql: string, p: ReportParams): { text: string; args: (string | number)[] } {
  const names: (keyof ReportParams)[] = [];
  const pg = sql.replaceAll('json_each(@orderIds)', 'jsonb_array_elements_text(@orderIds::text::jsonb)');
  const text = pg.replace(/@(site|readFrom|from|to|orderIds)\b/g, (_, name: keyof ReportParams) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return { text, args: names.map((n) => p[n] ?? '[]') };
}

/**
 * Shapes the rows of every REPORT_QUERIES query into ReportData as they stream in, one row at a
 * time: no array of raw rows is ever held beside the shaped ones. Rows must come query by query in
 * REPORT_QUERIES' order (the devices list keeps the activity's order, as reportRows' did).
 */
export function reportDataBuilder(from: number): {
  add: { [Q in ReportQueryName]: (row: ReportReads[Q][number]) => void };
  /** ORDER_IDS, once the `events` and `confirmedOrders` rows are in. */
  orderIds(): string;
  finish(): ReportData;
} {
  const orders = new Set<string>();
  const data: ReportData = {
    activity: [],
    devices: [],
    events: [],
    optins: [],
    orderClaims: [],
    orderConfirmations: [],
  };
  // The devices of the activity, and those of opt-ins and orders without events, once each.
  const devices = new Map<string, ReportDevice>();
  const device = (d: ReportRowsRead['devices'][number]) =>
    devices.set(d.device_id, {
      deviceId: d.device_id,
      kind: asKind(d.kind),
      userId: d.user_id,
      linkedAt: d.user_id === null ? null : d.linked_at,
    });
  // The same shapes as reportRowsFromRows (rows.ts), built one row at a time, with only the props
  // the reports read (reportProps).
  return {
    add: {
      events: (e) => {
        if (e.type === 'purchase' && e.order_id !== null) orders.add(e.order_id);
        data.events.push({
          id: e.id,
          deviceId: e.device_id,
          type: e.type,
          at: e.at,
          device: asKind(e.device),
          props: reportProps(e.body),
        });
      },
      activity: (a) => {
        data.activity.push({
          deviceId: a.device_id,
          firstInRange: a.first_in_range,
          lastInRange: a.last_at >= from ? a.last_at : null,
        });
        device(a);
      },
      optins: (o) => void data.optins.push({ id: o.id, deviceId: o.device_id, at: o.at, promptId: o.prompt_id }),
      confirmedOrders: (c) => void orders.add(c.order_id),
      orderClaims: (c) =>
        void data.orderClaims.push({
          id: c.id,
          orderId: c.order_id,
          deviceId: c.device_id,
          at: c.at,
          seq: c.received_seq,
          props: reportProps(c.body),
        }),
      orderConfirmations: (c) => void data.orderConfirmations.push(orderConfirmationFromRow(c)),
      devices: device,
    },
    orderIds: () => JSON.stringify([...orders]),
    finish() {
      data.devices = [...devices.values()];
      return data;
    },
  };
}

/** The props reports/*.ts read of an event; `touch` only with the channel and source attribution reads. */
const REPORT_PROPS = ['orderId', 'value', 'currency', 'preview', 'variant', 'prompt', 'device'] as const;

/**
 * An event's props as the reports read them: a touch's landing path, medium and the rest of the
 * body stay behind, so a million-event window keeps a few small objects per touch, not its JSON.
 */
export function reportProps(body: unknown): Record<string, unknown> {
  const all = jsonColumn(body) as Record<string, unknown> | null;
  const props: Record<string, unknown> = {};
  if (!all) return props;
  for (const k of REPORT_PROPS) if (all[k] !== undefined) props[k] = all[k];
  const t = all.touch;
  if (t && typeof t === 'object') {
    const { channel, source } = t as Record<string, unknown>;
    props.touch = { channel, source };
  }
  return props;
}

const QUERY_NAMES = Object.keys(REPORT_QUERIES) as ReportQueryName[];
/** The first query that reads @orderIds: every query before it has given its rows. */
const ORDERS_FROM: ReportQueryName = 'orderClaims';

/** The SQLite connection's part the reader needs (better-sqlite3's Database). */
export interface SqliteReader {
  prepare(sql: string): { iterate(params: ReportParams): IterableIterator<unknown> };
  transaction<T>(fn: () => T): () => T;
}

/** Store.reportData on SQLite: every query in one read transaction (one snapshot), rows streamed. */
export function readReportDataSqlite(db: SqliteReader, p: ReportParams): ReportData {
  return db.transaction(() => {
    const b = reportDataBuilder(p.from);
    let params = p;
    for (const name of QUERY_NAMES) {
      if (name === ORDERS_FROM) params = { ...p, orderIds: b.orderIds() };
      const add = b.add[name] as (row: unknown) => void;
      for (const row of db.prepare(REPORT_QUERIES[name]).iterate(params)) add(row);
    }
    return b.finish();
  })();
}

/** The PostgreSQL client's part the reader needs (the `postgres` driver's Sql). */
export interface PgReader {
  begin<T>(options: string, fn: (tx: PgReaderTx) => Promise<T>): Promise<T>;
}
export interface PgReaderTx {
  unsafe(text: string, args: (string | number)[]): { forEach(cb: (row: unknown) => void): Promise<unknown> };
}

/** Store.reportData on PostgreSQL: one REPEATABLE READ snapshot, rows streamed one at a time. */
export async function readReportDataPg(sql: PgReader, p: ReportParams): Promise<ReportData> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const b = reportDataBuilder(p.from);
    let params = p;
    for (const name of QUERY_NAMES) {
      if (name === ORDERS_FROM) params = { ...p, orderIds: b.orderIds() };
      const { text, args } = numbered(REPORT_QUERIES[name], params);
      await tx.unsafe(text, args).forEach(b.add[name] as (row: unknown) => void);
    }
    return b.finish();
  });
}
