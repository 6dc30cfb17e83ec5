// Section 5: how profile reads and storage grow with history. One user, five linked devices, and
// 1k, 10k then 100k events ingested through the store; at each level the merged profile is read over
// HTTP (GET /v1/profile with one device's token) and the store's size is taken.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { collectBodyJson, eventId, historyEvent } from './events.mjs';
import { PG_URL, analyzeSchema, dropSchema, pgClient, schemaBytes, schemaName } from './pg.mjs';
import { loadServer } from './cairn.mjs';
import { ROOT } from './paths.mjs';
import { table } from './report.mjs';
import { fmt, fmtBytes, fmtInt, fmtKB, quantile, median } from './stats.mjs';
import { tmpDir } from './tmp.mjs';

const SITE = 'bench';
const USER = 'bench-user';
const KINDS = ['mobile', 'desktop', 'desktop', 'mobile', 'desktop'];
const BATCH = 100;
/** Reads per level: up to READS, but no more than READ_BUDGET_MS of reading (and never fewer than MIN_READS). */
const READS = 100;
const MIN_READS = 20;
const READ_BUDGET_MS = 2500;

/** Logical size of a SQLite database (pages in use, WAL included), read on its own connection. */
function sqliteBytes(file) {
  const Database = createRequire(join(ROOT, 'packages/server/package.json'))('better-sqlite3');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const pages = db.pragma('page_count', { simple: true });
    const free = db.pragma('freelist_count', { simple: true });
    const size = db.pragma('page_size', { simple: true });
    return (pages - free) * size;
  } finally {
    db.close();
  }
}

/** Times sequential profile reads after a short warm-up, bounded in count and time. */
async function readProfile(url, device) {
  const request = () =>
    fetch(`${url}/v1/profile?site=${SITE}&deviceId=${device.deviceId}`, {
      headers: { authorization: `Bearer ${device.token}` },
    });
  const get = async () => {
    const t = performance.now();
    // A kept-alive connection can be closed by the server just as it is reused (after the long ingest
    // between levels): the GET is retried once on a fresh connection.
    const res = await request().catch((e) => (e?.cause?.code === 'ECONNRESET' ? request() : Promise.reject(e)));
    const text = await res.text();
    const ms = performance.now() - t;
    if (res.status !== 200) throw new Error(`GET /v1/profile answered ${res.status}: ${text.slice(0, 200)}`);
    return { ms, text };
  };
  for (let i = 0; i < 5; i++) await get();
  const times = [];
  let last = '';
  const t0 = performance.now();
  for (let i = 0; i < READS && (i < MIN_READS || performance.now() - t0 < READ_BUDGET_MS); i++) {
    const r = await get();
    times.push(r.ms);
    last = r.text;
  }
  const p = JSON.parse(last);
  return {
    reads: times.length,
    p50: median(times),
    p95: quantile(times, 0.95),
    bytes: Buffer.byteLength(last),
    pageViews: p.pageViews?.length ?? NaN,
    products: p.products?.length ?? NaN,
    user: p.userId,
  };
}

async function growOne(label, options, sizeOf, settle = async () => {}) {
  const { startServer } = await loadServer();
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    config: { site: SITE, origins: [] },
    rateLimit: { ip: false, device: false },
    ...options,
  });
  try {
    const run = randomBytes(4).toString('hex');
    const devices = [];
    let n = 0;
    // Each device starts with one HTTP collect (with its own token, which the server adopts), then all five are linked.
    for (const [i, kind] of KINDS.entries()) {
      const deviceId = `${run}-dev-${i}`;
      // The device's own token, as the SDK makes one: the server adopts it at the first collect.
      const token = randomUUID();
      const res = await fetch(`${server.url}/v1/collect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: collectBodyJson(SITE, deviceId, `${run}h${i}`, 0, 1, kind),
      });
      const body = await res.json();
      if (res.status !== 202) throw new Error(`collect answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
      n += 1;
      devices.push({ deviceId, token, kind });
    }
    for (const d of devices) {
      const r = await server.store.link(SITE, d.deviceId, USER, Date.now());
      if (r === 'conflict') throw new Error(`device ${d.deviceId} is linked to another user`);
      d.tokenHash = (await server.store.getDevice(SITE, d.deviceId))?.tokenHash ?? '';
    }
    const rows = [];
    const start = Date.now() - 100_000 * 60_000;
    for (const level of [1_000, 10_000, 100_000]) {
      const t0 = performance.now();
      while (n < level) {
        const d = devices[Math.floor(n / BATCH) % devices.length];
        const count = Math.min(BATCH, level - n);
        const events = Array.from({ length: count }, (_, i) =>
          historyEvent(eventId(run, n + i), start + (n + i) * 60_000, n + i, d.kind),
        );
        const r = await server.store.ingest(SITE, d.deviceId, events, d.tokenHash, d.kind);
        if (r.accepted !== count) throw new Error(`ingest accepted ${r.accepted} of ${count}`);
        n += count;
      }
      const ingestS = (performance.now() - t0) / 1000;
      await settle();
      const read = await readProfile(server.url, devices[0]);
      if (read.user !== USER) throw new Error(`the profile is not the merged one (userId ${read.user})`);
      rows.push({ level, ingestS, ...read, bytes: read.bytes, storage: await sizeOf() });
    }
    return { label, rows };
  } finally {
    await server.close();
  }
}

export async function growthSection() {
  const results = [];
  const notes = [];
  const dir = tmpDir('growth');
  const file = join(dir, 'cairn.db');
  results.push(await growOne('SQLite', { db: file }, async () => sqliteBytes(file)));

  let sql = null;
  try {
    sql = await pgClient();
  } catch (e) {
    notes.push(`PostgreSQL not run: ${e.message}.`);
  }
  if (sql) {
    const schema = schemaName('growth');
    try {
      // ANALYZE after each level, as autovacuum would soon after a bulk load: the reads are measured in
      // steady state, not in the minute when the planner's statistics still describe an empty table.
      results.push(
        await growOne(
          'PostgreSQL',
          { databaseUrl: PG_URL, pgSchema: schema },
          () => schemaBytes(sql, schema),
          () => analyzeSchema(sql, schema),
        ),
      );
    } finally {
      await dropSchema(sql, schema).catch(() => {});
      await sql.end({ timeout: 5 });
    }
  }

  const rows = results.flatMap((r) =>
    r.rows.map((x) => [
      r.label,
      fmtInt(x.level),
      x.reads,
      fmt(x.p50, 2),
      fmt(x.p95, 2),
      fmtKB(x.bytes),
      fmtInt(x.pageViews),
      fmtInt(x.products),
      fmtBytes(x.storage),
      fmt(x.ingestS, 1),
    ]),
  );
  const flat = results
    .map(
      (r) =>
        `${r.label} ${r.rows.map((x) => fmt(x.p50, 1)).join(' / ')} ms (100k over 10k: ${fmt(r.rows[2].p50 / r.rows[1].p50, 2)}×)`,
    )
    .join('; ');
  const body = [
    `One user, ${KINDS.length} linked devices (${KINDS.filter((k) => k === 'mobile').length} mobile), events spread evenly over them: ` +
      'mostly product and category page views, some cart events and touches. Events go in through the store, ' +
      `${BATCH} per transaction; each level then reads the merged profile over HTTP, sequentially after a warm-up, ${MIN_READS} to ${READS} times within ${READ_BUDGET_MS / 1000} s. ` +
      'Storage is the tables with their indexes (SQLite: pages in use). On PostgreSQL each level runs ANALYZE before reading, as autovacuum would after a bulk load.',
    '',
    table(
      [
        'store',
        'events',
        'reads',
        'read p50 (ms)',
        'read p95 (ms)',
        'profile JSON',
        'page views in profile',
        'products in profile',
        'storage',
        'ingest time for the level (s)',
      ],
      rows,
    ),
    '',
    `Profile read p50 at 1k / 10k / 100k events: ${flat}. Below about 10k events the devices' histories are still under the caps, so reads grow; past the caps they should stay flat.`,
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
  return { title: '5. Growth', body, headline: results };
}
