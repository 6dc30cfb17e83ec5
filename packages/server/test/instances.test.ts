import { afterAll, describe, expect, it } from 'vitest';
import type { CollectResponse, Profile } from '@cairn/schema';
import { startServer, type RunningServer } from '../src/server.js';
import postgres from 'postgres';
import { PG_TEST_URL, postgresDb } from './helpers/db.js';
import { clientToken, config, id, pageEvent, SITE } from './helpers/http.js';

describe('two server instances on one PostgreSQL schema', () => {
  const db = postgresDb();
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await db.cleanup();
  });

  it('ingest overlapping batches for one device without duplicates, and answer the same profile', async () => {
    const opts = {
      port: 0,
      databaseUrl: db.options.databaseUrl as string,
      pgSchema: db.options.pgSchema as string,
      config: config(),
      logger: false as const,
      rateLimit: { ip: false as const, device: false as const },
    };
    // Started together: migrations and config seeding must cope with each other.
    servers.push(...(await Promise.all([startServer(opts), startServer(opts)])));
    const [a, b] = servers as [RunningServer, RunningServer];
    expect(a.port).not.toBe(b.port);

    const deviceId = id();
    const events = Array.from({ length: 80 }, (_, i) =>
      pageEvent({ at: 1_700_000_000_000 + i, product: `SKU-${i % 7}`, path: `/p/${i}` }),
    );
    const post = async (s: RunningServer, from: number, to: number, token?: string) => {
      const res = await fetch(`${s.url}/v1/collect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ site: SITE, deviceId, events: events.slice(from, to) }),
      });
      expect(res.status).toBe(202);
      return (await res.json()) as CollectResponse;
    };

    // The device's own token, as the SDK makes one: adopted at its first collect.
    const token = clientToken();
    const first = await post(a, 0, 10, token);
    // Overlapping ranges, sent to both instances at once, each range to both.
    const ranges: [number, number][] = [
      [0, 30],
      [20, 50],
      [40, 70],
      [60, 80],
      [5, 65],
    ];
    const results = await Promise.all(ranges.flatMap(([f, t]) => [post(a, f, t, token), post(b, f, t, token)]));
    const sent = 10 + ranges.reduce((n, [f, t]) => n + 2 * (t - f), 0);
    const accepted = first.accepted + results.reduce((n, r) => n + r.accepted, 0);
    const duplicates = first.duplicates + results.reduce((n, r) => n + r.duplicates, 0);
    expect(accepted).toBe(80);
    expect(duplicates).toBe(sent - 80);
    expect(results.every((r) => r.deviceToken === undefined)).toBe(true);

    const rows = (await db.tables()).events as { device_id: string; id: string }[];
    expect(rows.filter((r) => r.device_id === deviceId)).toHaveLength(80);

    const read = async (s: RunningServer) => {
      const res = await fetch(`${s.url}/v1/profile?site=${SITE}&deviceId=${deviceId}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as Profile;
    };
    const [pa, pb] = await Promise.all([read(a), read(b)]);
    expect(pa).toEqual(pb);
    expect(pa.pageViews).toHaveLength(80);
    expect(new Set(pa.pageViews.map((p) => p.id)).size).toBe(80);

    // Both serve the config they seeded together, with the same ETag.
    const ca = await fetch(`${a.url}/v1/config?site=${SITE}`);
    const cb = await fetch(`${b.url}/v1/config?site=${SITE}`);
    expect(ca.headers.get('etag')).toBe(cb.headers.get('etag'));
  });
});

describe('two stores on one PostgreSQL schema: an erasure racing a login', () => {
  const db = postgresDb();
  afterAll(() => db.cleanup());

  it('a device linked while the user is being erased is either erased with them or stays findable, never orphaned', async () => {
    const [a, b] = [await db.open(), await db.open()];
    const site = 'race';
    const [d1, d2] = [id(), id()];
    await a.ingest(site, d1, [pageEvent()], 'h1');
    await a.ingest(site, d2, [pageEvent(), pageEvent()], 'h2');
    expect(await a.link(site, d1, 'u1', 1)).toBe('linked');

    // Another connection holds a lock on the events table: the erasure stops at its first DELETE,
    // after it has read the user's devices. Waits are observed in pg_locks, not timed.
    const sql = postgres(PG_TEST_URL, {
      max: 2,
      onnotice: () => undefined,
      connection: { search_path: db.options.pgSchema as string },
    });
    try {
      let release!: () => void;
      let locked!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const isLocked = new Promise<void>((r) => (locked = r));
      const blocker = sql.begin(async (tx) => {
        await tx`LOCK TABLE events IN SHARE MODE`;
        locked();
        await released;
      });
      await isLocked;
      /** Until some transaction waits for a lock on this schema's events table, or for an advisory lock. */
      const waiting = async (on: 'events' | 'advisory') => {
        for (;;) {
          const [r] =
            on === 'events'
              ? await sql<{ n: number }[]>`
                  SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace s ON s.oid = c.relnamespace
                  WHERE NOT l.granted AND s.nspname = ${db.options.pgSchema as string} AND c.relname = 'events'`
              : await sql<
                  { n: number }[]
                >`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype = 'advisory'`;
          if (r!.n > 0) return;
          await new Promise((ok) => setImmediate(ok));
        }
      };
      const erased = a.deleteUser(site, 'u1');
      await waiting('events');
      // Meanwhile the user logs in on d2 through the other instance: it waits for the erasure, or
      // (without the user's lock) links at once.
      const linked = b.link(site, d2, 'u1', 2);
      await Promise.race([linked, waiting('advisory')]);
      release();
      await blocker;
      expect(await erased).toBe(true);
      expect(await linked).toBe('linked');
    } finally {
      await sql.end();
    }
    // d2's login came after the erasure: it is the user's again, with its events, and can be erased.
    const x = await a.exportUser(site, 'u1');
    expect(x?.devices.map((d) => d.deviceId)).toEqual([d2]);
    expect(x?.events).toHaveLength(2);
  });
});
