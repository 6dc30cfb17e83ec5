// Section 6: ingestion against its ceiling, on SQLite. In one run, interleaved round by round:
// - the practical ceiling: a bare Hono + better-sqlite3 insert of the same 20-event batch into
//   Cairn's events table (ceiling.mjs), with today's schema and with the indexes before migration 4;
// - Cairn's POST /v1/collect with the same batches, and GET /v1/profile on the devices it wrote.
// Each server runs in its own process; every run is bounded in time, after a short warm-up, on loopback.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadServer } from './cairn.mjs';
import { eventIndexes, openCeilingDb } from './ceiling.mjs';
import { INDEX_SETS, indexCost } from './index-cost.mjs';
import { table } from './report.mjs';
import {
  BATCH,
  NO_REFUSALS,
  SITE,
  cannon,
  collectRequests,
  primeDevices,
  profileRequests,
  spawnServer,
} from './server.mjs';
import { fmt, fmtInt, median } from './stats.mjs';
import { tmpDir } from './tmp.mjs';

/** The ingestion targets (collect near the storage ceiling), as ratios of this run's own rows. */
export const TARGETS = { collectOverCeiling: 0.85, newOverOldCeiling: 1.8, profileOverCollect: 0.8 };
const LABELS = {
  collectOverCeiling: 'collect ÷ ceiling (today)',
  newOverOldCeiling: 'ceiling today ÷ ceiling migrations 1–3',
  profileOverCollect: 'profile ÷ collect (req/s)',
};

/** Whether each ratio meets its target; a ratio that could not be computed is not met. */
export function verdicts({ collect, ceilingNew, ceilingOld, profile }) {
  const r = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
  const values = {
    collectOverCeiling: r(collect, ceilingNew),
    newOverOldCeiling: r(ceilingNew, ceilingOld),
    profileOverCollect: r(profile, collect),
  };
  return Object.entries(TARGETS).map(([key, target]) => ({
    key,
    label: LABELS[key],
    value: values[key],
    target,
    met: Number.isFinite(values[key]) && values[key] >= target,
  }));
}

/** The indexes on events with migrations up to `versions`, read from a scratch database. */
async function indexesOf(versions) {
  const { db, close } = await openCeilingDb(join(tmpDir('schema'), 'schema.db'), versions);
  try {
    return eventIndexes(db).filter((n) => !n.startsWith('sqlite_autoindex'));
  } finally {
    close();
  }
}

export async function ingestionSection({ duration = 5, warmup = 1, connections = 10, rounds = 2 } = {}) {
  await loadServer();
  const o = { duration, warmup, connections };
  const run = randomBytes(4).toString('hex');
  const [old, now] = [await indexesOf(3), await indexesOf('all')];
  // On the database alone first, while no server runs.
  const cost = await indexCost({ seconds: Math.min(3, duration), rounds });
  const dbRate = Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, median(v)]));
  const servers = {};
  try {
    servers.ceilingOld = await spawnServer({ kind: 'ceiling', db: join(tmpDir('ceiling-old'), 'c.db'), versions: 3 });
    servers.ceilingNew = await spawnServer({
      kind: 'ceiling',
      db: join(tmpDir('ceiling-new'), 'c.db'),
      versions: 'all',
    });
    servers.ceilingInline = await spawnServer({
      kind: 'ceiling',
      db: join(tmpDir('ceiling-inline'), 'c.db'),
      versions: 'all',
      inlineCheckpoints: true,
    });
    servers.cairn = await spawnServer({
      kind: 'cairn',
      options: {
        db: join(tmpDir('ingest'), 'cairn.db'),
        config: { site: SITE, origins: [] },
        rateLimit: NO_REFUSALS,
      },
    });
    const devices = await primeDevices(servers.cairn.url, run);
    const samples = { ceilingOld: [], ceilingNew: [], ceilingInline: [], collect: [], profile: [] };
    for (let i = 0; i < rounds; i++) {
      // Each round writes fresh event ids: every server's table grows the same way.
      const tag = `${run}r${i}`;
      for (const k of ['ceilingOld', 'ceilingNew', 'ceilingInline'])
        samples[k].push(await cannon({ ...o, url: servers[k].url, requests: collectRequests(devices, `${tag}${k}`) }));
      samples.collect.push(await cannon({ ...o, url: servers.cairn.url, requests: collectRequests(devices, tag) }));
      samples.profile.push(await cannon({ ...o, url: servers.cairn.url, requests: profileRequests(devices) }));
    }
    const rps = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v.map((m) => m.rps))]));
    const checks = verdicts({
      collect: rps.collect,
      ceilingNew: rps.ceilingNew,
      ceilingOld: rps.ceilingOld,
      profile: rps.profile,
    });
    const row = (label, schema, k, endpoint) => {
      const m = samples[k];
      const bad = m.reduce((n, x) => n + x.bad, 0);
      return [
        label,
        schema,
        endpoint,
        m.map((x) => fmtInt(x.rps)).join(' / '),
        endpoint.startsWith('POST') ? fmtInt(rps[k] * BATCH) : '–',
        fmt(median(m.map((x) => x.p99)), 0),
        bad ? `${fmtInt(bad)} ${m.map((x) => x.statuses).join(' ')}`.trim() : '0',
      ];
    };
    const names = (list) => list.join(', ');
    const collectPost = `POST /v1/collect (${BATCH} events)`;
    const body = [
      `autocannon ${connections} connections, ${duration} s per run after a ${warmup} s warm-up, ${rounds} rounds interleaved ` +
        `(ceiling with the old indexes, ceiling with today's, the same with SQLite's default checkpoints, Cairn collect, Cairn profile), ` +
        'loopback, each server in its own Node process. ' +
        `The ceiling is a bare Hono app inserting the same batch into Cairn's events table with better-sqlite3, on the store's connection settings ` +
        `(WAL, synchronous NORMAL, checkpoints on a timer). Cairn runs with its JSON request log (to /dev/null) and rate limits out of reach. ` +
        'The profile reads follow the collect run with no write in between: after its first read, each device is answered from the ' +
        "instance's profile cache, checked against the database's profile version on every read (a read after a write rebuilds it). " +
        `req/s counts 2xx answers, one figure per round; events/s and p99 (ms) from the median round.`,
      '',
      table(
        ['server', 'indexes on events', 'endpoint', 'req/s per round', 'events/s', 'p99', 'non-2xx / errors'],
        [
          row('Ceiling, migrations 1–3', `primary key, ${names(old)}`, 'ceilingOld', collectPost),
          row('Ceiling, today', `primary key, ${names(now)}`, 'ceilingNew', collectPost),
          row('Ceiling, today, checkpoints in the commit (SQLite default)', 'as above', 'ceilingInline', collectPost),
          row('Cairn, SQLite', 'today', 'collect', collectPost),
          row('Cairn, SQLite', 'today', 'profile', 'GET /v1/profile'),
        ],
      ),
      '',
      table(
        ['ratio (median rounds)', 'value', 'target', 'met'],
        checks.map((c) => [c.label, fmt(c.value, 2), `≥ ${c.target}`, c.met ? 'yes' : 'NO']),
      ),
      '',
      ...indexCostReport(dbRate, cost, rps),
    ].join('\n');
    return { title: '6. Ingestion', body, headline: { rps, checks, dbRate } };
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
}

/**
 * The index sets on the database alone, and what they mean over HTTP: the time a ceiling request
 * spends outside its insert (today's schema over HTTP, less the same insert alone) is the same
 * whatever the indexes, so a schema's best ratio over HTTP is bounded by it.
 */
function indexCostReport(dbRate, cost, rps) {
  const outsideMs = 1000 / rps.ceilingNew - 1000 / dbRate.today;
  const overHttp = (k) => 1000 / (1000 / dbRate[k] + outsideMs);
  return [
    `**Index sets on the database alone**: the ceiling's insert of the same ${BATCH}-event batches in a loop, no HTTP, ` +
      `fresh databases with the store's connection settings, run before the servers start, each set once a round (batches/s per round).`,
    '',
    table(
      [
        'indexes on events',
        'batches/s per round',
        '÷ migrations 1–3',
        'over HTTP, predicted ÷ measured ceiling, migrations 1–3',
      ],
      INDEX_SETS.map((set) => [
        set.label,
        cost[set.key].map((x) => fmtInt(x)).join(' / '),
        fmt(dbRate[set.key] / dbRate.old, 2),
        fmt(overHttp(set.key) / rps.ceilingOld, 2),
      ]),
    ),
    '',
    `A ceiling request spends ${fmt(outsideMs, 2)} ms outside its insert (today's ceiling over HTTP, ${fmtInt(rps.ceilingNew)} req/s, ` +
      `against ${fmtInt(dbRate.today)} inserts/s alone). With that time added to each insert, the model gives the last column; ` +
      `for migrations 1–3 it predicts ${fmtInt(overHttp('old'))} req/s where the run measured ${fmtInt(rps.ceilingOld)}.`,
  ];
}
