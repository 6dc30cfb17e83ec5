// Trigger episodes at the store level, on SQLite and PostgreSQL: what a person's events open, extend
// and cancel (noteEvents), and what an evaluation makes of the due ones (evaluateDue). The clock is
// passed in: nothing here sleeps.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateSiteConfig, type CairnEvent, type SiteConfigInput } from '@cairn/schema';
import { createSiteConfigs } from '../src/config/site-configs.js';
import { silentLog } from '../src/log.js';
import type { EpisodeRecord, Store } from '../src/store/types.js';
import { noteEvents, type TriggerDeps } from '../src/triggers/episodes.js';
import { makeStores, type TestDb } from './helpers/db.js';

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

const BROWSE = {
  id: 'browse',
  on: 'browse_abandoned',
  after: '2h',
  minProductViews: 2,
  channels: ['email'],
  url: 'http://127.0.0.1:9/hook',
  cooldown: '7d',
} as const;
const CART = {
  id: 'cart',
  on: 'cart_abandoned',
  after: '1h',
  channels: ['email', 'sms'],
  url: 'http://127.0.0.1:9/hook',
  cooldown: '0s',
} as const;

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
    /** Stores the events as a collect does, then notes them. */
    const collect = async (deviceId: string, events: CairnEvent[], now = T0) => {
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
});
