import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Log } from '../src/log.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { startServer } from '../src/server.js';
import { openLimitStore, type LimitStore, type SharedLimitsConfig } from '../src/shared-limits.js';
import { sqliteDb } from './helpers/db.js';
import { ADMIN_KEY, clientToken, config, harness, id, pageEvent, SITE } from './helpers/http.js';

// A shared limit whose store is down, or answers nothing, fails open to this instance's own buckets:
// requests get their usual answers (2xx, or 4xx such as 401 and 429), never a 5xx; each failure
// counts in cairn_rate_limit_store_errors_total, and the log gets one warning, not one a request.

function captureLog() {
  const warnings: unknown[] = [];
  const log: Log = { info() {}, warn: (obj) => void warnings.push(obj), error() {} };
  return { log, warnings };
}

/** The counter's value for one scope, read from /metrics' text. */
function storeErrors(metrics: Metrics, scope: string): number {
  const line = metrics
    .render()
    .split('\n')
    .find((l) => l.startsWith(`cairn_rate_limit_store_errors_total{scope="${scope}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** A TCP server that accepts connections and never answers: a Redis that hangs. */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.resume(); // reads and drops what comes, so that the client's FIN is seen
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

const down: [string, SharedLimitsConfig][] = [
  ['Redis, nothing listening', { kind: 'redis', url: 'redis://127.0.0.1:1' }],
  ['PostgreSQL, nothing listening', { kind: 'postgres', databaseUrl: 'postgres://postgres@127.0.0.1:1/test' }],
];

describe.each(down)('limits fail open when the store is down: %s', (_, limitConfig) => {
  const db = sqliteDb();
  const stores: LimitStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db.cleanup();
  });

  it('answers as usual, limits per instance, counts each failure and warns once', async () => {
    const metrics = createMetrics();
    const { log, warnings } = captureLog();
    const limitStore = openLimitStore(limitConfig, { log, metrics, timeoutMs: 2_000 });
    stores.push(limitStore);
    const h = await harness(db, {
      metrics,
      limitStore,
      rateLimit: {
        ip: { perSecond: 0.01, burst: 6 },
        device: { perSecond: 0.01, burst: 50 },
        adminFailures: { perSecond: 0.01, burst: 50 },
      },
    });

    const statuses: number[] = [];
    statuses.push((await h.req('GET', `/v1/config?site=${SITE}`)).status);
    const deviceId = id();
    const token = clientToken();
    for (let i = 0; i < 2; i++) {
      const res = await h.req('POST', '/v1/collect', {
        body: { site: SITE, deviceId, events: [pageEvent()] },
        headers: { authorization: `Bearer ${token}` },
      });
      statuses.push(res.status);
    }
    statuses.push(
      (
        await h.req('GET', `/v1/users/u1/export?site=${SITE}`, {
          headers: { authorization: `Bearer ${'x'.repeat(40)}` },
        })
      ).status,
    );
    statuses.push(
      (await h.req('GET', `/v1/users/u1/export?site=${SITE}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }))
        .status,
    );
    // The sixth request spends the local burst of 6; the seventh is refused by this instance alone.
    statuses.push((await h.req('GET', `/v1/config?site=${SITE}`)).status);
    statuses.push((await h.req('GET', `/v1/config?site=${SITE}`)).status);

    expect(statuses).toEqual([200, 202, 202, 401, 404, 200, 429]);
    // Per request: one IP decision; per collect, one device decision; the wrong key, one peek and one take; the right key, one peek.
    expect(storeErrors(metrics, 'ip')).toBe(7);
    expect(storeErrors(metrics, 'device')).toBe(2);
    expect(storeErrors(metrics, 'admin_key')).toBe(3);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toMatch(/"store":"(redis|postgres)"/);
  });
});

describe('a Redis that accepts connections and never answers', () => {
  it('each decision gives up after the timeout and the request is answered', async () => {
    const silent = await silentServer();
    const metrics = createMetrics();
    const { log, warnings } = captureLog();
    const limitStore = openLimitStore(
      { kind: 'redis', url: `redis://127.0.0.1:${silent.port}` },
      { log, metrics, timeoutMs: 100 },
    );
    const db = sqliteDb();
    try {
      const h = await harness(db, {
        metrics,
        limitStore,
        rateLimit: { ip: { perSecond: 1, burst: 10 }, device: false },
      });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await h.req('GET', `/v1/config?site=${SITE}`)).status);
      expect(statuses).toEqual([200, 200, 200]);
      expect(storeErrors(metrics, 'ip')).toBe(3);
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(silent.sockets.size).toBeGreaterThan(0);
    } finally {
      await limitStore.close();
      await db.cleanup();
    }
    // Closing the limit store closes its connection.
    await expect.poll(() => silent.sockets.size).toBe(0);
    await new Promise((ok) => silent.server.close(ok));
  });

  it("closing the server closes the Redis client's connection", async () => {
    const silent = await silentServer();
    const db = sqliteDb();
    const running = await startServer({
      port: 0,
      db: db.options.sqlitePath as string,
      config: config(),
      logger: false,
      redisUrl: `redis://127.0.0.1:${silent.port}`,
    });
    await expect.poll(() => silent.sockets.size).toBe(1);
    await running.close();
    await expect.poll(() => silent.sockets.size).toBe(0);
    await new Promise((ok) => silent.server.close(ok));
    await db.cleanup();
  });
});
