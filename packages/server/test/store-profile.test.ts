// The pure profile builder both stores share: merging, ordering, device kinds and caps.
import { describe, expect, it } from 'vitest';
import { LIMITS, profileSchema, type Touch } from '@cairn/schema';
import {
  buildProfile,
  emptyProfile,
  type ItemRow,
  type PageRow,
  type ProfileRows,
  type TouchRow,
} from '../src/store/profile.js';

const t = (channel: Touch['channel'], at: number, source = 'src'): Touch => ({
  source,
  medium: 'm',
  channel,
  landingPath: '/',
  at,
});
const rows = (over: Partial<ProfileRows>): ProfileRows => ({
  userId: null,
  kinds: new Map(),
  pages: [],
  products: [],
  categories: [],
  touches: [],
  firstTouches: [],
  lastTouches: [],
  optedIn: false,
  ...over,
});
const page = (id: string, at: number, deviceId: string, body: Record<string, unknown> = {}): PageRow => ({
  id,
  at,
  deviceId,
  body: { path: `/${id}`, title: id, ...body },
});
const item = (id: string, value: string, at: number, deviceId: string, device?: string): ItemRow => ({
  id,
  value,
  at,
  deviceId,
  device,
});
const touchRow = (id: string, touch: unknown): TouchRow => ({ id, at: (touch as Touch).at, touch });

describe('buildProfile', () => {
  it('merges devices newest first, drops repeated event ids, and breaks time ties by id', () => {
    const p = buildProfile(
      rows({
        userId: 'u',
        kinds: new Map([
          ['phone', 'mobile'],
          ['desk', 'desktop'],
        ]),
        pages: [
          page('a', 10, 'phone'),
          page('c', 30, 'desk'),
          page('b', 20, 'phone'),
          page('c', 30, 'desk'),
          page('d', 30, 'phone'),
        ],
      }),
    );
    expect(p.pageViews.map((v) => v.id)).toEqual(['d', 'c', 'b', 'a']);
    expect(p.userId).toBe('u');
    expect(profileSchema.safeParse(p).success).toBe(true);
  });

  it("takes the event's own device kind, else the device's, else none", () => {
    const p = buildProfile(
      rows({
        kinds: new Map([
          ['phone', 'mobile'],
          ['unknown', null],
        ]),
        pages: [
          page('a', 3, 'phone', { device: 'desktop' }),
          page('b', 2, 'phone'),
          page('c', 1, 'unknown'),
          page('d', 0, 'unknown', { device: 'tablet' }),
        ],
      }),
    );
    expect(p.pageViews.map((v) => v.device)).toEqual(['desktop', 'mobile', undefined, undefined]);
    expect('device' in p.pageViews[2]!).toBe(false);
  });

  it('keeps path, title, product and category, with defaults for missing or odd values', () => {
    const p = buildProfile(
      rows({ pages: [{ id: 'x', at: 1, deviceId: 'd', body: { path: 5, product: 'sku', category: null } }] }),
    );
    expect(p.pageViews).toEqual([{ id: 'x', at: 1, path: '', title: '', product: 'sku' }]);
  });

  it('lists each product once at its latest sighting, capped', () => {
    const products = Array.from({ length: 120 }, (_, i) =>
      item(`e${String(i).padStart(3, '0')}`, `sku-${i % 60}`, i, 'phone'),
    );
    const p = buildProfile(rows({ kinds: new Map([['phone', 'mobile']]), products }));
    expect(p.products).toHaveLength(LIMITS.products);
    expect(p.products[0]).toEqual({ id: 'sku-59', at: 119, device: 'mobile' });
    expect(new Set(p.products.map((x) => x.id)).size).toBe(LIMITS.products);
    expect(p.products.every((x, i, a) => i === 0 || a[i - 1]!.at > x.at)).toBe(true);
  });

  it('caps categories and page views', () => {
    const categories = Array.from({ length: 40 }, (_, i) => item(`c${i}`, `cat-${i}`, i, 'd'));
    const pages = Array.from({ length: 250 }, (_, i) => page(`p${String(i).padStart(3, '0')}`, i, 'd'));
    const p = buildProfile(rows({ categories, pages }));
    expect(p.categories).toHaveLength(LIMITS.categories);
    expect(p.categories[0]?.id).toBe('cat-39');
    expect(p.pageViews).toHaveLength(LIMITS.pageViews);
    expect(p.pageViews.at(-1)?.at).toBe(50);
  });

  it('picks the earliest first touch and the latest non-Direct last touch across devices, skipping malformed ones', () => {
    const early = t('Referral', 5, 'early');
    const later = t('Organic Search', 50, 'later');
    const direct = t('Direct', 90);
    const p = buildProfile(
      rows({
        touches: [touchRow('t2', later), touchRow('t3', direct), touchRow('bad', { at: 99 }), touchRow('t1', early)],
        firstTouches: [touchRow('t2', later), touchRow('t1', early), touchRow('bad', { channel: 'Direct', at: 1 })],
        lastTouches: [touchRow('t1', early), touchRow('t2', later), touchRow('t3', direct)],
      }),
    );
    expect(p.touches).toEqual([direct, later, early]);
    expect(p.firstTouch).toEqual(early);
    expect(p.lastTouch).toEqual(later);
  });

  it('caps touches and passes the opt-in state', () => {
    const touches = Array.from({ length: 70 }, (_, i) => touchRow(`t${i}`, t('Direct', i)));
    const p = buildProfile(rows({ touches, optedIn: true }));
    expect(p.touches).toHaveLength(LIMITS.touches);
    expect(p.touches[0]?.at).toBe(69);
    expect(p.lastTouch).toBeNull();
    expect(p.optedIn).toBe(true);
  });

  it('has an empty form', () => {
    expect(buildProfile(rows({}))).toEqual(emptyProfile());
    expect(emptyProfile('u').userId).toBe('u');
  });
});
