// The one storage suite: every test runs against SQLite and against PostgreSQL.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  LIMITS,
  validateSiteConfig,
  type CairnEvent,
  type Channel,
  type OptinBody,
  type SiteConfig,
  type Touch,
} from '@cairn/schema';
import { StoreError, type Store } from '../src/store/index.js';
import { sqliteMigrations, pgMigrations } from '../src/store/migrations.js';
import { makeStores, type Row, type TestDb } from './helpers/db.js';

// A ceiling for a shared, busy machine (child processes, real databases), not a speed assertion.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let seq = 0;
const uniq = () => `${Date.now().toString(36)}${(++seq).toString(36).padStart(4, '0')}`;
const newSite = () => `site-${uniq()}`;
const newDevice = (tag = 'dev') => `${tag}-${uniq()}-device`;
/** Event ids sort by creation order, so tests can tell which came first. */
const newId = () => `ev-${(++seq).toString().padStart(8, '0')}`;

const touchOf = (channel: Channel, source: string, at: number): Touch => ({
  source,
  medium: channel === 'Direct' ? '(none)' : 'referral',
  channel,
  landingPath: '/landing',
  at,
});
// CairnEvent's catch-all index signature does not admit the `touch` object in a spread literal, hence the casts.
const asEvent = (e: object) => e as CairnEvent;
const pageEv = (at: number, props: Partial<CairnEvent> = {}) =>
  asEvent({ id: newId(), type: 'page', at, path: `/p/${at}`, title: `Page ${at}`, session: 's1', ...props });
const touchEv = (t: Touch) => asEvent({ id: newId(), type: 'touch', at: t.at, touch: t });

const config = (site: string, extra: object = {}): SiteConfig => {
  const r = validateSiteConfig({ site, origins: ['https://shop.example'], ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
};

const optin = (site: string, deviceId: string, over: Partial<OptinBody> = {}): OptinBody => ({
  id: newId(),
  site,
  deviceId,
  email: 'shopper@example.com',
  consentText: 'Email me about new arrivals.',
  at: 1_700_000_000_000,
  promptId: 'newsletter',
  touch: touchOf('Organic Social', 'pinterest', 1_700_000_000_000),
  ...over,
});

/** Rows of `table` that belong to `site`. */
const rowsOf = (tables: Record<string, Row[]>, table: string, site: string) =>
  (tables[table] ?? []).filter((r) => r.site === site);

describe.each(makeStores())('$name store', (db: TestDb) => {
  let store: Store;
  beforeAll(async () => {
    store = await db.open();
  });
  afterAll(() => db.cleanup());

  it('says which kind it is', () => {
    expect(store.kind).toBe(db.name);
  });

  describe('ingest', () => {
    it('is idempotent by event id and creates the device once', async () => {
      const site = newSite();
      const dev = newDevice();
      const batch = [pageEv(1000), pageEv(2000), pageEv(3000)];

      expect(await store.ingest(site, dev, batch, 'hash-1', 'mobile')).toEqual({
        accepted: 3,
        duplicates: 0,
        newDevice: true,
      });
      // A retry (lost response) and a batch overlapping it.
      expect(await store.ingest(site, dev, batch, 'hash-2')).toEqual({ accepted: 0, duplicates: 3, newDevice: false });
      const more = pageEv(4000);
      expect(await store.ingest(site, dev, [batch[0]!, more, more], 'hash-3')).toEqual({
        accepted: 1,
        duplicates: 2,
        newDevice: false,
      });

      const device = await store.getDevice(site, dev);
      expect(device).toMatchObject({ site, deviceId: dev, tokenHash: 'hash-1', userId: null, kind: 'mobile' });
      expect(typeof device?.createdAt).toBe('number');
      const rows = rowsOf(await db.tables(), 'events', site);
      expect(rows.map((r) => r.id).sort()).toEqual([...batch.map((e) => e.id), more.id].sort());
    });

    it('counts an event id already stored by another device of the site as a duplicate, but not one of another site', async () => {
      const site = newSite();
      const e = pageEv(10);
      expect((await store.ingest(site, newDevice(), [e], 'h')).accepted).toBe(1);
      expect(await store.ingest(site, newDevice(), [e], 'h')).toMatchObject({ accepted: 0, duplicates: 1 });
      expect(await store.ingest(newSite(), newDevice(), [e], 'h')).toMatchObject({ accepted: 1, duplicates: 0 });
    });

    it('writes nothing of a batch with a row the database refuses, not even the new device', async () => {
      const site = newSite();
      const dev = newDevice();
      // The bad row sorts between two good ones, so good rows are written before it fails.
      const [a, b, c] = [pageEv(1), pageEv(2), pageEv(3)];
      const bad = asEvent({ ...b, at: -5 });
      await expect(store.ingest(site, dev, [a, bad, c], 'h', 'desktop')).rejects.toThrow();
      expect(await store.getDevice(site, dev)).toBeNull();

      // Same on an existing device: the good new event of the failed batch is not kept either.
      await store.ingest(site, dev, [a], 'h');
      await expect(store.ingest(site, dev, [c, asEvent({ ...pageEv(4), at: 1.5 })], 'h')).rejects.toThrow();
      const ids = rowsOf(await db.tables(), 'events', site).map((r) => r.id);
      expect(ids).toEqual([a.id]);
    });

    it('rejects a batch holding a value JSON cannot carry, writing nothing', async () => {
      const site = newSite();
      const dev = newDevice();
      const weird = { ...pageEv(5), big: 10n } as unknown as CairnEvent;
      await expect(store.ingest(site, dev, [pageEv(4), weird], 'h')).rejects.toThrow();
      expect(await store.getDevice(site, dev)).toBeNull();
      expect(rowsOf(await db.tables(), 'events', site)).toEqual([]);
    });

    it('keeps overlapping concurrent batches from two instances free of duplicates, and both read the same profile', async () => {
      const other = await db.open();
      const site = newSite();
      const dev = newDevice();
      const events = Array.from({ length: 120 }, (_, i) =>
        i % 10 === 0
          ? touchEv(touchOf('Paid Search', 'google', 1000 + i))
          : pageEv(1000 + i, { product: `sku-${i % 7}`, device: 'mobile' }),
      );
      // Each instance sends overlapping 30-event windows, shuffled differently, all at once.
      const windows = (offset: number) =>
        Array.from({ length: 6 }, (_, w) => events.slice(w * 20 + offset, w * 20 + offset + 30));
      const calls = [
        ...windows(0).map((batch) => store.ingest(site, dev, batch, 'h-a')),
        ...windows(5).map((batch) => other.ingest(site, dev, [...batch].reverse(), 'h-b')),
      ];
      const results = await Promise.all(calls);
      const sent = results.reduce((n, r) => n + r.accepted + r.duplicates, 0);
      const accepted = results.reduce((n, r) => n + r.accepted, 0);
      const distinct = new Set([...windows(0), ...windows(5)].flat().map((e) => e.id)).size;
      expect(accepted).toBe(distinct);
      expect(sent - accepted).toBe(results.reduce((n, r) => n + r.duplicates, 0));
      expect(results.filter((r) => r.newDevice)).toHaveLength(1);

      const rows = rowsOf(await db.tables(), 'events', site);
      expect(rows).toHaveLength(distinct);
      const [p1, p2] = await Promise.all([store.profile(site, dev), other.profile(site, dev)]);
      expect(p2).toEqual(p1);
      expect(new Set(p1.pageViews.map((p) => p.id)).size).toBe(p1.pageViews.length);
    });
  });

  describe('devices', () => {
    it('ensureDevice creates once and never replaces the token hash', async () => {
      const site = newSite();
      const dev = newDevice();
      expect(await store.ensureDevice(site, dev, 'first', 'desktop')).toBe(true);
      expect(await store.ensureDevice(site, dev, 'second')).toBe(false);
      expect(await store.getDevice(site, dev)).toMatchObject({ tokenHash: 'first', kind: 'desktop', userId: null });
      expect(await store.getDevice(newSite(), dev)).toBeNull();
    });

    it('keeps the latest known kind of a device', async () => {
      const site = newSite();
      const dev = newDevice();
      await store.ingest(site, dev, [pageEv(1)], 'h');
      expect((await store.getDevice(site, dev))?.kind).toBeNull();
      await store.ingest(site, dev, [pageEv(2)], 'h', 'desktop');
      expect((await store.getDevice(site, dev))?.kind).toBe('desktop');
      await store.ingest(site, dev, [pageEv(3)], 'h');
      expect((await store.getDevice(site, dev))?.kind).toBe('desktop');
    });
  });

  describe('profile', () => {
    it('is empty for an unknown device', async () => {
      expect(await store.profile(newSite(), newDevice())).toEqual({
        userId: null,
        pageViews: [],
        products: [],
        categories: [],
        touches: [],
        firstTouch: null,
        lastTouch: null,
        optedIn: false,
      });
    });

    it('lists products seen in the same millisecond as buildProfile orders them: newest, then greatest event id', async () => {
      const site = newSite();
      const dev = newDevice();
      const at = 1000;
      await store.ingest(
        site,
        dev,
        [
          asEvent({ id: 'evt-a1', type: 'page', at, path: '/1', title: '1', product: 'B', device: 'mobile' }),
          asEvent({ id: 'evt-z1', type: 'page', at, path: '/2', title: '2', product: 'A', device: 'desktop' }),
          asEvent({ id: 'evt-b2', type: 'page', at, path: '/3', title: '3', product: 'P', device: 'mobile' }),
          asEvent({ id: 'evt-a2', type: 'page', at, path: '/4', title: '4', product: 'P', device: 'desktop' }),
        ],
        'h',
      );
      const p = await store.profile(site, dev);
      // By event id, greatest first: z1 (A), b2 (P, mobile), a2 (P again), a1 (B).
      expect(p.products.map((x) => [x.id, x.device])).toEqual([
        ['A', 'desktop'],
        ['P', 'mobile'],
        ['B', 'mobile'],
      ]);
    });

    it('picks the first and last touch of the same millisecond by event id, on both stores alike', async () => {
      const site = newSite();
      const dev = newDevice();
      // One batch each, in an order that is neither the ids' nor their reverse.
      for (const [id, source] of [
        ['m-1', 'pinterest'],
        ['z-2', 'facebook'],
        ['a-3', 'google'],
        ['k-4', 'bing'],
      ] as const) {
        await store.ingest(
          site,
          dev,
          [asEvent({ id, type: 'touch', at: 500, touch: touchOf('Organic Social', source, 500) })],
          'h',
        );
      }
      const p = await store.profile(site, dev);
      // buildProfile: the first touch is the oldest, then the smallest id; the last, the newest, then the greatest id.
      expect(p.firstTouch?.source).toBe('google');
      expect(p.lastTouch?.source).toBe('facebook');
      expect(p.touches.map((t) => t.source)).toEqual(['facebook', 'pinterest', 'bing', 'google']);
    });

    it("holds the device's own history, newest first, with products, categories and touches", async () => {
      const site = newSite();
      const dev = newDevice();
      const search = touchOf('Organic Search', 'google', 100);
      const direct = touchOf('Direct', '(direct)', 900);
      await store.ingest(
        site,
        dev,
        [
          touchEv(search),
          pageEv(200, { product: 'sku-1', category: 'shoes' }),
          pageEv(300, { product: 'sku-2', device: 'mobile' }),
          pageEv(400, { product: 'sku-1', category: 'shoes' }),
          { id: newId(), type: 'add_to_cart', at: 500, product: 'sku-9' },
          touchEv(direct),
        ],
        'h',
        'desktop',
      );
      const p = await store.profile(site, dev);
      expect(p.userId).toBeNull();
      expect(p.pageViews.map((v) => [v.at, v.path, v.product, v.device])).toEqual([
        [400, '/p/400', 'sku-1', 'desktop'],
        [300, '/p/300', 'sku-2', 'mobile'],
        [200, '/p/200', 'sku-1', 'desktop'],
      ]);
      // Only page views feed products; a repeated product appears once, at its latest view.
      expect(p.products).toEqual([
        { id: 'sku-1', at: 400, device: 'desktop' },
        { id: 'sku-2', at: 300, device: 'mobile' },
      ]);
      expect(p.categories).toEqual([{ id: 'shoes', at: 400, device: 'desktop' }]);
      expect(p.touches).toEqual([direct, search]);
      expect(p.firstTouch).toEqual(search);
      expect(p.lastTouch).toEqual(search); // the Direct visit does not replace the last campaign touch
      expect(p.optedIn).toBe(false);
    });

    it('merges every linked device once linked, with the device kind each item came from', async () => {
      const site = newSite();
      const phone = newDevice('phone');
      const desk = newDevice('desk');
      const earliest = touchOf('Organic Search', 'google', 50);
      const social = touchOf('Paid Social', 'pinterest', 3000);
      const direct = touchOf('Direct', '(direct)', 5000);
      const shared = pageEv(1000, { product: 'sku-shared', device: 'desktop' });
      await store.ingest(
        site,
        phone,
        [
          touchEv(social),
          pageEv(3100, { product: 'sku-phone', category: 'bags' }),
          pageEv(3200, { product: 'sku-shared' }),
        ],
        'hp',
        'mobile',
      );
      await store.ingest(
        site,
        desk,
        [touchEv(earliest), shared, touchEv(direct), pageEv(5100, { category: 'bags' })],
        'hd',
        'desktop',
      );
      await store.addOptin(optin(site, phone));

      // Before linking, neither sees the other.
      const before = await store.profile(site, desk);
      expect(before.pageViews).toHaveLength(2);
      expect(before.optedIn).toBe(false);
      expect(before.lastTouch).toEqual(earliest);

      expect(await store.link(site, phone, 'alice', 6000)).toBe('linked');
      expect((await store.profile(site, desk)).pageViews).toHaveLength(2); // one linked device is not a merge yet
      expect(await store.link(site, desk, 'alice', 7000)).toBe('linked');

      const fromDesk = await store.profile(site, desk);
      const fromPhone = await store.profile(site, phone);
      expect(fromPhone).toEqual(fromDesk);
      expect(fromDesk.userId).toBe('alice');
      expect(fromDesk.pageViews.map((v) => [v.at, v.device])).toEqual([
        [5100, 'desktop'],
        [3200, 'mobile'],
        [3100, 'mobile'],
        [1000, 'desktop'],
      ]);
      expect(fromDesk.products).toEqual([
        { id: 'sku-shared', at: 3200, device: 'mobile' },
        { id: 'sku-phone', at: 3100, device: 'mobile' },
      ]);
      expect(fromDesk.categories).toEqual([{ id: 'bags', at: 5100, device: 'desktop' }]);
      expect(fromDesk.touches).toEqual([direct, social, earliest]);
      expect(fromDesk.firstTouch).toEqual(earliest);
      expect(fromDesk.lastTouch).toEqual(social);
      expect(fromDesk.optedIn).toBe(true);

      // An unlinked device of the same site still sees only itself.
      const stranger = newDevice('other');
      await store.ingest(site, stranger, [pageEv(9000)], 'hs');
      expect((await store.profile(site, stranger)).pageViews.map((v) => v.at)).toEqual([9000]);
    });

    it('caps every list, newest first, while first touch stays the earliest ever', async () => {
      const site = newSite();
      const [d1, d2] = [newDevice('cap1'), newDevice('cap2')];
      const all: CairnEvent[] = [];
      for (let i = 0; i < 300; i++)
        all.push(pageEv(10_000 + i * 10, { product: `sku-${i % 80}`, category: `cat-${i % 45}` }));
      for (let i = 0; i < 70; i++)
        all.push(touchEv(touchOf(i % 3 ? 'Direct' : 'Referral', `ref-${i}`, 10_000 + i * 40)));
      // Spread over two linked devices, in batches of at most 100.
      const mine = (d: number) => all.filter((_, i) => i % 2 === d);
      for (const [dev, evs] of [
        [d1, mine(0)],
        [d2, mine(1)],
      ] as const) {
        for (let i = 0; i < evs.length; i += 100) await store.ingest(site, dev, evs.slice(i, i + 100), 'h', 'mobile');
        await store.link(site, dev, 'capper', 1);
      }
      const p = await store.profile(site, d1);
      const pages = all.filter((e) => e.type === 'page').sort((a, b) => b.at - a.at);
      const touches = all.filter((e) => e.type === 'touch').sort((a, b) => b.at - a.at);
      expect(p.pageViews).toHaveLength(LIMITS.pageViews);
      expect(p.pageViews.map((v) => v.id)).toEqual(pages.slice(0, LIMITS.pageViews).map((e) => e.id));
      expect(p.products).toHaveLength(LIMITS.products);
      expect(new Set(p.products.map((x) => x.id)).size).toBe(LIMITS.products);
      expect(p.products[0]).toEqual({ id: pages[0]!.product, at: pages[0]!.at, device: 'mobile' });
      expect(p.categories).toHaveLength(LIMITS.categories);
      expect(p.touches).toHaveLength(LIMITS.touches);
      expect(p.touches.map((t) => t.at)).toEqual(touches.slice(0, LIMITS.touches).map((e) => e.at));
      expect(p.firstTouch?.source).toBe('ref-0');
      expect(p.lastTouch?.source).toBe(touches.find((e) => e.touch?.channel !== 'Direct')?.touch?.source);
    });
  });

  describe('link', () => {
    it('links, is a no-op the second time, refuses another user, and audits links and refusals', async () => {
      const site = newSite();
      const dev = newDevice();
      await expect(store.link(site, dev, 'u1', 10)).rejects.toSatisfy(
        (e) => e instanceof StoreError && e.code === 'unknown_device',
      );

      await store.ensureDevice(site, dev, 'h');
      expect(await store.link(site, dev, 'u1', 100)).toBe('linked');
      expect(await store.link(site, dev, 'u1', 200)).toBe('already');
      expect(await store.link(site, dev, 'u2', 300)).toBe('conflict');
      expect((await store.getDevice(site, dev))?.userId).toBe('u1');
      expect(await store.exportUser(site, 'u2')).toBeNull();

      const t = await db.tables();
      expect(rowsOf(t, 'users', site).map((r) => r.user_id)).toEqual(['u1']);
      const audit = rowsOf(t, 'links', site).map((r) => [r.device_id, r.user_id, Number(r.at), r.action]);
      expect(audit).toEqual([
        [dev, 'u1', 100, 'linked'],
        [dev, 'u2', 300, 'conflict'],
      ]);
    });

    it('decides concurrent links of one device to two users once', async () => {
      const other = await db.open();
      const site = newSite();
      const dev = newDevice();
      await store.ensureDevice(site, dev, 'h');
      const results = await Promise.all([store.link(site, dev, 'ua', 1), other.link(site, dev, 'ub', 2)]);
      expect([...results].sort()).toEqual(['conflict', 'linked']);
      const winner = results[0] === 'linked' ? 'ua' : 'ub';
      expect((await store.getDevice(site, dev))?.userId).toBe(winner);
    });
  });

  describe('config', () => {
    it('stores a config with an ETag that follows its content, and refuses a stale If-Match', async () => {
      const site = newSite();
      expect(await store.getConfig(site)).toBeNull();
      // If-Match on a config that does not exist yet cannot match.
      expect(await store.putConfig(site, config(site), '"anything"')).toBe('conflict');
      expect(await store.putConfig(site, config(site), '*')).toBe('conflict');

      const v1 = await store.putConfig(site, config(site));
      if (v1 === 'conflict') throw new Error('unexpected conflict');
      expect(v1.etag).toMatch(/^"[\w-]+"$/);
      expect(await store.getConfig(site)).toEqual(v1);

      const same = await store.putConfig(site, config(site));
      expect(same !== 'conflict' && same.etag).toBe(v1.etag);

      const changed = config(site, { siteHosts: ['shop.example'] });
      const v2 = await store.putConfig(site, changed, v1.etag);
      if (v2 === 'conflict') throw new Error('unexpected conflict');
      expect(v2.etag).not.toBe(v1.etag);
      expect((await store.getConfig(site))?.config).toEqual(changed);

      // A writer still holding v1's ETag loses and changes nothing.
      expect(await store.putConfig(site, config(site), v1.etag)).toBe('conflict');
      expect((await store.getConfig(site))?.etag).toBe(v2.etag);
      // Weak or unquoted forms of the current ETag match.
      const v3 = await store.putConfig(site, config(site), `W/${v2.etag}`);
      expect(v3 !== 'conflict' && v3.etag).toBe(v1.etag);
      expect(await store.getConfig(newSite())).toBeNull();
    });

    it('If-None-Match: * (null) creates only: of two first saves, one wins and the other changes nothing', async () => {
      const other = await db.open();
      const site = newSite();
      const a = config(site, { siteHosts: ['a.example'] });
      const b = config(site, { siteHosts: ['b.example'] });
      const results = await Promise.all([store.putConfig(site, a, null), other.putConfig(site, b, null)]);
      expect(results.filter((r) => r === 'conflict')).toHaveLength(1);
      const won = results[0] === 'conflict' ? b : a;
      expect((await store.getConfig(site))?.config).toEqual(won);
      // Once stored, a create-only save is refused, whatever it holds.
      expect(await store.putConfig(site, won, null)).toBe('conflict');
      expect((await store.getConfig(site))?.config).toEqual(won);
    });

    it('lets only one of two writers holding the same ETag win', async () => {
      const other = await db.open();
      const site = newSite();
      const v1 = await store.putConfig(site, config(site));
      if (v1 === 'conflict') throw new Error('unexpected conflict');
      const a = config(site, { siteHosts: ['a.example'] });
      const b = config(site, { siteHosts: ['b.example'] });
      const results = await Promise.all([store.putConfig(site, a, v1.etag), other.putConfig(site, b, v1.etag)]);
      expect(results.filter((r) => r === 'conflict')).toHaveLength(1);
      const won = results[0] === 'conflict' ? b : a;
      expect((await store.getConfig(site))?.config).toEqual(won);
    });
  });

  describe('opt-ins', () => {
    it('is idempotent by id: a retried or double submit keeps the first', async () => {
      const site = newSite();
      const dev = newDevice();
      await store.ingest(site, dev, [pageEv(1)], 'h');
      const o = optin(site, dev);
      expect(await store.addOptin(o)).toBe('created');
      expect(await store.addOptin({ ...o, email: 'other@example.com' })).toBe('duplicate');
      const rows = rowsOf(await db.tables(), 'optins', site);
      expect(rows.map((r) => [r.id, r.email, r.device_id])).toEqual([[o.id, o.email, dev]]);
      expect((await store.profile(site, dev)).optedIn).toBe(true);
    });
  });

  describe('privacy', () => {
    async function seedUser(site: string, user: string) {
      const phone = newDevice('phone');
      const desk = newDevice('desk');
      const purchase: CairnEvent = {
        id: newId(),
        type: 'purchase',
        at: 700,
        items: [{ sku: 'sku-1', qty: 2 }],
        total: 59.9,
      };
      const t = touchOf('Email', 'newsletter', 10);
      await store.ingest(site, phone, [touchEv(t), pageEv(100, { product: 'sku-1' })], 'hp', 'mobile');
      await store.ingest(site, desk, [pageEv(600, { category: 'bags' }), purchase], 'hd', 'desktop');
      const o = optin(site, phone, { touch: null, promptId: undefined });
      await store.addOptin(o);
      await store.link(site, phone, user, 1000);
      await store.link(site, desk, user, 2000);
      return { phone, desk, purchase, touch: t, optin: o };
    }

    it('exports everything held about a user', async () => {
      const site = newSite();
      const s = await seedUser(site, 'exp-user');
      const x = await store.exportUser(site, 'exp-user');
      expect(x).not.toBeNull();
      expect(x!.site).toBe(site);
      expect(x!.userId).toBe('exp-user');
      // A device linked to someone else refused them: that audit record is about them too.
      const other = await seedUser(site, 'exp-other');
      expect(await store.link(site, other.phone, 'exp-user', 3000)).toBe('conflict');
      const x2 = await store.exportUser(site, 'exp-user');
      expect(x2!.links).toEqual([
        { deviceId: s.phone, at: 1000, action: 'linked' },
        { deviceId: s.desk, at: 2000, action: 'linked' },
        { deviceId: other.phone, at: 3000, action: 'conflict' },
      ]);
      expect(x!.devices.map((d) => [d.deviceId, d.kind]).sort()).toEqual(
        [
          [s.desk, 'desktop'],
          [s.phone, 'mobile'],
        ].sort(),
      );
      expect(x!.events).toHaveLength(4);
      expect(x!.events.find((e) => e.id === s.purchase.id)).toEqual({ ...s.purchase, deviceId: s.desk });
      expect(x!.events.find((e) => e.type === 'touch')).toMatchObject({ deviceId: s.phone, touch: s.touch });
      expect(x!.optins).toEqual([
        {
          id: s.optin.id,
          site,
          deviceId: s.phone,
          email: s.optin.email,
          consentText: s.optin.consentText,
          at: s.optin.at,
        },
      ]);
      expect(await store.exportUser(site, 'nobody')).toBeNull();
      expect(await store.exportUser(newSite(), 'exp-user')).toBeNull();
    });

    it('deleteUser leaves nothing of the user in any table, keeps the devices anonymous, and spares others', async () => {
      const site = newSite();
      const gone = `erase-${uniq()}`;
      const s = await seedUser(site, gone);
      // Someone else on the same site, and an attempt by the user on their device (audited refusal).
      const kept = await seedUser(site, 'keeper');
      expect(await store.link(site, kept.phone, gone, 3000)).toBe('conflict');
      const before = await db.tables();

      expect(await store.deleteUser(site, gone)).toBe(true);

      const after = await db.tables();
      const mine = new Set([s.phone, s.desk]);
      for (const [table, rows] of Object.entries(after)) {
        if (table === 'schema_migrations') continue;
        for (const row of rows.filter((r) => r.site === site)) {
          // No value of any row names the user.
          expect(JSON.stringify(row), `${table} row`).not.toContain(gone);
          if (table !== 'devices')
            expect(mine.has(row.device_id as string), `${table} row of an erased device`).toBe(false);
        }
      }
      const devices = rowsOf(after, 'devices', site).filter((r) => mine.has(r.device_id as string));
      expect(devices.map((r) => [r.user_id, r.token_hash]).sort()).toEqual([
        [null, 'hd'],
        [null, 'hp'],
      ]);
      // The other user's data is untouched (only the refused attempt about the erased user is gone).
      for (const table of ['events', 'optins', 'users', 'devices']) {
        const keep = (rows: Row[]) => rows.filter((r) => !mine.has(r.device_id as string) && r.user_id !== gone);
        expect(keep(rowsOf(after, table, site)), table).toEqual(keep(rowsOf(before, table, site)));
      }
      expect(rowsOf(after, 'links', site).map((r) => r.user_id)).toEqual(['keeper', 'keeper']);

      // The devices carry on, anonymous and empty, and can be linked again.
      expect(await store.profile(site, s.phone)).toMatchObject({
        userId: null,
        pageViews: [],
        optedIn: false,
        firstTouch: null,
      });
      expect(await store.exportUser(site, gone)).toBeNull();
      expect(await store.deleteUser(site, gone)).toBe(false);
      expect((await store.profile(site, kept.phone)).pageViews).toHaveLength(2);
      expect(await store.link(site, s.desk, 'someone-new', 4000)).toBe('linked');
    });
  });
});

describe.each(makeStores())('$name migrations', (db: TestDb) => {
  afterAll(() => db.cleanup());

  it('are applied once when several instances migrate at the same time', async () => {
    const stores = await Promise.all([1, 2, 3].map(() => db.open({ migrate: false })));
    await Promise.all(stores.map((s) => s.migrate()));
    await stores[0]!.migrate(); // and again later: nothing to do
    const t = await db.tables();
    const expected = (db.name === 'sqlite' ? sqliteMigrations : pgMigrations).map((m) => m.version);
    expect(t.schema_migrations?.map((r) => Number(r.version))).toEqual(expected);
    for (const table of ['devices', 'events', 'links', 'configs', 'optins', 'users'])
      expect(t[table], table).toEqual([]);
    // And every instance works on the result.
    const site = newSite();
    const dev = newDevice();
    const e = pageEv(1);
    const res = await Promise.all(stores.map((s) => s.ingest(site, dev, [e], 'h')));
    expect(res.map((r) => r.accepted).sort()).toEqual([0, 0, 1]);
  });
});
