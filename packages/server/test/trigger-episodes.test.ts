// Trigger episodes at the store level, on SQLite and PostgreSQL: what a person's events open, extend
// and cancel (noteEvents), and what an evaluation makes of the due ones (evaluateDue). The clock is
// passed in: nothing here sleeps.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import {
  validateSiteConfig,
  webhookBodySchema,
  type CairnEvent,
  type SiteConfigInput,
  type WebhookBody,
} from '@cairn/schema';
import { createSiteConfigs } from '../src/config/site-configs.js';
import { silentLog } from '../src/log.js';
import type { EpisodeRecord, Store } from '../src/store/types.js';
import { evaluateDue, noteEvents, type TriggerDeps } from '../src/triggers/episodes.js';
import { makeStores, PG_TEST_URL, type TestDb } from './helpers/db.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let seq = 0;
const uniq = () => `${Date.now().toString(36)}${(++seq).toString(36).padStart(4, '0')}`;
const newSite = () => `site-${uniq()}`;
const newDevice = (tag = 'dev') => `${tag}-${uniq()}-device`;
const newId = () => `ev-${uniq()}-${(++seq).toString().padStart(8, '0')}`;

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const HOUR = 60 * MIN;

const view = (at: number, product: string, props: Partial<CairnEvent> = {}): CairnEvent =>
  ({ id: newId(), type: 'page', at, path: `/p/${product}`, title: product, product, ...props }) as CairnEvent;
const ev = (type: string, at: number, props: Record<string, unknown> = {}): CairnEvent =>
  ({ id: newId(), type, at, ...props }) as CairnEvent;

type TriggerInput = NonNullable<SiteConfigInput['triggers']>[number];
const BROWSE: TriggerInput = {
  id: 'browse',
  on: 'browse_abandoned',
  after: '2h',
  minProductViews: 2,
  channels: ['email'],
  url: 'http://127.0.0.1:9/hook',
  cooldown: '7d',
};
const CART: TriggerInput = {
  id: 'cart',
  on: 'cart_abandoned',
  after: '1h',
  channels: ['email', 'sms'],
  url: 'http://127.0.0.1:9/hook',
  cooldown: '0s',
};

/** A logged error fails the test: noteEvents logs rather than throws. */
const failOnError = (o: object): never => {
  throw new Error(`logged: ${JSON.stringify(o)}`);
};

describe.each(makeStores())('trigger episodes on $name', (db: TestDb) => {
  let store: Store;
  beforeAll(async () => {
    store = await db.open();
  });
  afterAll(() => db.cleanup());

  const optin = (site: string, deviceId: string, email = 'shopper@example.com', at = T0) =>
    store.addOptin({ id: newId(), site, deviceId, email, consentText: 'Email me.', at });

  /** Marks an episode delivered at `at`, as a 2xx recorded by the delivery would (raw SQL: the store's own writer is the delivery's). */
  async function markDelivered(site: string, id: string, at: number): Promise<void> {
    const sqlitePath = db.options.sqlitePath;
    if (sqlitePath) {
      const raw = new Database(sqlitePath);
      try {
        raw
          .prepare(
            `UPDATE trigger_episodes SET status = 'delivered', delivered_at = ?, updated_at = ? WHERE site = ? AND id = ?`,
          )
          .run(at, at, site, id);
      } finally {
        raw.close();
      }
      return;
    }
    const sql = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
    try {
      await sql`UPDATE ${sql(db.options.pgSchema ?? 'public')}.trigger_episodes
        SET status = 'delivered', delivered_at = ${at}, updated_at = ${at} WHERE site = ${site} AND id = ${id}`;
    } finally {
      await sql.end();
    }
  }

  /** A site with these triggers, and the deps noteEvents and evaluateDue take. */
  async function site(triggers: SiteConfigInput['triggers'] = [BROWSE, CART]) {
    const id = newSite();
    const r = validateSiteConfig({ site: id, triggers });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    await store.putConfig(id, r.config);
    const deps: TriggerDeps = {
      store,
      configs: createSiteConfigs(store, () => T0, undefined, 0),
      log: { ...silentLog, error: failOnError },
    };
    const device = async (kind: 'mobile' | 'desktop' = 'mobile', tag = 'dev') => {
      const d = newDevice(tag);
      await store.ensureDevice(id, d, 'hash', kind);
      return d;
    };
    /** Stores the events as a collect does, then notes them; received by default as the latest of them happened. */
    const collect = async (deviceId: string, events: CairnEvent[], now = Math.max(T0, ...events.map((e) => e.at))) => {
      await store.ingest(id, deviceId, events, 'hash');
      await noteEvents(deps, id, deviceId, events, now);
    };
    const episodes = async (): Promise<EpisodeRecord[]> => store.listEpisodes(id, 100);
    const open = async () => (await episodes()).filter((e) => e.status === 'open');
    return { id, deps, device, collect, episodes, open };
  }

  it('product views open a browse episode; later ones extend it, earlier and repeated ones widen it', async () => {
    const s = await site();
    const phone = await s.device();
    await s.collect(phone, [view(T0, 'p1')]);
    let [e] = await s.open();
    expect(e).toMatchObject({
      triggerId: 'browse',
      person: `d:${phone}`,
      startedAt: T0,
      lastAt: T0,
      dueAt: T0 + 2 * HOUR,
    });
    await s.collect(phone, [view(T0 + 10 * MIN, 'p2')]);
    [e] = await s.open();
    expect(e).toMatchObject({ startedAt: T0, lastAt: T0 + 10 * MIN, dueAt: T0 + 10 * MIN + 2 * HOUR });
    // Out of order: an event older than the episode's start, arriving late.
    const late = view(T0 - 5 * MIN, 'p0');
    await s.collect(phone, [late]);
    await s.collect(phone, [late]);
    const all = await s.episodes();
    expect(all).toHaveLength(1);
    [e] = all;
    expect(e).toMatchObject({
      status: 'open',
      startedAt: T0 - 5 * MIN,
      lastAt: T0 + 10 * MIN,
      dueAt: T0 + 10 * MIN + 2 * HOUR,
    });
  });

  it('a page without a product, or a site without triggers, opens nothing', async () => {
    const s = await site();
    const phone = await s.device();
    await s.collect(phone, [ev('page', T0, { path: '/about' }), ev('touch', T0)]);
    expect(await s.episodes()).toEqual([]);
    const bare = await site([]);
    const d = await bare.device();
    await bare.collect(d, [view(T0, 'p1'), ev('add_to_cart', T0, { product: 'p1' })]);
    expect(await bare.episodes()).toEqual([]);
  });

  it('add_to_cart opens a cart episode and cancels the open browse one; a purchase cancels the cart one', async () => {
    const s = await site();
    const phone = await s.device();
    await s.collect(phone, [view(T0, 'p1')]);
    await s.collect(phone, [ev('add_to_cart', T0 + MIN, { product: 'p1' })]);
    let all = await s.episodes();
    expect(all.find((e) => e.triggerId === 'browse')).toMatchObject({ status: 'cancelled', reason: 'add_to_cart' });
    expect(all.find((e) => e.triggerId === 'cart')).toMatchObject({ status: 'open', dueAt: T0 + MIN + HOUR });
    await s.collect(phone, [ev('purchase', T0 + 2 * MIN, { orderId: `o-${uniq()}` })]);
    all = await s.episodes();
    expect(all.find((e) => e.triggerId === 'cart')).toMatchObject({ status: 'cancelled', reason: 'purchase' });
    // The same batch sent again opens nothing: a closed episode covers its events.
    await s.collect(phone, [ev('add_to_cart', T0 + MIN, { product: 'p1' })]);
    expect(await s.open()).toEqual([]);
  });

  it('cart_emptied cancels the cart episode, not the browse one', async () => {
    const s = await site();
    const phone = await s.device();
    await s.collect(phone, [ev('add_to_cart', T0, { product: 'p1' }), view(T0 + MIN, 'p2')]);
    await s.collect(phone, [ev('cart_emptied', T0 + 2 * MIN)]);
    const all = await s.episodes();
    expect(all.find((e) => e.triggerId === 'cart')).toMatchObject({ status: 'cancelled', reason: 'cart_emptied' });
    expect(all.find((e) => e.triggerId === 'browse')).toMatchObject({ status: 'open' });
  });

  it('a purchase older than the episode (arriving late) does not cancel it', async () => {
    const s = await site();
    const phone = await s.device();
    await s.collect(phone, [view(T0, 'p1')]);
    await s.collect(phone, [ev('purchase', T0 - HOUR, { orderId: `o-${uniq()}` })]);
    expect(await s.open()).toHaveLength(1);
  });

  it("a client's clock ahead of the server's: the episode's times are the server's, never later", async () => {
    const s = await site();
    const phone = await s.device();
    // Dated a year ahead, received at T0: due `after` the receipt, not a year on.
    await s.collect(phone, [view(T0 + 365 * 24 * HOUR, 'p1'), view(T0 + 366 * 24 * HOUR, 'p2')], T0);
    const [e] = await s.open();
    expect(e).toMatchObject({ startedAt: T0, lastAt: T0, dueAt: T0 + 2 * HOUR });
  });

  it('events older than the horizon when received open nothing, and a late purchase still cancels', async () => {
    const s = await site();
    const phone = await s.device();
    // A month-old journey (a seed's, a queue replayed): nothing due at once.
    await s.collect(
      phone,
      [view(T0 - 30 * 24 * HOUR, 'p1'), view(T0 - 30 * 24 * HOUR + MIN, 'p2'), ev('add_to_cart', T0 - 3 * HOUR)],
      T0,
    );
    expect(await s.episodes()).toEqual([]);
    // Inside the horizon (max(after, 1 h)): it opens, at its own (past) time.
    await s.collect(phone, [view(T0 - 90 * MIN, 'p3'), ev('add_to_cart', T0 - 30 * MIN, { product: 'p3' })], T0);
    expect((await s.episodes()).map((e) => [e.triggerId, e.status, e.startedAt])).toEqual(
      expect.arrayContaining([
        ['browse', 'cancelled', T0 - 90 * MIN],
        ['cart', 'open', T0 - 30 * MIN],
      ]),
    );
    // A purchase from a day ago, received now, still cancels what had started by then... and a later one all.
    await s.collect(phone, [ev('purchase', T0 - 24 * HOUR, { orderId: `o-${uniq()}` })], T0 + MIN);
    expect(await s.open()).toHaveLength(1);
    await s.collect(phone, [ev('purchase', T0 - 10 * MIN, { orderId: `o-${uniq()}` })], T0 + 2 * HOUR);
    expect(await s.open()).toEqual([]);
  });

  describe('evaluation', () => {
    const body = (e: EpisodeRecord): WebhookBody => webhookBodySchema.parse(JSON.parse(e.payload ?? 'null'));

    it('a due browse episode with enough products and an opt-in becomes pending with its payload', async () => {
      const s = await site();
      const phone = await s.device('mobile');
      await optin(s.id, phone);
      await s.collect(phone, [
        view(T0, 'p1', { category: 'shoes', device: 'mobile' }),
        view(T0 + MIN, 'p2', { device: 'mobile' }),
      ]);
      // Not due yet: nothing happens.
      expect(await evaluateDue(s.deps, T0 + MIN + 2 * HOUR - 1)).toEqual([]);
      const made = await evaluateDue(s.deps, T0 + MIN + 2 * HOUR);
      const [e] = await s.episodes();
      expect(made).toEqual([{ site: s.id, id: e?.id, nextAttemptAt: T0 + MIN + 2 * HOUR }]);
      expect(e).toMatchObject({ status: 'pending', url: BROWSE.url, nextAttemptAt: T0 + MIN + 2 * HOUR });
      const b = body(e as EpisodeRecord);
      expect(b).toMatchObject({
        idempotencyKey: e?.id,
        site: s.id,
        trigger: { id: 'browse', on: 'browse_abandoned' },
        episode: { id: e?.id, startedAt: T0, lastAt: T0 + MIN },
        person: { userId: null, email: 'shopper@example.com', channels: ['email'] },
        cart: [],
        devices: ['mobile'],
        createdAt: T0 + MIN + 2 * HOUR,
      });
      expect(b.products.map((p) => p.id)).toEqual(['p2', 'p1']);
      expect(b.categories.map((c) => c.id)).toEqual(['shoes']);
      expect(b.person.traits).toBeUndefined();
      // Evaluated once: a second poll finds nothing due.
      expect(await evaluateDue(s.deps, T0 + 5 * HOUR)).toEqual([]);
    });

    it('fewer distinct products than minProductViews cancel it', async () => {
      const s = await site();
      const phone = await s.device();
      await optin(s.id, phone);
      await s.collect(phone, [view(T0, 'p1'), view(T0 + MIN, 'p1')]);
      const cancelled: string[] = [];
      expect(await evaluateDue({ ...s.deps, cancelled: (r) => cancelled.push(r) }, T0 + 3 * HOUR)).toEqual([]);
      expect((await s.episodes())[0]).toMatchObject({ status: 'cancelled', reason: 'min_product_views' });
      // Counted for the metric, once.
      expect(cancelled).toEqual(['min_product_views']);
      expect(await evaluateDue({ ...s.deps, cancelled: (r) => cancelled.push(r) }, T0 + 4 * HOUR)).toEqual([]);
      expect(cancelled).toEqual(['min_product_views']);
    });

    it('a purchase the collect did not note (any device of the user) cancels it when due', async () => {
      const s = await site();
      const [phone, desktop] = [await s.device('mobile'), await s.device('desktop')];
      await store.link(s.id, phone, 'u-buyer', T0);
      await store.link(s.id, desktop, 'u-buyer', T0);
      await s.collect(phone, [view(T0, 'p1'), view(T0 + MIN, 'p2')]);
      // Stored without noteEvents: the evaluation re-checks the events themselves.
      await store.ingest(s.id, desktop, [ev('purchase', T0 + 2 * MIN, { orderId: `o-${uniq()}` })], 'hash');
      expect(await evaluateDue(s.deps, T0 + 3 * HOUR)).toEqual([]);
      expect((await s.episodes())[0]).toMatchObject({ status: 'cancelled', reason: 'purchase' });
    });

    it('a purchase cancels a pending episode before its delivery', async () => {
      const s = await site();
      const phone = await s.device();
      await store.link(s.id, phone, 'u-late-buyer', T0);
      await s.collect(phone, [ev('add_to_cart', T0, { product: 'p1' })]);
      expect(await evaluateDue(s.deps, T0 + 2 * HOUR)).toHaveLength(1);
      await s.collect(phone, [ev('purchase', T0 + 3 * HOUR, { orderId: `o-${uniq()}` })]);
      expect((await s.episodes())[0]).toMatchObject({ status: 'cancelled', reason: 'purchase' });
    });

    it('an emptied cart cancels the cart episode when due, a later add does not', async () => {
      const s = await site([CART]);
      const phone = await s.device();
      await store.link(s.id, phone, `u-${uniq()}`, T0);
      await s.collect(phone, [ev('add_to_cart', T0, { product: 'p1' })]);
      await store.ingest(s.id, phone, [ev('cart_emptied', T0 + MIN)], 'hash');
      expect(await evaluateDue(s.deps, T0 + 2 * HOUR)).toEqual([]);
      expect((await s.episodes())[0]).toMatchObject({ status: 'cancelled', reason: 'cart_emptied' });
      await s.collect(phone, [ev('add_to_cart', T0 + 3 * HOUR, { product: 'p2', device: 'mobile' })]);
      expect(await evaluateDue(s.deps, T0 + 5 * HOUR)).toHaveLength(1);
      const pending = (await s.episodes()).find((e) => e.status === 'pending') as EpisodeRecord;
      expect(body(pending).cart).toEqual([{ id: 'p2', at: T0 + 3 * HOUR, device: 'mobile' }]);
      // Identified: both channels of the trigger reach them.
      expect(body(pending).person.channels).toEqual(['email', 'sms']);
    });

    it('an anonymous device without an opt-in is unreachable; an sms-only trigger needs an identified person', async () => {
      const s = await site([BROWSE, { ...CART, channels: ['sms'] }]);
      const phone = await s.device();
      await s.collect(phone, [view(T0, 'p1'), view(T0 + MIN, 'p2')]);
      await evaluateDue(s.deps, T0 + 3 * HOUR);
      expect((await s.episodes())[0]).toMatchObject({ status: 'cancelled', reason: 'unreachable' });
      await optin(s.id, phone);
      await s.collect(phone, [ev('add_to_cart', T0 + 4 * HOUR, { product: 'p1' })]);
      await evaluateDue(s.deps, T0 + 6 * HOUR);
      expect((await s.episodes()).find((e) => e.triggerId === 'cart')).toMatchObject({
        status: 'cancelled',
        reason: 'unreachable',
      });
    });

    it('a delivery to the person within the cooldown cancels the next episode, of any trigger', async () => {
      const s = await site([BROWSE, { ...CART, cooldown: '1d' }]);
      const phone = await s.device();
      await optin(s.id, phone);
      await s.collect(phone, [view(T0, 'p1'), view(T0 + MIN, 'p2')]);
      const [first] = await evaluateDue(s.deps, T0 + 3 * HOUR);
      await markDelivered(s.id, first?.id ?? '', T0 + 3 * HOUR);
      await s.collect(phone, [ev('add_to_cart', T0 + 4 * HOUR, { product: 'p1' })]);
      expect(await evaluateDue(s.deps, T0 + 5 * HOUR)).toEqual([]);
      expect((await s.episodes()).find((e) => e.triggerId === 'cart')).toMatchObject({
        status: 'cancelled',
        reason: 'cooldown',
      });
      // Past the cooldown, the next one goes.
      await s.collect(phone, [ev('add_to_cart', T0 + 30 * HOUR, { product: 'p3' })]);
      expect(await evaluateDue(s.deps, T0 + 31 * HOUR)).toHaveLength(1);
    });

    it('an undelivered (pending) webhook to the person counts for the cooldown of the next, of any trigger', async () => {
      // Two triggers due in one poll: the second must not go out while the first is on its way.
      const s = await site([BROWSE, { ...BROWSE, id: 'browse-2', url: 'http://127.0.0.1:9/other' }]);
      const phone = await s.device();
      await optin(s.id, phone);
      await s.collect(phone, [view(T0, 'p1'), view(T0 + MIN, 'p2')]);
      expect(await evaluateDue(s.deps, T0 + 3 * HOUR)).toHaveLength(1);
      expect((await s.episodes()).map((e) => e.status).sort()).toEqual(['cancelled', 'pending']);
      expect((await s.episodes()).find((e) => e.status === 'cancelled')?.reason).toBe('cooldown');
      // A cooldown of 0 lets both go.
      const z = await site([
        { ...BROWSE, cooldown: '0s' },
        { ...BROWSE, id: 'browse-2', cooldown: '0s' },
      ]);
      const d = await z.device();
      await optin(z.id, d);
      await z.collect(d, [view(T0, 'p1'), view(T0 + MIN, 'p2')]);
      expect(await evaluateDue(z.deps, T0 + 3 * HOUR)).toHaveLength(2);
    });

    it('a refusal of consent cancels the episodes, and any later one of the same person', async () => {
      const s = await site();
      const [phone, desktop] = [await s.device('mobile'), await s.device('desktop')];
      await store.link(s.id, phone, 'u-private', T0);
      await store.link(s.id, desktop, 'u-private', T0);
      await s.collect(desktop, [view(T0, 'p1'), view(T0 + MIN, 'p2')]);
      await store.denyDevice(s.id, phone, T0 + 2 * MIN);
      expect((await s.episodes())[0]).toMatchObject({ status: 'cancelled', reason: 'denied' });
      expect((await store.getDevice(s.id, phone))?.revokedAt).toBeNull();
      await s.collect(desktop, [view(T0 + HOUR, 'p3'), view(T0 + HOUR, 'p4')]);
      expect(await evaluateDue(s.deps, T0 + 4 * HOUR)).toEqual([]);
      expect((await s.open()).length).toBe(0);
      expect((await s.episodes()).map((e) => e.reason)).toEqual(['denied', 'denied']);
    });

    it('a trigger removed from the config, or an audience the person is not in, cancels it', async () => {
      const s = await site([BROWSE, { ...CART, where: { traits: { tier: 'vip' } } }]);
      const phone = await s.device();
      await optin(s.id, phone);
      await s.collect(phone, [
        view(T0, 'p1'),
        view(T0 + MIN, 'p2'),
        ev('add_to_cart', T0 - 59 * MIN, { product: 'p0' }),
      ]);
      // An anonymous person has no traits: never in a traits audience.
      await evaluateDue(s.deps, T0 + MIN);
      expect((await s.episodes()).find((e) => e.triggerId === 'cart')).toMatchObject({ reason: 'audience' });
      const r = validateSiteConfig({ site: s.id, triggers: [] });
      if (!r.ok) throw new Error('config');
      await store.putConfig(s.id, r.config);
      await evaluateDue(s.deps, T0 + 3 * HOUR);
      expect((await s.episodes()).find((e) => e.triggerId === 'browse')).toMatchObject({ reason: 'config_removed' });
    });

    it("an identified person in the trigger's traits audience gets a webhook carrying their traits", async () => {
      const s = await site([{ ...CART, where: { traits: { tier: ['vip', 'gold'] } } }]);
      const [vip, plain] = [await s.device(), await s.device()];
      await store.link(s.id, vip, 'u-vip', T0);
      await store.link(s.id, plain, 'u-plain', T0);
      await store.changeTraits(s.id, 'u-vip', { kind: 'replace', traits: { tier: 'VIP', orders: 3 } }, T0);
      await store.changeTraits(s.id, 'u-plain', { kind: 'replace', traits: { tier: 'basic' } }, T0);
      await s.collect(vip, [ev('add_to_cart', T0, { sku: 'sku-1' })]);
      await s.collect(plain, [ev('add_to_cart', T0, { sku: 'sku-1' })]);
      const made = await evaluateDue(s.deps, T0 + 2 * HOUR);
      expect(made).toHaveLength(1);
      const all = await s.episodes();
      expect(all.find((e) => e.person === 'u:u-plain')).toMatchObject({ status: 'cancelled', reason: 'audience' });
      const b = body(all.find((e) => e.person === 'u:u-vip') as EpisodeRecord);
      expect(b.person).toEqual({ userId: 'u-vip', channels: ['email', 'sms'], traits: { tier: 'VIP', orders: 3 } });
      expect(b.cart.map((c) => c.id)).toEqual(['sku-1']);
    });

    it("phone browses anonymously, then logs in; desktop logs in: one episode for the user, naming the phone's products", async () => {
      const s = await site();
      const [phone, desktop] = [await s.device('mobile', 'phone'), await s.device('desktop', 'desktop')];
      await s.collect(phone, [
        view(T0, 'phone-1', { device: 'mobile' }),
        view(T0 + MIN, 'phone-2', { device: 'mobile' }),
      ]);
      await store.link(s.id, phone, 'u-shopper', T0 + 2 * MIN);
      await store.link(s.id, desktop, 'u-shopper', T0 + 10 * MIN);
      await s.collect(desktop, [view(T0 + 11 * MIN, 'desk-1', { device: 'desktop' })]);
      expect((await s.open()).map((e) => e.person).sort()).toEqual([`d:${phone}`, 'u:u-shopper'].sort());
      const cancelled: string[] = [];
      const made = await evaluateDue({ ...s.deps, cancelled: (r) => cancelled.push(r) }, T0 + 5 * HOUR);
      expect(made).toHaveLength(1);
      expect(cancelled).toEqual(['merged']);
      const all = await s.episodes();
      expect(all.filter((e) => e.status === 'cancelled').map((e) => e.reason)).toEqual(['merged']);
      const pending = all.find((e) => e.status === 'pending') as EpisodeRecord;
      expect(pending.person).toBe('u:u-shopper');
      const b = body(pending);
      expect(b.person).toMatchObject({ userId: 'u-shopper', channels: ['email'] });
      expect(b.products.map((p) => p.id)).toEqual(['desk-1', 'phone-2', 'phone-1']);
      expect(b.episode.startedAt).toBe(T0);
      expect([...b.devices].sort()).toEqual(['desktop', 'mobile']);
    });

    it("a user's due episode takes in their phone's, browsed later: it waits for the phone's last view", async () => {
      const s = await site([{ ...BROWSE, cooldown: '0s' }]);
      const [phone, desktop] = [await s.device('mobile'), await s.device('desktop')];
      await store.link(s.id, desktop, 'u-absorb', T0 - MIN);
      await s.collect(desktop, [view(T0, 'desk-1'), view(T0 + MIN, 'desk-2')]);
      // The phone browses anonymously, later than the desktop, then logs in.
      await s.collect(phone, [view(T0 + 10 * MIN, 'phone-1'), view(T0 + 11 * MIN, 'phone-2')]);
      await store.link(s.id, phone, 'u-absorb', T0 + 12 * MIN);
      const cancelled: string[] = [];
      const deps = { ...s.deps, cancelled: (r: string) => cancelled.push(r) };
      // The desktop's episode is due, but the person browsed on the phone since: not yet.
      expect(await evaluateDue(deps, T0 + MIN + 2 * HOUR)).toEqual([]);
      expect(cancelled).toEqual(['merged']);
      expect(await s.open()).toEqual([
        expect.objectContaining({ person: 'u:u-absorb', startedAt: T0, lastAt: T0 + 11 * MIN }),
      ]);
      const [made] = await evaluateDue(deps, T0 + 11 * MIN + 2 * HOUR);
      const sent = (await s.episodes()).find((e) => e.id === made?.id) as EpisodeRecord;
      expect(body(sent).products.map((p) => p.id)).toEqual(['phone-2', 'phone-1', 'desk-2', 'desk-1']);
      expect((await s.episodes()).map((e) => [e.status, e.reason]).sort()).toEqual([
        ['cancelled', 'merged'],
        ['pending', null],
      ]);
    });

    it.runIf(db.name === 'postgres')(
      "a user's due episode whose phone episode another transaction holds waits for the next evaluation",
      async () => {
        const s = await site([{ ...BROWSE, cooldown: '0s' }]);
        const [phone, desktop] = [await s.device('mobile'), await s.device('desktop')];
        await store.link(s.id, desktop, 'u-busy', T0 - MIN);
        await s.collect(desktop, [view(T0, 'desk-1'), view(T0 + MIN, 'desk-2')]);
        await s.collect(phone, [view(T0 + 2 * MIN, 'phone-1'), view(T0 + 3 * MIN, 'phone-2')]);
        await store.link(s.id, phone, 'u-busy', T0 + 4 * MIN);
        const due = T0 + 3 * MIN + 2 * HOUR;
        // A collect (or another instance) holds the phone's episode row while the evaluation runs.
        const other = postgres(PG_TEST_URL, {
          max: 1,
          onnotice: () => {},
          connection: { search_path: db.options.pgSchema as string },
        });
        let release = () => {};
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked = () => {};
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holder = other.begin(async (tx) => {
          await tx`SELECT id FROM trigger_episodes WHERE site = ${s.id} AND person = ${`d:${phone}`} FOR UPDATE`;
          locked();
          await held;
        });
        try {
          await isLocked;
          expect(await evaluateDue(s.deps, due)).toEqual([]);
          // Not sent without the phone's views, and nothing merged: both still open.
          expect((await s.open()).map((e) => e.person).sort()).toEqual([`d:${phone}`, 'u:u-busy']);
        } finally {
          release();
          await holder;
          await other.end({ timeout: 5 });
        }
        const [made] = await evaluateDue(s.deps, due);
        const sent = (await s.episodes()).find((e) => e.id === made?.id) as EpisodeRecord;
        expect(body(sent).products.map((p) => p.id)).toEqual(['phone-2', 'phone-1', 'desk-2', 'desk-1']);
      },
    );

    it("a phone episode its user's webhook already covered is merged, not sent twice (no cooldown)", async () => {
      const s = await site([{ ...BROWSE, cooldown: '0s' }]);
      const [phone, desktop] = [await s.device('mobile'), await s.device('desktop')];
      await store.link(s.id, desktop, 'u-twice', T0 - MIN);
      await s.collect(desktop, [view(T0, 'desk-1'), view(T0 + MIN, 'desk-2')]);
      expect(await evaluateDue(s.deps, T0 + MIN + 2 * HOUR)).toHaveLength(1);
      // The phone's anonymous views, from before that webhook, arrive late (an offline outbox).
      await s.collect(phone, [view(T0 + 10 * MIN, 'phone-1'), view(T0 + 11 * MIN, 'phone-2')], T0 + 2 * HOUR + 5 * MIN);
      await store.link(s.id, phone, 'u-twice', T0 + 2 * HOUR + 6 * MIN);
      expect(await evaluateDue(s.deps, T0 + 11 * MIN + 2 * HOUR)).toEqual([]);
      expect((await s.episodes()).map((e) => [e.status, e.reason]).sort()).toEqual([
        ['cancelled', 'merged'],
        ['pending', null],
      ]);
    });

    it('a phone episode is re-keyed to its user once the phone is linked', async () => {
      const s = await site();
      const [phone, desktop] = [await s.device('mobile'), await s.device('desktop')];
      await s.collect(phone, [
        view(T0, 'phone-1', { device: 'mobile' }),
        view(T0 + MIN, 'phone-2', { device: 'mobile' }),
      ]);
      await store.link(s.id, phone, 'u-rekey', T0 + 2 * MIN);
      await store.link(s.id, desktop, 'u-rekey', T0 + 3 * MIN);
      expect(await evaluateDue(s.deps, T0 + 5 * HOUR)).toHaveLength(1);
      const [e] = await s.episodes();
      expect(e).toMatchObject({ status: 'pending', person: 'u:u-rekey' });
      expect(body(e as EpisodeRecord).products.map((p) => p.id)).toEqual(['phone-2', 'phone-1']);
    });
  });

  it("erasing a user removes their episodes, under the user's key and their devices'", async () => {
    const s = await site();
    const [phone, desktop, stranger] = [await s.device('mobile'), await s.device('desktop'), await s.device()];
    await optin(s.id, phone, 'erased@example.com');
    await s.collect(phone, [view(T0, 'p1'), view(T0 + MIN, 'p2')]);
    await store.link(s.id, phone, 'u-erased', T0 + 2 * MIN);
    await store.link(s.id, desktop, 'u-erased', T0 + 2 * MIN);
    await s.collect(desktop, [ev('add_to_cart', T0 + 3 * MIN, { product: 'p2' })]);
    await s.collect(stranger, [view(T0, 'p9')]);
    await evaluateDue(s.deps, T0 + 5 * HOUR);
    expect((await s.episodes()).some((e) => e.payload?.includes('erased@example.com'))).toBe(true);
    // The privacy export lists them first, with the webhook body made for each.
    const exported = (await store.exportUser(s.id, 'u-erased'))?.triggerEpisodes ?? [];
    expect(exported.map((e) => e.status).sort()).toEqual(['cancelled', 'pending']);
    expect(JSON.stringify(exported)).toContain('erased@example.com');
    expect(JSON.stringify(exported)).not.toContain(stranger);
    expect(await store.deleteUser(s.id, 'u-erased')).toBe(true);
    expect((await s.episodes()).map((e) => e.person)).toEqual([`d:${stranger}`]);
  });

  describe.runIf(db.name === 'postgres')('several instances', () => {
    it('concurrent collects of one person from two pools keep one open episode', async () => {
      const s = await site();
      const other = await db.open();
      const phone = await s.device();
      const deps2: TriggerDeps = { ...s.deps, store: other };
      const batches = Array.from({ length: 24 }, (_, i) => [view(T0 + i * MIN, `p${i}`)]);
      await Promise.all(
        batches.map(async (events, i) => {
          const d = i % 2 ? deps2 : s.deps;
          await d.store.ingest(s.id, phone, events, 'hash');
          await noteEvents(d, s.id, phone, events, T0 + 23 * MIN);
        }),
      );
      const all = await s.episodes();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ status: 'open', startedAt: T0, lastAt: T0 + 23 * MIN });
    });

    it('two evaluators never both take one episode', async () => {
      const s = await site();
      const other = await db.open();
      for (let i = 0; i < 12; i++) {
        const d = await s.device();
        await optin(s.id, d);
        await s.collect(d, [view(T0, 'p1'), view(T0 + MIN, 'p2')]);
      }
      const seen: string[] = [];
      const slow = (deps: TriggerDeps) =>
        deps.store.evaluateDueEpisodes(T0 + 3 * HOUR, 100, async (facts) => {
          seen.push(facts.episode.id);
          // Holds the episode a while, so that the other evaluator runs meanwhile.
          await new Promise((r) => setTimeout(r, 20));
          return { status: 'pending', url: BROWSE.url, payload: '{}' };
        });
      const [a, b] = await Promise.all([slow(s.deps), slow({ ...s.deps, store: other })]);
      // Other tests' episodes share the database: count this site's.
      const mine = <T extends { site: string }>(list: T[]) => list.filter((p) => p.site === s.id);
      expect(mine(a).length).toBeGreaterThan(0);
      expect(mine(b).length).toBeGreaterThan(0);
      expect(new Set(seen).size).toBe(seen.length);
      expect(mine(a).length + mine(b).length).toBe(12);
      expect(new Set(mine([...a, ...b]).map((p) => p.id)).size).toBe(12);
    });
  });
});
