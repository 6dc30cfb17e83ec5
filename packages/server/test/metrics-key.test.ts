// /metrics shows admin activity by route: with a metrics key (CAIRN_METRICS_KEY, `metricsKey`) it
// wants it as Prometheus sends it, "Authorization: Bearer <key>"; without one it stays open.
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from './helpers/cli.js';
import { sqliteDb } from './helpers/db.js';
import { bearer, harness } from './helpers/http.js';

const METRICS_KEY = 'metrics-scrape-key-0123456789abcdefgh';

describe('GET /metrics', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('is open without a metrics key', async () => {
    const h = await harness(db);
    const res = await h.req('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('cairn_http_requests_total');
  });

  it('with a key: 401 and WWW-Authenticate without it or with another, the metrics with it', async () => {
    const h = await harness(db, { metricsKey: METRICS_KEY });
    for (const headers of [
      {},
      bearer(`${METRICS_KEY}x`),
      bearer(METRICS_KEY.slice(1)),
      { authorization: METRICS_KEY },
    ]) {
      const res = await h.req('GET', '/metrics', { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.text()).not.toContain('cairn_http_requests_total');
    }
    const ok = await h.req('GET', '/metrics', { headers: bearer(METRICS_KEY) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('cairn_http_requests_total{route="/metrics",method="GET",status="401"} 4');
  });

  it('wrong metrics keys spend the same allowance as wrong admin keys', async () => {
    const h = await harness(db, {
      metricsKey: METRICS_KEY,
      rateLimit: { adminFailures: { perSecond: 0.001, burst: 2 } },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await h.req('GET', '/metrics', { headers: bearer('guess') })).status);
    expect(statuses).toEqual([401, 401, 429]);
    expect((await h.req('GET', '/metrics', { headers: bearer(METRICS_KEY) })).status).toBe(429);
  });

  it('the CLI takes it from CAIRN_METRICS_KEY', async () => {
    const s = await startCli(['--db', db.options.sqlitePath as string], { CAIRN_METRICS_KEY: METRICS_KEY });
    try {
      expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${s.url}/metrics`, { headers: bearer(METRICS_KEY) })).status).toBe(200);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
    }
  });
});
