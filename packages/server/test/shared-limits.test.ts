import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { startServer, type RunningServer, type StartOptions } from '../src/server.js';
import { runCli, startCli } from './helpers/cli.js';
import { PG_TEST_URL, postgresDb } from './helpers/db.js';
import { ADMIN_KEY, clientToken, config, id, pageEvent, SITE } from './helpers/http.js';

// Two instances on one PostgreSQL schema, their limits kept in Redis or in PostgreSQL: together they
// allow the configured burst, not twice it. The windows are long (burst 10 at 0.01/s: 1,000 s), so
// nothing refills during the test.

const REDIS_URL = process.env.CAIRN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BURST = 10;
const ADMIN_BURST = 4;
const SENT = 16;

const configFile = (dir: string) => {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config()));
  return path;
};

describe.each(['redis', 'postgres'] as const)('limits shared by two instances, kept in %s', (kind) => {
  const db = postgresDb();
  const keyPrefix = `cairn-test-${randomBytes(6).toString('hex')}`;
  const servers: RunningServer[] = [];
  /** Warnings of the limit store: none, or a request was decided by one instance alone. */
  const warnings: unknown[] = [];
  afterEach(() => expect(warnings).toEqual([]));
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await db.cleanup();
    if (kind === 'redis') {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${keyPrefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });

  const start = async () => {
    const opts: StartOptions = {
      port: 0,
      databaseUrl: db.options.databaseUrl as string,
      pgSchema: db.options.pgSchema as string,
      config: config(),
      adminKey: ADMIN_KEY,
      logger: { info() {}, error() {}, warn: (o) => void warnings.push(o) },
      // Generous: this proves sharing, and a loaded test machine must not turn it into per-instance limits.
      rateLimitTimeoutMs: 10_000,
      trustProxy: true,
      rateLimitStore: kind,
      redisUrl: REDIS_URL,
      rateLimitKeyPrefix: keyPrefix,
      rateLimit: {
        ip: { perSecond: 0.01, burst: BURST },
        device: { perSecond: 0.01, burst: BURST },
        adminFailures: { perSecond: 0.01, burst: ADMIN_BURST },
      },
    };
    servers.push(...(await Promise.all([startServer(opts), startServer(opts)])));
  };
  /** The instance for the i-th request: the two take turns, as behind a round-robin balancer. */
  const at = (i: number) => (servers[i % 2] as RunningServer).url;

  it('per IP: exactly the burst passes across both, then 429 on each', async () => {
    await start();
    const statuses: number[] = [];
    for (let i = 0; i < SENT; i++) {
      const res = await fetch(`${at(i)}/v1/config?site=${SITE}`, { headers: { 'x-forwarded-for': '10.0.0.1' } });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(BURST);
    expect(statuses.slice(BURST)).toEqual(Array(SENT - BURST).fill(429));
    // Another address has its own allowance.
    expect(
      (await fetch(`${at(0)}/v1/config?site=${SITE}`, { headers: { 'x-forwarded-for': '10.0.0.2' } })).status,
    ).toBe(200);
  });

  it('per device: exactly the burst of collects passes across both', async () => {
    const deviceId = id();
    const token = clientToken();
    const statuses: number[] = [];
    for (let i = 0; i < SENT; i++) {
      const res = await fetch(`${at(i)}/v1/collect`, {
        method: 'POST',
        // A new address each time: only the device's limit applies.
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'x-forwarded-for': `10.1.0.${i}`,
        },
        body: JSON.stringify({ site: SITE, deviceId, events: [pageEvent()] }),
      });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(BURST);
    expect(statuses.slice(BURST)).toEqual(Array(SENT - BURST).fill(429));
  });

  it('failed admin keys: the allowance is spent across both, then even the right key gets 429', async () => {
    const ip = { 'x-forwarded-for': '10.2.0.1' };
    const wrong = await Promise.all(
      Array.from({ length: ADMIN_BURST }, (_, i) =>
        fetch(`${at(i)}/v1/users/u1/export?site=${SITE}`, {
          headers: { ...ip, authorization: `Bearer ${'x'.repeat(40)}` },
        }),
      ),
    );
    expect(wrong.map((r) => r.status)).toEqual(Array(ADMIN_BURST).fill(401));
    for (const i of [0, 1]) {
      const right = await fetch(`${at(i)}/v1/users/u1/export?site=${SITE}`, {
        headers: { ...ip, authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(right.status).toBe(429);
    }
  });

  it('the counts live in the shared store', async () => {
    if (kind === 'redis') {
      const redis = new Redis(REDIS_URL);
      try {
        const keys = await redis.keys(`${keyPrefix}:*`);
        expect(new Set(keys.map((k) => k.split(':')[1]))).toEqual(new Set(['ip', 'device', 'admin_key']));
      } finally {
        await redis.quit();
      }
    } else {
      const sql = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
      try {
        const rows = await sql<
          { key: string }[]
        >`SELECT key FROM ${sql(db.options.pgSchema as string)}.cairn_rate_limits`;
        expect(new Set(rows.map((r) => r.key.split(':')[1]))).toEqual(new Set(['ip', 'device', 'admin_key']));
      } finally {
        await sql.end();
      }
    }
  });
});

describe('the CLI', () => {
  it('names a bad --rate-limit-store, and a shared store without its URL, in one line', () => {
    const bad = runCli(['--rate-limit-store', 'disk', '--port', '0']);
    expect([bad.status, bad.stderr.trim()]).toEqual([
      2,
      'cairn-server: --rate-limit-store must be one of memory, redis, postgres, got "disk"',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'cairn-limits-'));
    const noUrl = runCli(['--db', join(dir, 'x.db'), '--port', '0'], {
      CAIRN_RATE_LIMIT_STORE: 'redis',
      CAIRN_REDIS_URL: '',
    });
    expect([noUrl.status, noUrl.stderr.trim()]).toEqual([
      1,
      'cairn-server: shared rate limits in Redis need CAIRN_REDIS_URL, e.g. redis://127.0.0.1:6379',
    ]);
  });

  it('counts in Redis when CAIRN_REDIS_URL is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-limits-'));
    // The CLI's keys have the default prefix; this one is the test's own (its client address).
    const ip = '10.9.8.7';
    const key = `cairn:ip:${createHash('sha256').update(ip).digest('base64url')}`;
    const redis = new Redis(REDIS_URL);
    const running = await startCli(['--db', join(dir, 'x.db'), '--trust-proxy', '--config', configFile(dir)], {
      CAIRN_REDIS_URL: REDIS_URL,
    });
    try {
      const res = await fetch(`${running.url}/v1/config?site=${SITE}`, { headers: { 'x-forwarded-for': ip } });
      expect(res.status).toBe(200);
      expect(await redis.get(key)).toBe('1');
    } finally {
      running.proc.kill('SIGTERM');
      await running.exited;
      await redis.del(key);
      await redis.quit();
    }
  });
});
