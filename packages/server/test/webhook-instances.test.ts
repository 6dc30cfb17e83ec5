import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server.js';
import { PG_TEST_URL, postgresDb } from './helpers/db.js';
import { startReceiver } from './helpers/webhook-receiver.js';

// Two server instances on one PostgreSQL, each with its pg-boss worker on the same queue, deliver
// many episodes: each key is answered 2xx exactly once, and no episode ever has two attempts open
// at the same time. Every third episode's first attempt fails (500, Retry-After: 0), so retries
// race between the instances too. Bounded by steps; no timing is asserted.

const SECRET = 'instances-webhook-secret-0123456789abcdef';
const EPISODES = 16;

describe('two instances on one PostgreSQL', () => {
  const db = postgresDb();
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await db.cleanup();
  });

  it('delivers each episode once, never two attempts of one at a time', async () => {
    const failFirst = new Set<string>();
    const ok = new Map<string, number>();
    const receiver = await startReceiver((r, nth) => {
      if (nth === 1 && failFirst.has(r.key)) return { status: 500, headers: { 'Retry-After': '0' } };
      ok.set(r.key, (ok.get(r.key) ?? 0) + 1);
      // Slow answers: each attempt stays open across several polls of both instances, while idle
      // workers on both ask for jobs.
      return { status: 200, delayMs: 800 };
    });
    const start = () =>
      startServer({
        port: 0,
        databaseUrl: PG_TEST_URL,
        pgSchema: db.options.pgSchema as string,
        logger: false,
        siteKeys: { sites: { shop: { webhookSecret: SECRET } } },
        triggerPollMs: 100,
        webhookTimeoutMs: 5000,
      });
    servers.push(await start(), await start());
    const store = await db.open();

    const ids: string[] = [];
    const now = Date.now();
    for (let i = 0; i < EPISODES; i++) {
      const id = randomUUID();
      ids.push(id);
      if (i % 3 === 0) failFirst.add(id);
      await store.addDelivery({
        site: 'shop',
        id,
        triggerId: 'cart',
        person: `u:user-${i}`,
        url: receiver.url,
        payload: JSON.stringify({ idempotencyKey: id, site: 'shop' }),
        startedAt: now,
        lastAt: now,
        nextAttemptAt: now,
        now,
      });
    }

    let rows = await store.listDeliveries('shop', { limit: 500 });
    for (let step = 0; step < 300 && rows.some((r) => r.status !== 'delivered'); step++) {
      await new Promise((done) => setTimeout(done, 100));
      rows = await store.listDeliveries('shop', { limit: 500 });
    }
    expect(rows.filter((r) => r.status !== 'delivered')).toEqual([]);
    // A few more polls of both instances: nothing more goes out.
    await new Promise((done) => setTimeout(done, 1500));

    for (const id of ids) {
      expect(ok.get(id), id).toBe(1);
      const expected = failFirst.has(id) ? 2 : 1;
      expect(receiver.received.filter((r) => r.key === id)).toHaveLength(expected);
      expect(rows.find((r) => r.id === id)?.attempts).toBe(expected);
    }
    expect(receiver.received).toHaveLength(EPISODES + failFirst.size);
    expect(receiver.maxConcurrentPerKey).toBe(1);
    await receiver.close();
  });
});
