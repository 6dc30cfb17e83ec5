// Section 4: sync-server throughput with autocannon on loopback. Each server runs in its own process
// (autocannon keeps this one); every measured run is bounded in time, after a short warm-up.
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectBodyJson } from './events.mjs';
import { PG_URL, dropSchema, pgClient, schemaName } from './pg.mjs';
import { loadServer } from './cairn.mjs';
import { table } from './report.mjs';
import { fmt, fmtInt, ratio } from './stats.mjs';
import { tmpDir } from './tmp.mjs';

const CHILD = fileURLToPath(new URL('./server-child.mjs', import.meta.url));
export const SITE = 'bench';
export const BATCH = 20;
const DEVICES = 100;
/** Limits far above the load: the limiter's code still runs on every request, but never refuses. */
export const NO_REFUSALS = { ip: { perSecond: 1e9, burst: 1e9 }, device: { perSecond: 1e9, burst: 1e9 } };

/** Forks a server process; resolves to its URL and a stop function. */
export function spawnServer(spec) {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [JSON.stringify(spec)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    child.once('exit', (code) =>
      reject(new Error(`server process exited (${code}): ${stderr.trim().split('\n').pop() ?? ''}`)),
    );
    child.once('message', (m) => {
      if (m.error) return reject(new Error(m.error));
      resolve({
        url: m.url,
        stop: () =>
          new Promise((r) => {
            if (child.exitCode !== null) return r();
            child.once('exit', () => r());
            child.send('close');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      });
    });
  });
}

/** One bounded autocannon run; the warm-up run before it is not reported. */
export async function cannon({ url, requests, duration, connections, warmup }) {
  const { default: autocannon } = await import('autocannon');
  const run = (d) => autocannon({ url, connections, duration: d, requests, timeout: 10 });
  if (warmup > 0) await run(warmup);
  const r = await run(duration);
  const ok = r['2xx'];
  return {
    rps: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok,
    bad: r.non2xx + r.errors + r.timeouts,
    statuses: Object.entries(r.statusCodeStats ?? {})
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, v]) => `${code}×${v.count}`)
      .join(' '),
  };
}

/** Creates the devices the load uses, one collect each; resolves to their ids and tokens. */
export async function primeDevices(url, run) {
  const devices = [];
  for (let i = 0; i < DEVICES; i++) {
    const deviceId = `${run}-dev-${i}`;
    // The device's own token, as the SDK makes one: the server adopts it at the first collect.
    const token = randomUUID();
    const res = await fetch(`${url}/v1/collect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: collectBodyJson(SITE, deviceId, `${run}p${i}`, 0, BATCH),
    });
    const body = await res.json().catch(() => ({}));
    if (res.status !== 202)
      throw new Error(`priming collect answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
    devices.push({ deviceId, token });
  }
  return devices;
}

/** POST /v1/collect: 20 page views per request, unique event ids, rotating over the primed devices with their tokens. */
export function collectRequests(devices, run) {
  let n = 0;
  return [
    {
      method: 'POST',
      path: '/v1/collect',
      setupRequest: (req) => {
        const k = n++;
        const d = devices[k % devices.length];
        req.headers = { 'content-type': 'application/json', authorization: `Bearer ${d.token}` };
        req.body = collectBodyJson(SITE, d.deviceId, `${run}c`, k * BATCH, BATCH);
        return req;
      },
    },
  ];
}

/** GET /v1/profile with each device's Bearer token in turn. */
export function profileRequests(devices) {
  let n = 0;
  return [
    {
      method: 'GET',
      setupRequest: (req) => {
        const d = devices[n++ % devices.length];
        req.path = `/v1/profile?site=${SITE}&deviceId=${d.deviceId}`;
        req.headers = { authorization: `Bearer ${d.token}` };
        return req;
      },
    },
  ];
}

/** Measures collect then profile against one deployment (one or several instances on one store). */
async function measureCairn(label, specs, o) {
  const servers = [];
  try {
    for (const spec of specs) servers.push(await spawnServer(spec)); // one by one: the first applies the migrations
    const urls = servers.map((s) => s.url);
    const run = randomBytes(4).toString('hex');
    const devices = await primeDevices(urls[0], run);
    const url = urls.length === 1 ? urls[0] : urls;
    const collect = await cannon({ ...o, url, requests: collectRequests(devices, run) });
    const profile = await cannon({ ...o, url, requests: profileRequests(devices) });
    return { label, instances: urls.length, collect, profile };
  } finally {
    for (const s of servers) await s.stop();
  }
}

export async function serverSection({ duration = 6, warmup = 1, connections = 10 } = {}) {
  await loadServer(); // a clear error when the server is not built
  const o = { duration, warmup, connections };
  const notes = [];
  const options = (extra) => ({
    kind: 'cairn',
    options: { config: { site: SITE, origins: [] }, rateLimit: NO_REFUSALS, ...extra },
  });

  const honoServer = await spawnServer({ kind: 'hono' });
  let hono;
  try {
    hono = await cannon({ ...o, url: honoServer.url, requests: [{ method: 'GET', path: '/' }] });
  } finally {
    await honoServer.stop();
  }

  const results = [];
  results.push(await measureCairn('SQLite', [options({ db: join(tmpDir('sqlite'), 'cairn.db') })], o));

  let sql = null;
  try {
    sql = await pgClient();
  } catch (e) {
    notes.push(`PostgreSQL rows not run: ${e.message}.`);
  }
  if (sql) {
    const one = schemaName('one');
    const two = schemaName('two');
    try {
      results.push(await measureCairn('PostgreSQL', [options({ databaseUrl: PG_URL, pgSchema: one })], o));
      const spec = options({ databaseUrl: PG_URL, pgSchema: two });
      results.push(await measureCairn('PostgreSQL', [spec, spec], o));
    } finally {
      for (const s of [one, two]) await dropSchema(sql, s).catch(() => {});
      await sql.end({ timeout: 5 });
    }
  }

  const row = (r, endpoint, m) => [
    `Cairn, ${r.label}`,
    r.instances,
    endpoint,
    fmtInt(m.rps),
    endpoint.startsWith('POST') ? fmtInt(m.rps * BATCH) : '–',
    fmt(m.p50, 0),
    fmt(m.p99, 0),
    m.bad ? `${fmtInt(m.bad)} ${m.statuses}`.trim() : '0',
    ratio(m.rps, hono.rps, 2),
  ];
  const rows = [
    [
      'Hono hello-world (ceiling)',
      1,
      'GET /',
      fmtInt(hono.rps),
      '–',
      fmt(hono.p50, 0),
      fmt(hono.p99, 0),
      hono.bad ? fmtInt(hono.bad) : '0',
      '1.00×',
    ],
    ...results.flatMap((r) => [
      row(r, `POST /v1/collect (${BATCH} events)`, r.collect),
      row(r, 'GET /v1/profile', r.profile),
    ]),
  ];
  const pg1 = results.find((r) => r.label === 'PostgreSQL' && r.instances === 1);
  const pg2 = results.find((r) => r.label === 'PostgreSQL' && r.instances === 2);
  if (pg1 && pg2) {
    notes.push(
      `Two PostgreSQL instances against one: ${ratio(pg2.collect.rps, pg1.collect.rps, 2)} on collect, ${ratio(pg2.profile.rps, pg1.profile.rps, 2)} on profile ` +
        "(autocannon spreads its connections over both URLs; the load generator, both instances and PostgreSQL share this machine's cores).",
    );
  }
  const body = [
    `autocannon ${connections} connections, ${duration} s per row after a ${warmup} s warm-up, loopback, each server in its own Node process ` +
      `with its default JSON request log (to /dev/null) and rate limits raised out of reach. Collect batches carry ${BATCH} page views with unique event ids, ` +
      `rotating over ${DEVICES} devices with their tokens; profile reads rotate over the same devices. req/s counts 2xx answers only; latencies in ms.`,
    '',
    table(
      ['server', 'instances', 'endpoint', 'req/s', 'events/s', 'p50', 'p99', 'non-2xx / errors', 'vs Hono hello-world'],
      rows,
    ),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
  return { title: '4. Sync server', body, headline: { hono: hono.rps, results } };
}
