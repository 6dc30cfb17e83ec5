import { describe, expect, test } from 'vitest';
import {
  addPage,
  addTouch,
  CAPS,
  migrate,
  toHistory,
  type HistoryV0,
  type StoredHistory,
} from '../src/history/history';
import type { DeviceState } from '../src/state/device-state';
import { enter, SESSION_MS, touchesOf } from '../src/state/session';
import type { PageView, Profile, Touch } from '../src/types';

const T0 = Date.UTC(2025, 0, 1, 12);
const MIN = 60e3;
const touch = (
  source: string,
  medium: string,
  channel: Touch['channel'],
  at = T0,
  extra: Partial<Touch> = {},
): Touch => ({ source, medium, channel, landingPath: '/', at, ...extra });
const direct = (at = T0) => touch('(direct)', '(none)', 'Direct', at);
const pin = (at = T0) => touch('pinterest', 'social', 'Organic Social', at);
const pv = (i: number, session = 's1', extra: Partial<PageView> = {}): PageView => ({
  id: 'pv' + i,
  path: '/p/' + i,
  title: 'P' + i,
  at: T0 + i,
  session,
  ...extra,
});

describe('sessions (enter)', () => {
  test('first visit: a new session with the touch as first, last (non-Direct) and current', () => {
    const s: DeviceState = {};
    expect(enter(s, pin(), T0)).toEqual(pin());
    expect(s._sessionId).toBeTruthy();
    expect(touchesOf(s)).toEqual({ first: pin(), last: pin(), current: pin() });
  });

  test('29 minutes idle continues the session; 31 minutes starts a new one', () => {
    const s: DeviceState = {};
    enter(s, pin(), T0);
    const first = s._sessionId;
    expect(enter(s, null, T0 + 29 * MIN)).toBeNull();
    expect(s._sessionId).toBe(first);
    // Inactivity counts from the last activity, not from the session start.
    expect(enter(s, null, T0 + 58 * MIN)).toBeNull();
    expect(s._sessionId).toBe(first);
    enter(s, null, T0 + 89 * MIN);
    expect(s._sessionId).not.toBe(first);
    // Internal navigation after a timeout keeps the visit's touch: not a new touch in the journey.
    expect(touchesOf(s).current).toEqual(pin());
  });

  test('exactly 30 minutes is inactivity', () => {
    const s: DeviceState = {};
    enter(s, null, T0);
    const first = s._sessionId;
    enter(s, null, T0 + SESSION_MS);
    expect(s._sessionId).not.toBe(first);
  });

  test('a new non-Direct touch mid-session starts a new session; the same campaign again does not', () => {
    const s: DeviceState = {};
    enter(s, pin(), T0);
    const first = s._sessionId;
    // A reload of the landing URL resolves the same touch again.
    expect(enter(s, pin(T0 + MIN), T0 + MIN)).toBeNull();
    expect(s._sessionId).toBe(first);
    const g = touch('google', 'cpc', 'Paid Search', T0 + 2 * MIN, { clickId: { param: 'gclid', value: 'a' } });
    expect(enter(s, g, T0 + 2 * MIN)).toBe(g);
    expect(s._sessionId).not.toBe(first);
    expect(touchesOf(s)).toEqual({ first: pin(), last: g, current: g });
    // Another click on the same ad has another click id: a new touch.
    const g2 = { ...g, clickId: { param: 'gclid', value: 'b' } };
    const second = s._sessionId;
    expect(enter(s, g2, T0 + 3 * MIN)).toBe(g2);
    expect(s._sessionId).not.toBe(second);
  });

  test('Direct mid-session is ignored; Direct after a timeout is a new touch but not the last non-Direct', () => {
    const s: DeviceState = {};
    enter(s, pin(), T0);
    const first = s._sessionId;
    expect(enter(s, direct(T0 + MIN), T0 + MIN)).toBeNull();
    expect(s._sessionId).toBe(first);
    expect(touchesOf(s).current).toEqual(pin());
    const d = direct(T0 + 60 * MIN);
    expect(enter(s, d, T0 + 60 * MIN)).toBe(d);
    expect(touchesOf(s)).toEqual({ first: pin(), last: pin(), current: d });
  });

  test('the same campaign after a timeout is a new session and a new touch', () => {
    const s: DeviceState = {};
    enter(s, pin(), T0);
    const first = s._sessionId;
    expect(enter(s, pin(T0 + 40 * MIN), T0 + 40 * MIN)).toEqual(pin(T0 + 40 * MIN));
    expect(s._sessionId).not.toBe(first);
  });

  test('a new session forgets the sticky variant', () => {
    const s: DeviceState = {};
    enter(s, pin(), T0);
    s._variant = 'v1';
    enter(s, null, T0 + MIN);
    expect(s._variant).toBe('v1');
    enter(s, null, T0 + 31 * MIN);
    expect(s._variant).toBeUndefined();
  });
});

describe('history', () => {
  test('page views count per session and for the device', () => {
    let h: StoredHistory | undefined;
    h = addPage(h, pv(1, 'a'), pin());
    h = addPage(h, pv(2, 'a'), pin());
    h = addPage(h, pv(3, 'b'), null);
    expect(h.s.map((s) => [s.id, s.pages, s.start, s.last])).toEqual([
      ['a', 2, T0 + 1, T0 + 2],
      ['b', 1, T0 + 3, T0 + 3],
    ]);
    expect(h.s[0]!.touch).toEqual(pin());
    expect(h.n).toBe(3);
  });

  test('join: a session another tab started at the same instant is joined, unless the page brings another campaign or the latest session is idle', () => {
    let h = addPage(undefined, pv(1, 'a'), pin(), 1);
    // Other tabs decided 'b', 'c' and 'd' at the same instant, with the same campaign, Direct or none.
    h = addPage(h, pv(2, 'b'), pin(), 1);
    h = addPage(h, pv(3, 'c'), direct(), 1);
    h = addPage(h, pv(4, 'd'), null, 1);
    expect(h.s.map((s) => [s.id, s.pages])).toEqual([['a', 4]]);
    expect(h.p.map((p) => p.session)).toEqual(['a', 'a', 'a', 'a']);
    // Another campaign is another session; so is a page 30 minutes after the latest session's last.
    const ad = touch('google', 'cpc', 'Paid Search');
    h = addPage(h, pv(5, 'e'), ad, 1);
    h = addPage(h, { ...pv(6, 'f'), at: T0 + 5 + SESSION_MS }, ad, 1);
    expect(h.s.map((s) => [s.id, s.pages])).toEqual([
      ['a', 4],
      ['e', 1],
      ['f', 1],
    ]);
    // Without `join` (migration) sessions are taken as they were recorded.
    expect(addPage(h, pv(7, 'g'), null).s.map((s) => s.id)).toEqual(['a', 'e', 'f', 'g']);
  });

  test('caps: 200 page views and 50 touches, oldest dropped first; the lifetime count goes on', () => {
    let h = migrate(undefined);
    for (let i = 0; i < 230; i++) h = addPage(h, pv(i), null);
    expect(h.p).toHaveLength(CAPS.pageViews);
    expect(h.p[0]!.id).toBe('pv30');
    expect(h.p.at(-1)!.id).toBe('pv229');
    expect(h.n).toBe(230);
    for (let i = 0; i < 60; i++) h = addTouch(h, touch('s' + i, 'referral', 'Referral', T0 + i));
    expect(h.t).toHaveLength(CAPS.touches);
    expect(h.t[0]!.source).toBe('s10');
  });

  test('products and categories: newest first, unique, capped', () => {
    let h = migrate(undefined);
    h = addPage(h, pv(1, 's', { product: 'A', category: 'shoes' }), null);
    h = addPage(h, pv(2, 's', { product: 'B', category: 'shoes' }), null);
    h = addPage(h, pv(3, 's', { product: 'A' }), null);
    const v = toHistory(h);
    expect(v.products).toEqual(['A', 'B']);
    expect(v.categories).toEqual(['shoes']);
    for (let i = 0; i < 70; i++) h = addPage(h, pv(10 + i, 's', { product: 'P' + i, category: 'c' + i }), null);
    expect(toHistory(h).products).toHaveLength(CAPS.products);
    expect(toHistory(h).products[0]).toBe('P69');
    expect(toHistory(h).categories).toHaveLength(CAPS.categories);
  });

  test('toHistory merges the synced profile: other devices carry their device, duplicates once', () => {
    let h = migrate(undefined);
    h = addPage(h, pv(1, 's', { product: 'A', device: 'desktop' }), null);
    const pf: Profile = {
      userId: 'alice',
      pageViews: [
        { id: 'pv1', path: '/p/1', title: 'P1', at: T0 + 1, product: 'A', device: 'desktop' },
        { id: 'phone1', path: '/product/B', title: 'B', at: T0 + 5, product: 'B', device: 'mobile' },
      ],
      products: [
        { id: 'B', at: T0 + 5, device: 'mobile' },
        { id: 'A', at: T0 + 1, device: 'desktop' },
      ],
      categories: [],
      touches: [],
      firstTouch: null,
      lastTouch: null,
      optedIn: false,
    };
    const v = toHistory(h, pf);
    expect(v.pageViews.map((p) => [p.id, p.device])).toEqual([
      ['phone1', 'mobile'],
      ['pv1', 'desktop'],
    ]);
    expect(v.products).toEqual(['B', 'A']);
  });
});

describe('migration', () => {
  test('v1 passes through unchanged', () => {
    const h = addPage(undefined, pv(1), null);
    expect(migrate(structuredClone(h))).toEqual(h);
  });

  test('v0 (page views and journey, no version) becomes v1 with sessions and counts', () => {
    const v0: HistoryV0 = {
      p: [
        { id: 'a', path: '/', title: 'Home', at: T0, session: 'old1' },
        { id: 'b', path: '/product/X', title: 'X', at: T0 + 1, session: 'old1', product: 'X', category: 'bags' },
        { id: 'c', path: '/about', title: 'About', at: T0 + 2, session: 'old2' },
      ],
      t: [pin()],
    };
    const h = migrate(structuredClone(v0));
    expect(h.v).toBe(1);
    expect(h.p).toEqual(v0.p);
    expect(h.s.map((s) => [s.id, s.pages, s.start, s.last])).toEqual([
      ['old1', 2, T0, T0 + 1],
      ['old2', 1, T0 + 2, T0 + 2],
    ]);
    expect(h.n).toBe(3);
    expect(toHistory(h).products).toEqual(['X']);
    expect(toHistory(h).categories).toEqual(['bags']);
    expect(h.t).toEqual([pin()]);
    // And it keeps working as v1 afterwards.
    expect(addPage(h, pv(9, 'old1'), null).s[0]!.pages).toBe(3);
  });

  test('unknown versions and garbage start empty', () => {
    for (const raw of [undefined, null, 42, 'x', { v: 99, p: [pv(1)] }, { p: 'nope' }]) {
      const h = migrate(raw);
      expect(h).toEqual({ v: 1, s: [], p: [], t: [], n: 0 });
    }
  });
});
