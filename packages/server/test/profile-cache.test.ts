// GET /v1/profile keeps the JSON it built and reuses it while the database says nothing it reads
// changed (Store.profileVersion): every write another instance makes is seen at the next read. Two
// apps on two store instances of one database; the writes go through the second, the reads through
// the first. Steps are counted (how often the first one builds a profile); nothing is timed.
//
// The version read searches by key only (SQLite; PostgreSQL's has the same shape):
//   devices   SEARCH devices USING INDEX sqlite_autoindex_devices_1 (site=? AND device_id=?)
//             UNION SEARCH devices USING INDEX devices_user (site=? AND user_id=?)
//   traits    SEARCH user_traits USING INDEX sqlite_autoindex_user_traits_1 (site=? AND user_id=?)
//   deletions SEARCH sequences USING INDEX sqlite_autoindex_sequences_1 (name=?); on PostgreSQL
//             sequences_pkey
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Profile } from '@cairn/schema';
import { createApp } from '../src/app.js';
import type { Store } from '../src/store/types.js';
import { makeStores, PG_TEST_URL, type TestDb } from './helpers/db.js';
import { capturedPg, capturedSqlite, plansPg, plansSqlite } from './helpers/statements.js';
import { bearer, clientToken, config, fakeSdk, id, pageEvent, SITE } from './helpers/http.js';

describe.each(makeStores())('the profile cache on $name', (db: TestDb) => {
  let reader: Store;
  let writer: Store;
  let app: ReturnType<typeof createApp>;
  let writerApp: ReturnType<typeof createApp>;

  beforeAll(async () => {
    reader = await db.open();
    writer = await db.open();
    const deps = { logger: false as const, rateLimit: { ip: false as const, device: false as const } };
    app = createApp({ store: reader, sdkPath: fakeSdk(), ...deps });
    writerApp = createApp({ store: writer, sdkPath: fakeSdk(), ...deps });
    await writer.putConfig(SITE, config() as never);
  });
  afterAll(() => db.cleanup());
  afterEach(() => vi.restoreAllMocks());

  const collect = async (target: ReturnType<typeof createApp>, deviceId: string, token: string, path: string) => {
    const res = await target.request('/v1/collect', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(token) },
      body: JSON.stringify({ site: SITE, deviceId, events: [pageEvent({ path })] }),
    });
    expect(res.status).toBe(202);
  };

  /** The reader's answer, and the profile the writer's store reads now: they must be the same. */
  const read = async (deviceId: string, token: string): Promise<Profile> => {
    const res = await app.request(`/v1/profile?site=${SITE}&deviceId=${deviceId}`, { headers: bearer(token) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toBe(JSON.stringify(await writer.profile(SITE, deviceId)));
    return JSON.parse(text) as Profile;
  };

  it('builds a profile once while nothing changes, and again after each write of another instance', async () => {
    const builds = vi.spyOn(reader, 'versionedProfile');
    const phone = { dev: id(), token: clientToken() };
    const desk = { dev: id(), token: clientToken() };
    await collect(app, phone.dev, phone.token, '/first');
    await collect(app, desk.dev, desk.token, '/desk');

    expect((await read(phone.dev, phone.token)).pageViews.map((p) => p.path)).toEqual(['/first']);
    await read(phone.dev, phone.token);
    await read(phone.dev, phone.token);
    expect(builds).toHaveBeenCalledTimes(1);

    // Each write below, through the other instance, is in the reader's next answer (`read` compares).
    let expected = 1;
    const rebuiltAfter = async (write: () => Promise<unknown>) => {
      await write();
      await read(phone.dev, phone.token);
      expect(builds).toHaveBeenCalledTimes(++expected);
      // And then kept again.
      await read(phone.dev, phone.token);
      expect(builds).toHaveBeenCalledTimes(expected);
    };
    await rebuiltAfter(() => collect(writerApp, phone.dev, phone.token, '/second'));
    await rebuiltAfter(() =>
      writer.addOptin({ id: id(), site: SITE, deviceId: phone.dev, email: 'a@b.example', consentText: 'ok', at: 1 }),
    );
    expect((await read(phone.dev, phone.token)).optedIn).toBe(true);
    const user = `user-${id()}`;
    await rebuiltAfter(() => writer.link(SITE, phone.dev, user, 1_700_000_000_000));
    // Another device joining the user merges its events in.
    await rebuiltAfter(() => writer.link(SITE, desk.dev, user, 1_700_000_000_000));
    expect((await read(phone.dev, phone.token)).pageViews.map((p) => p.path).sort()).toEqual([
      '/desk',
      '/first',
      '/second',
    ]);
    // The other device's new events.
    await rebuiltAfter(() => collect(writerApp, desk.dev, desk.token, '/desk-again'));
    await rebuiltAfter(() => writer.changeTraits(SITE, user, { kind: 'replace', traits: { tier: 'gold' } }, 1));
    expect((await read(phone.dev, phone.token)).traits).toEqual({ tier: 'gold' });
    // Retention: the events before a cutoff go.
    await rebuiltAfter(() => writer.deleteEventsBefore(Date.now() + 60_000, 1000));
    expect((await read(phone.dev, phone.token)).pageViews).toEqual([]);
    await rebuiltAfter(() => collect(writerApp, phone.dev, phone.token, '/third'));
    // Erasure.
    await rebuiltAfter(() => writer.deleteUser(SITE, user));
    expect(await read(phone.dev, phone.token)).toMatchObject({ userId: null, pageViews: [] });
  });

  it('a write that stores nothing keeps the profile', async () => {
    const dev = id();
    const token = clientToken();
    const event = pageEvent({ path: '/once' });
    const post = async (target: ReturnType<typeof createApp>) =>
      target.request('/v1/collect', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: JSON.stringify({ site: SITE, deviceId: dev, events: [event] }),
      });
    expect((await post(app)).status).toBe(202);
    await read(dev, token);
    const builds = vi.spyOn(reader, 'versionedProfile');
    // The same event again: a duplicate, nothing stored.
    expect(await (await post(writerApp)).json()).toEqual({ accepted: 0, duplicates: 1 });
    await read(dev, token);
    expect(builds).not.toHaveBeenCalled();
  });

  it('an erased user’s device linked to the same user id again gets nothing of the erased profile', async () => {
    const user = `user-${id()}`;
    const dev = id();
    const token = clientToken();
    await collect(app, dev, token, '/erased-secret');
    expect(await writer.link(SITE, dev, user, Date.now())).not.toBe('conflict');
    expect((await read(dev, token)).pageViews).toHaveLength(1);
    await writer.deleteUser(SITE, user);
    // The shop's account lives on: the next login links the device to the same id, before any collect.
    expect(await writer.link(SITE, dev, user, Date.now())).not.toBe('conflict');
    expect(await read(dev, token)).toMatchObject({ userId: user, pageViews: [], optedIn: false });
  });

  it('reads the version by key: no statement walks a table or a site', async () => {
    const user = `user-${id()}`;
    const dev = id();
    await collect(app, dev, clientToken(), '/plans');
    await writer.link(SITE, dev, user, 1_700_000_000_000);
    const plans = db.name === 'sqlite' ? await sqlitePlans(db, reader, dev) : await pgPlans(db, reader, dev);
    // The devices, the traits and the deletions: one statement each on SQLite, one in all on PostgreSQL.
    expect(plans.length).toBeGreaterThanOrEqual(1);
    if (process.env.SHOW_PLANS) for (const p of plans) console.log(p);
    for (const plan of plans) {
      const lines = plan.split('\n');
      const walks =
        db.name === 'sqlite'
          ? lines.filter((l) => /^SCAN /.test(l) || /\(site=\?\)$/.test(l))
          : // sequences (retention's count) holds a row per counter: searched by its key.
            lines.filter(
              (l) => /Seq Scan on (devices|user_traits)\b/.test(l) || /Index Cond: \(site = '[^']*'::text\)$/.test(l),
            );
      expect(walks, plan).toEqual([]);
    }
  });
});

/** The plans of the statements Store.profileVersion runs on SQLite, captured as they run. */
async function sqlitePlans(db: TestDb, store: Store, deviceId: string): Promise<string[]> {
  const ran = await capturedSqlite(() => store.profileVersion(SITE, deviceId));
  return plansSqlite(db.options.sqlitePath as string, ran).map((lines) => lines.join('\n'));
}

/** The plans of the statements Store.profileVersion sends to PostgreSQL, seq scans discouraged as on a big table. */
async function pgPlans(db: TestDb, store: Store, deviceId: string): Promise<string[]> {
  const ran = await capturedPg(store, () => store.profileVersion(SITE, deviceId));
  const selects = ran.filter((r) => /^\s*select/i.test(r.sql));
  return (await plansPg(PG_TEST_URL, db.options.pgSchema as string, selects)).map((lines) => lines.join('\n'));
}
