import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { retentionPass } from '../src/retention.js';
import { startServer } from '../src/server.js';
import type { EpisodeNotes, Store } from '../src/store/types.js';
import { startCli, runCli } from './helpers/cli.js';
import { makeStores, sqliteDb, type Row } from './helpers/db.js';
import { config, id, pageEvent, SITE } from './helpers/http.js';

// Retention deletes events older than the window, in batches of a bounded size, and nothing else:
// not an event inside the window (the one exactly at the cutoff included), nor devices, links or
// opt-ins.

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const CUTOFF = NOW - 30 * DAY;
let sites = 0;

/** The store, with every deleteEventsBefore call recorded: one call is one DELETE statement. */
function counting(store: Store) {
  const calls: { limit: number; deleted: number }[] = [];
  const counted: Store = Object.create(store);
  counted.deleteEventsBefore = async (cutoff, limit) => {
    const deleted = await store.deleteEventsBefore(cutoff, limit);
    calls.push({ limit, deleted });
    return deleted;
  };
  return { store: counted, calls };
}

/**
 * On a site of its own: old events on two devices, one linked to a user, opt-ins on both, and events
 * inside the window (of 30 days before `now`).
 */
async function seed(store: Store, old: number, now = NOW) {
  const CUTOFF = now - 30 * DAY;
  const NOW_ = now;
  const site = `${SITE}-${++sites}`;
  const [a, b] = [id(), id()];
  const oldEvents = Array.from({ length: old }, (_, i) => pageEvent({ at: CUTOFF - 1 - i * DAY, path: `/old/${i}` }));
  const kept = [
    pageEvent({ at: CUTOFF, path: '/at-the-cutoff' }),
    pageEvent({ at: CUTOFF + 1, path: '/just-inside' }),
    pageEvent({ at: NOW_, path: '/today' }),
  ];
  await store.ingest(site, a, [...oldEvents.slice(0, Math.ceil(old / 2)), ...kept.slice(0, 1)], 'hash-a');
  await store.ingest(site, b, [...oldEvents.slice(Math.ceil(old / 2)), ...kept.slice(1)], 'hash-b');
  await store.link(site, a, 'u-1', CUTOFF - 5 * DAY);
  for (const deviceId of [a, b])
    await store.addOptin({
      id: id(),
      site,
      deviceId,
      email: `${deviceId.slice(0, 8)}@example.com`,
      consentText: 'ok',
      at: CUTOFF - 10 * DAY,
    });
  return { site, keptIds: new Set(kept.map((e) => e.id)), all: [...oldEvents, ...kept] };
}

/** Rows of these tables for one site. */
const pick = (t: Record<string, Row[]>, site: string, ...names: string[]) =>
  Object.fromEntries(names.map((n) => [n, (t[n] ?? []).filter((r) => r.site === site)]));
const eventIds = (t: Record<string, Row[]>, site: string) =>
  new Set((t.events ?? []).filter((r) => r.site === site).map((r) => r.id as string));

describe.each(makeStores())('retention on $name', (db) => {
  afterAll(() => db.cleanup());

  it('deleteEventsBefore deletes at most the batch, only before the cutoff, and nothing but events', async () => {
    const store = await db.open();
    const { site, keptIds } = await seed(store, 12);
    const before = await db.tables();
    const deleted: number[] = [];
    for (let i = 0; i < 4; i++) deleted.push(await store.deleteEventsBefore(CUTOFF, 5));
    expect(deleted).toEqual([5, 5, 2, 0]);

    const after = await db.tables();
    expect(eventIds(after, site)).toEqual(keptIds);
    expect((after.events ?? []).every((e) => Number(e.at) >= CUTOFF)).toBe(true);
    const others = ['links', 'optins', 'users'];
    expect(pick(after, site, ...others)).toEqual(pick(before, site, ...others));
    expect(pick(before, site, ...others).optins).toHaveLength(2);
    // The devices stay; only their bounds move, to the first and last event each has left (the
    // reports' activity reads them).
    const bounds = ['first_event_at', 'last_event_at'];
    const rest = (rows: Row[]) =>
      rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !bounds.includes(k))));
    const devicesAfter = pick(after, site, 'devices').devices as Row[];
    expect(rest(devicesAfter)).toEqual(rest(pick(before, site, 'devices').devices as Row[]));
    for (const d of devicesAfter) {
      const ats = (after.events ?? [])
        .filter((e) => e.site === site && e.device_id === d.device_id)
        .map((e) => Number(e.at));
      expect(ats.length).toBeGreaterThan(0);
      expect([Number(d.first_event_at), Number(d.last_event_at)]).toEqual([Math.min(...ats), Math.max(...ats)]);
    }
    expect(devicesAfter.map((d) => Number(d.first_event_at)).sort()).toEqual([CUTOFF, CUTOFF + 1]);
  });

  it('a pass runs batch after batch until one comes up short, and keeps the window', async () => {
    const { store, calls } = counting(await db.open());
    const { site, keptIds } = await seed(store, 10);
    const pass = await retentionPass({ store, days: 30, batchSize: 4, pauseMs: 0, now: () => NOW });
    // 10 old events in batches of 4: 4, 4, 2.
    expect(calls).toEqual([
      { limit: 4, deleted: 4 },
      { limit: 4, deleted: 4 },
      { limit: 4, deleted: 2 },
    ]);
    expect(pass).toEqual({ deleted: 10, batches: 3, episodes: 0 });
    expect(eventIds(await db.tables(), site)).toEqual(keptIds);

    // Nothing left to delete: one statement, which finds nothing.
    calls.length = 0;
    expect(await retentionPass({ store, days: 30, batchSize: 4, pauseMs: 0, now: () => NOW })).toEqual({
      deleted: 0,
      batches: 1,
      episodes: 0,
    });
  });

  it('a pass deletes closed trigger episodes before the cutoff, in batches; open and undelivered ones stay', async () => {
    const store = await db.open();
    const site = `${SITE}-${++sites}`;
    const device = id();
    await store.ensureDevice(site, device, 'hash', 'mobile');
    const add = async (at: number) => {
      const episode = randomUUID();
      await store.addDelivery({
        site,
        id: episode,
        triggerId: 't',
        person: `d:${device}`,
        startedAt: at,
        lastAt: at,
        nextAttemptAt: at,
        url: 'http://127.0.0.1:9/hook',
        payload: '{}',
        now: at,
      });
      return episode;
    };
    const deliver = async (episode: string, at: number) => {
      const claim = await store.claimDelivery(site, episode, at, 1000);
      if (!claim) throw new Error('not claimed');
      expect(await store.recordDelivery(site, episode, claim, { kind: 'delivered', at, status: 200 })).toBe(true);
    };
    // Two cancelled and three delivered before the cutoff; one pending from long ago, one delivered inside.
    for (const i of [1, 2]) await add(CUTOFF - 5 * DAY - i);
    const cancel: EpisodeNotes['cancel'][number] = {
      triggerIds: ['t'],
      reason: 'purchase',
      at: CUTOFF,
      until: 'started',
      undelivered: true,
    };
    await store.noteEpisodes(site, device, { extend: [], cancel: [cancel] }, CUTOFF - 4 * DAY);
    for (const i of [1, 2, 3]) await deliver(await add(CUTOFF - 3 * DAY - i), CUTOFF - 2 * DAY - i);
    const pending = await add(CUTOFF - 10 * DAY);
    const recent = await add(CUTOFF - DAY);
    await deliver(recent, CUTOFF + DAY);
    expect((await store.listEpisodes(site, 100)).map((e) => e.status).sort()).toEqual([
      'cancelled',
      'cancelled',
      'delivered',
      'delivered',
      'delivered',
      'delivered',
      'pending',
    ]);

    const calls: number[] = [];
    const counted: Store = Object.create(store);
    counted.deleteClosedEpisodesBefore = async (cutoff, limit) => {
      const n = await store.deleteClosedEpisodesBefore(cutoff, limit);
      calls.push(n);
      return n;
    };
    const pass = await retentionPass({ store: counted, days: 30, batchSize: 2, pauseMs: 0, now: () => NOW });
    expect(pass.episodes).toBe(5);
    expect(calls).toEqual([2, 2, 1]);
    expect((await store.listEpisodes(site, 100)).map((e) => e.id).sort()).toEqual([pending, recent].sort());
  });

  it('the server runs a pass on its own when retentionDays is set', async () => {
    const store = await db.open();
    // Seeded around the real clock, which the server uses (30 days kept), 5 minutes ahead of it: the
    // event just before the seeded cutoff is just inside the server's window; the older ones are out.
    const { site, all } = await seed(store, 3, Date.now() + 5 * 60_000);
    const inWindow = all.filter((e) => e.at >= Date.now() - 30 * DAY).map((e) => e.id);
    expect([all.length, inWindow.length]).toEqual([6, 4]);
    const running = await startServer({
      port: 0,
      ...(db.name === 'sqlite'
        ? { db: db.options.sqlitePath as string }
        : { databaseUrl: db.options.databaseUrl as string, pgSchema: db.options.pgSchema as string }),
      config: config(),
      logger: false,
      retentionDays: 30,
    });
    try {
      await expect.poll(async () => [...eventIds(await db.tables(), site)].sort()).toEqual(inWindow.sort());
    } finally {
      await running.close();
    }
  });
});

describe('the CLI', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('takes CAIRN_RETENTION_DAYS, and refuses a malformed --retention-days in one line', async () => {
    const store = await db.open();
    const { site, all } = await seed(store, 2, Date.now() + 5 * 60_000);
    await store.close();
    const inWindow = all.filter((e) => e.at >= Date.now() - 30 * DAY).map((e) => e.id);
    expect([all.length, inWindow.length]).toEqual([5, 4]);
    const running = await startCli(['--db', db.options.sqlitePath as string], { CAIRN_RETENTION_DAYS: '30' });
    try {
      await expect.poll(async () => [...eventIds(await db.tables(), site)].sort()).toEqual(inWindow.sort());
    } finally {
      running.proc.kill('SIGTERM');
      await running.exited;
    }
    const bad = runCli(['--retention-days', 'soon', '--port', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('cairn-server: --retention-days must be an integer from 0 to 36500, got "soon"');
  });
});
