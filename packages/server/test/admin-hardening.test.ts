// The admin key cannot be guessed without limit: every admin route (config, users, reports, the
// console's API) is under the per-IP limit, and each address has a small allowance of wrong keys.
// Real server, real sockets: two loopback addresses are two clients.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { DEFAULT_RATE_LIMITS } from '../src/app.js';
import { makeStores, type TestDb } from './helpers/db.js';
import { ADMIN_KEY, fakeSdk } from './helpers/http.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request from a chosen loopback address (127.0.0.2 is another client to the server). */
function send(
  base: string,
  from: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((ok, fail) => {
    const req = request(new URL(path, base), { method, headers, localAddress: from, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

const ADMIN_ROUTES: { method: string; path: string; body?: string }[] = [
  { method: 'PUT', path: '/v1/config', body: '{"site":"shop"}' },
  { method: 'GET', path: '/v1/users/alice/export?site=shop' },
  { method: 'DELETE', path: '/v1/users/alice?site=shop' },
  { method: 'GET', path: '/v1/reports/channels?site=shop' },
  { method: 'GET', path: '/v1/reports/experiments?site=shop' },
  { method: 'POST', path: '/console/api/validate', body: '{}' },
];

describe.each(makeStores())('admin keys under a limit on $name', (db: TestDb) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      port: 0,
      ...(db.name === 'sqlite' ? { db: db.options.sqlitePath as string } : (db.options as object)),
      adminKey: ADMIN_KEY,
      logger: false,
      sdkPath: fakeSdk(),
    });
  });
  afterAll(async () => {
    await server?.close();
    await db.cleanup();
  });

  it('400 wrong keys from one address bring 429s; the right key from another address still works', async () => {
    const counts = new Map<number, number>();
    let retryAfter: string | undefined;
    for (let i = 0; i < 400; i++) {
      const route = ADMIN_ROUTES[i % ADMIN_ROUTES.length] as (typeof ADMIN_ROUTES)[number];
      const headers = {
        authorization: `Bearer wrong-key-${i}-0123456789abcdefghijklmn`,
        'content-type': 'application/json',
      };
      const res = await send(server.url, '127.0.0.1', route.method, route.path, headers, route.body);
      counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
      if (res.status === 429) retryAfter ??= res.headers['retry-after'] as string;
    }
    // The allowance of failed keys, then nothing but 429 (and no other answer at all).
    const allowance = DEFAULT_RATE_LIMITS.adminFailures.burst;
    expect(Object.fromEntries(counts)).toEqual({ 401: allowance, 429: 400 - allowance });
    expect(Number(retryAfter)).toBeGreaterThan(0);

    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    // The right key from the refused address: still 429, so a guess cannot be told right from wrong.
    expect((await send(server.url, '127.0.0.1', 'GET', '/v1/reports/channels?site=shop', admin)).status).toBe(429);
    for (const route of ADMIN_ROUTES) {
      const res = await send(
        server.url,
        '127.0.0.2',
        route.method,
        route.path,
        { ...admin, 'content-type': 'application/json' },
        route.body,
      );
      // 404 for the user routes: there is no alice; the key itself was accepted.
      expect([200, 404], `${route.method} ${route.path}`).toContain(res.status);
    }
  });
});

describe('the console API under the per-IP limit', () => {
  const [sqlite] = makeStores();
  const db = sqlite as TestDb;
  afterAll(() => db.cleanup());

  it('counts POST /console/api/validate against the address, with the right key too', async () => {
    const server = await startServer({
      port: 0,
      db: db.options.sqlitePath as string,
      adminKey: ADMIN_KEY,
      logger: false,
      rateLimit: { ip: { perSecond: 0.001, burst: 3 } },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await send(
          server.url,
          '127.0.0.1',
          'POST',
          '/console/api/validate',
          { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          '{}',
        );
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      // The static console is not an API: it stays reachable.
      expect((await send(server.url, '127.0.0.1', 'GET', '/console')).status).toBe(308);
    } finally {
      await server.close();
    }
  });
});
