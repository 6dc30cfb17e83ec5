// Section 7: the reports at scale, computed in the database. For SQLite and PostgreSQL, a site with 100k and 1M
// events in a 30-day range (page views, touches, purchases, exposures; one device per 10 events,
// every tenth one linked to a user), written straight into the store's own schema:
// - the channels report (linear model) computed as before, from Store.reportRows (every event into
//   JS), and as now, by Store.computeReport (aggregates read and the report computed in the store's
//   worker thread), each in a process of its own: time and the peak resident memory it added;
// - collect's p99 on a Cairn server over that database, alone and while reports run back to back.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadServer } from './cairn.mjs';
import { dropSchema, PG_URL, pgClient, schemaName } from './pg.mjs';
import { BENCH_DIR } from './paths.mjs';
import { table } from './report.mjs';
import { NO_REFUSALS, SITE, cannon, collectRequests, primeDevices, spawnServer } from './server.mjs';
import { fmt, fmtInt, median } from './stats.mjs';
import { tmpDir } from './tmp.mjs';

const DAY = 86_400_000;
/** The reported range: 30 days ending here; the events fill it. */
const TO = Date.UTC(2026, 0, 31);
const FROM = TO - 30 * DAY;
/** The report targets: under 1 s and 100 MB at 1M events; collect's p99 at most doubled during reports. */
export const REPORT_TARGETS = { channelsMs: 1000, extraMB: 100, p99Ratio: 2 };

// Event i of n: its device, time and type, the same in both dialects. One in ten is a touch, one in
// a hundred a purchase, one in a hundred an exposure; the rest are page views.
const columns = (i, n) => ({
  device: `'d' || ((${i} * 7919) % (${n} / 10))`,
  at: `${FROM} + (${i} * ${30 * DAY} / ${n})`,
  kind: `(${i} % 100)`,
});

export function sqliteSeed(file, n) {
  const Database = requireFromServer('better-sqlite3');
  const db = new Database(file);
  try {
    const c = columns('i', n);
    db.exec(`
      WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})
      INSERT INTO events (site, id, device_id, type, at, channel, body, received_seq, order_id)
      SELECT '${SITE}', 'e' || i, ${c.device}, ${typeSql(c.kind)}, ${c.at},
        CASE WHEN ${c.kind} < 10 THEN ${channelSql('i')} END, ${bodySql('i', c.kind)}, i,
        CASE WHEN ${c.kind} = 10 THEN 'o' || i END
      FROM s;
      WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n / 10 - 1})
      INSERT INTO devices (site, device_id, token_hash, kind, created_at, last_seen_at, user_id)
      SELECT '${SITE}', 'd' || i, 'h', 'mobile', ${FROM}, ${FROM}, CASE WHEN i % 10 = 0 THEN 'u' || (i / 30) END FROM s;
      INSERT INTO links (site, device_id, user_id, at, action) SELECT site, device_id, user_id, ${FROM}, 'linked'
        FROM devices WHERE site = '${SITE}' AND user_id IS NOT NULL;
      -- The devices' bounds, as collect keeps them (migration 10).
      UPDATE devices SET (first_event_at, last_event_at) =
        (SELECT min(at), max(at) FROM events e WHERE e.site = devices.site AND e.device_id = devices.device_id)
        WHERE site = '${SITE}';
      UPDATE sequences SET value = ${n} WHERE name = 'events_received';`);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

export async function pgSeed(sql, schema, n) {
  const c = columns('i', n);
  await sql.unsafe(`SET search_path TO ${schema}`);
  await sql.unsafe(`
    INSERT INTO events (site, id, device_id, type, at, channel, body, received_seq, order_id)
    SELECT '${SITE}', 'e' || i, ${c.device}, ${typeSql(c.kind)}, ${c.at},
      CASE WHEN ${c.kind} < 10 THEN ${channelSql('i')} END, (${bodySql('i', c.kind)})::jsonb, i,
      CASE WHEN ${c.kind} = 10 THEN 'o' || i END
    FROM generate_series(1::bigint, ${n}) i`);
  await sql.unsafe(`
    INSERT INTO devices (site, device_id, token_hash, kind, created_at, last_seen_at, user_id)
    SELECT '${SITE}', 'd' || i, 'h', 'mobile', ${FROM}, ${FROM}, CASE WHEN i % 10 = 0 THEN 'u' || (i / 30) END
    FROM generate_series(0, ${n / 10 - 1}) i`);
  await sql.unsafe(`INSERT INTO links (site, device_id, user_id, at, action)
    SELECT site, device_id, user_id, ${FROM}, 'linked' FROM devices WHERE site = '${SITE}' AND user_id IS NOT NULL`);
  // The devices' bounds, as collect keeps them (migration 10).
  await sql.unsafe(`UPDATE devices d SET first_event_at = b.first_at, last_event_at = b.last_at
    FROM (SELECT device_id, min(at) AS first_at, max(at) AS last_at FROM events WHERE site = '${SITE}' GROUP BY device_id) b
    WHERE d.site = '${SITE}' AND d.device_id = b.device_id`);
  await sql.unsafe(`VACUUM ANALYZE ${schema}.events`);
  await sql.unsafe(`ANALYZE ${schema}.devices`);
}

const typeSql = (kind) =>
  `CASE WHEN ${kind} < 10 THEN 'touch' WHEN ${kind} = 10 THEN 'purchase' WHEN ${kind} = 11 THEN 'variant_applied' ELSE 'page' END`;
const channelSql = (i) =>
  `CASE (${i} / 100) % 4 WHEN 0 THEN 'Email' WHEN 1 THEN 'Paid Search' WHEN 2 THEN 'Organic Social' ELSE 'Direct' END`;
function bodySql(i, kind) {
  const cat = (...parts) => parts.join(' || ');
  return `CASE WHEN ${kind} < 10 THEN ${cat(`'{"touch":{"channel":"'`, channelSql(i), `'","source":"s","medium":"m","landingPath":"/","at":0}}'`)}
    WHEN ${kind} = 10 THEN ${cat(`'{"orderId":"o'`, i, `'","value":'`, `(${i} % 200)`, `',"currency":"EUR"}'`)}
    WHEN ${kind} = 11 THEN '{"variant":"v1"}'
    ELSE '{"path":"/p","title":"P"}' END`;
}

function requireFromServer(name) {
  return createRequire(join(BENCH_DIR, '../packages/server/package.json'))(name);
}

/** One report in a child process (report-child.mjs). */
function runChild(spec) {
  const out = execFileSync(process.execPath, [join(BENCH_DIR, 'lib/report-child.mjs'), JSON.stringify(spec)], {
    encoding: 'utf8',
    maxBuffer: 1e6,
  });
  return JSON.parse(out);
}

/** Collect's p99 alone, then while reports run back to back over HTTP. */
async function collectUnderReports(storeOptions, o) {
  const server = await spawnServer({
    kind: 'cairn',
    options: { ...storeOptions, config: { site: SITE, origins: [] }, rateLimit: NO_REFUSALS, adminKey: ADMIN },
  });
  try {
    const devices = await primeDevices(server.url, `rep${process.pid}`);
    const alone = await cannon({ ...o, url: server.url, requests: collectRequests(devices, 'alone') });
    let running = true;
    let reports = 0;
    const loop = (async () => {
      while (running) {
        const res = await fetch(`${server.url}/v1/reports/channels?site=${SITE}&from=${FROM}&to=${TO}&model=linear`, {
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        await res.arrayBuffer();
        if (res.status === 200) reports++;
      }
    })();
    const during = await cannon({ ...o, warmup: 0, url: server.url, requests: collectRequests(devices, 'during') });
    running = false;
    await loop;
    return { alone, during, reports };
  } finally {
    await server.stop();
  }
}
const ADMIN = 'bench-reports-admin-key-0123456789abcdef';

export async function reportsSection({ sizes = [100_000, 1_000_000], duration = 5, connections = 10, runs = 2 } = {}) {
  await loadServer();
  const { openStore } = await import('@cairn/server');
  const rows = [];
  const headline = {};
  const stores = [
    {
      name: 'SQLite',
      open: async (label) => {
        const file = join(tmpDir(`reports-${label}`), 'cairn.db');
        await (await openStore({ sqlitePath: file })).close();
        return {
          storeOptions: { sqlitePath: file },
          serverOptions: { db: file },
          seed: (n) => sqliteSeed(file, n),
          drop: async () => {},
        };
      },
    },
    {
      name: 'PostgreSQL',
      open: async (label) => {
        const schema = schemaName(`reports_${label}`);
        const sql = await pgClient();
        await dropSchema(sql, schema);
        await (await openStore({ databaseUrl: PG_URL, pgSchema: schema })).close();
        return {
          storeOptions: { databaseUrl: PG_URL, pgSchema: schema },
          serverOptions: { databaseUrl: PG_URL, pgSchema: schema },
          seed: (n) => pgSeed(sql, schema, n),
          drop: async () => {
            await dropSchema(sql, schema);
            await sql.end({ timeout: 5 });
          },
        };
      },
    },
  ];
  for (const s of stores) {
    for (const n of sizes) {
      const db = await s.open(`${s.name}_${n}`.toLowerCase());
      try {
        await db.seed(n);
        const spec = (path) => ({ store: db.storeOptions, path, site: SITE, from: FROM, to: TO, runs });
        const before = runChild(spec('old'));
        const now = runChild(spec('new'));
        if (before.visitors !== now.visitors) throw new Error(`${s.name} ${n}: the two paths disagree on visitors`);
        // Collect under reports on the largest window only: it is the one the target is about.
        const load =
          n === sizes[sizes.length - 1]
            ? await collectUnderReports(db.serverOptions, { duration, connections, warmup: 1 })
            : null;
        const ms = median(now.ms);
        rows.push([
          s.name,
          fmtInt(n),
          fmtInt(now.visitors),
          `${fmt(median(before.ms), 0)} ms / ${fmt(before.extraMB, 0)} MB`,
          `${fmt(ms, 0)} ms / ${fmt(now.extraMB, 0)} MB`,
          load ? `${fmt(load.alone.p99, 0)} → ${fmt(load.during.p99, 0)} ms (${load.reports} reports)` : '–',
        ]);
        headline[`${s.name} ${n}`] = {
          ms,
          extraMB: now.extraMB,
          ...(load ? { p99Ratio: load.during.p99 / Math.max(1, load.alone.p99) } : {}),
        };
      } finally {
        await db.drop();
      }
    }
  }
  // The targets, read on the largest SQLite row (where the issue sets them), and collect's p99 on
  // PostgreSQL too (where the report's JS used to share the event loop with collects).
  const big = headline[`SQLite ${sizes[sizes.length - 1]}`];
  const bigPg = headline[`PostgreSQL ${sizes[sizes.length - 1]}`];
  const checks = big
    ? [
        [
          'channels report, SQLite',
          `${fmt(big.ms, 0)} ms`,
          `< ${REPORT_TARGETS.channelsMs} ms`,
          big.ms < REPORT_TARGETS.channelsMs,
        ],
        [
          'memory added, SQLite',
          `${fmt(big.extraMB, 0)} MB`,
          `≤ ${REPORT_TARGETS.extraMB} MB`,
          big.extraMB <= REPORT_TARGETS.extraMB,
        ],
        [
          'collect p99 during ÷ alone, SQLite',
          fmt(big.p99Ratio, 2),
          `≤ ${REPORT_TARGETS.p99Ratio}`,
          big.p99Ratio <= REPORT_TARGETS.p99Ratio,
        ],
        ...(bigPg?.p99Ratio !== undefined
          ? [
              [
                'collect p99 during ÷ alone, PostgreSQL',
                fmt(bigPg.p99Ratio, 2),
                `≤ ${REPORT_TARGETS.p99Ratio}`,
                bigPg.p99Ratio <= REPORT_TARGETS.p99Ratio,
              ],
            ]
          : []),
      ]
    : [];
  const body = [
    `The channels report (linear model) over a 30-day range holding the events, read with its 30-day lookback, ${runs} runs each in a fresh process: ` +
      "median time, and the peak resident memory the runs added to that process (PostgreSQL's own memory is not in it). " +
      '"before": Store.reportRows, every event of the window into JS, as before reports moved into the database; "now": Store.computeReport, activity aggregated in the database, ' +
      `read and computed in the store's worker thread (its own connection), only the report sent back. collect p99: autocannon ${connections} connections, ${duration} s, alone and then while reports run back to back over HTTP on the same server.`,
    '',
    table(
      [
        'store',
        'events in range',
        'visitors',
        'before: time / memory',
        'now: time / memory',
        'collect p99 alone → during reports',
      ],
      rows,
    ),
    '',
    table(
      [`target, ${fmtInt(sizes[sizes.length - 1])} events`, 'value', 'target', 'met'],
      checks.map(([label, value, target, met]) => [label, value, target, met ? 'yes' : 'NO']),
    ),
  ].join('\n');
  return { title: '7. Reports', body, headline: { ...headline, checks } };
}
