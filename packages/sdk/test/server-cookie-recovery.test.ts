// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import type { SiteConfigInput, Touch } from '../src/types';
import { fakeServer, freshDevice, instances, settle, type FakeServer } from './core-helpers';

// Recovery after script storage was wiped (src/core/recover.ts): a visitor the head found no id for
// asks the sync server once, with credentials, whether its server-set cookie names a device; if so
// the page continues as that device, with the server's fresh token and its history.

const config: SiteConfigInput = { site: 'shop', identity: { serverCookie: { domain: '.sync.test' } } };
const RECOVERED = '0b7f3c52-8d0e-4a53-9a51-5f0c2b1d7e10';
const TOKEN = 'server-made-token-0123456789abcdefghijklmn';
const FIRST: Touch = {
  source: 'pinterest',
  medium: 'social',
  channel: 'Organic Social',
  landingPath: '/',
  at: 1_600_000_000_000,
};

let srv: FakeServer;
/** What POST /v1/recover answers: a device (200) or nothing (204). */
let known: boolean;
/** Resolves when POST /v1/recover may answer. */
let answer: Promise<unknown>;
const { open, make, start } = instances({ config });
const cookieId = () => /(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)?.[1];
const stored = () => JSON.parse(localStorage.getItem('cairn') || 'null') as Record<string, unknown> | null;
const to = (path: string) => srv.requests.filter((r) => r.path.startsWith(path));
let inits: { path: string; init: RequestInit }[];

beforeEach(() => {
  freshDevice();
  history.replaceState(null, '', '/?utm_source=google&utm_medium=cpc');
  srv = fakeServer();
  known = true;
  answer = Promise.resolve();
  inits = [];
  srv.tokens.set(RECOVERED, TOKEN);
  const inner = srv.fetch;
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    inits.push({ path: url.pathname, init });
    if (url.pathname === '/v1/recover') {
      srv.requests.push({ method: 'POST', path: url.pathname, body: JSON.parse(String(init.body)), headers: {} });
      await answer;
      if (!known) return new Response(null, { status: 204 });
      const profile = {
        userId: null,
        pageViews: [{ id: 'pv-early', path: '/p/early', title: 'Early', at: 1_600_000_000_500, product: 'SKU-EARLY' }],
        products: [{ id: 'SKU-EARLY', at: 1_600_000_000_500 }],
        categories: [],
        touches: [FIRST],
        firstTouch: FIRST,
        lastTouch: FIRST,
        optedIn: false,
      };
      return new Response(JSON.stringify({ deviceId: RECOVERED, deviceToken: TOKEN, profile }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }
    if (url.pathname === '/v1/server-cookie') {
      srv.requests.push({ method: init.method ?? 'GET', path: url.pathname, body: undefined, headers: {} });
      return new Response(null, { status: 204 });
    }
    return inner(input, init);
  });
  vi.spyOn(navigator, 'sendBeacon').mockImplementation(() => true);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.ready));
  await settle();
  expect(srv.tokenless).toEqual([]);
});

test('a wiped visitor gets their device back: its id, the server token, history and first touch', async () => {
  const c = await start();
  // One credentialed request, a simple one (text/plain: no preflight), naming no device.
  expect(to('/v1/recover')).toHaveLength(1);
  const asked = inits.find((i) => i.path === '/v1/recover')!.init;
  expect(asked).toMatchObject({ method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' } });
  expect(JSON.parse(String(asked.body))).toEqual({ site: 'shop' });
  expect(cookieId()).toBe(RECOVERED);
  expect(stored()).toMatchObject({ d: RECOVERED, t: TOKEN });
  // The first touch is the real one, not this landing (which is this session's).
  expect(c.touch().first).toEqual(FIRST);
  expect(c.touch().current).toMatchObject({ source: 'google', medium: 'cpc' });
  expect((await c.history()).products).toContain('SKU-EARLY');
  // This page's events go to the recovered device, with its new token; none to the one the head made.
  await c.page({ product: 'SKU-NOW' });
  await c.flush();
  const collects = to('/v1/collect');
  expect(collects.length).toBeGreaterThan(0);
  for (const r of collects) expect(r.body.deviceId).toBe(RECOVERED);
  expect([...srv.events.values()].map((e) => e.product)).toContain('SKU-NOW');
  // Collect is credentialed, so its answers carry the cookie; no other request carries cookies.
  expect(inits.filter((i) => i.path === '/v1/collect').every((i) => i.init.credentials === 'include')).toBe(true);
  await c.reset();
  const others = inits.filter((i) => !['/v1/collect', '/v1/recover', '/v1/server-cookie'].includes(i.path));
  expect(others.map((i) => i.path)).toContain('/v1/logout');
  for (const i of others) expect(i.init.credentials).not.toBe('include');
});

test('nothing is sent for the device the head made while the answer is on its way', async () => {
  let release!: (v?: unknown) => void;
  answer = new Promise((r) => (release = r));
  const c = make();
  await settle(10);
  expect(to('/v1/recover')).toHaveLength(1);
  const flushed = c.flush();
  await settle(10);
  expect(to('/v1/collect')).toHaveLength(0);
  release();
  await c.ready;
  await flushed;
  await c.flush();
  expect(to('/v1/collect').length).toBeGreaterThan(0);
  expect(to('/v1/collect').every((r) => r.body.deviceId === RECOVERED)).toBe(true);
});

test('nothing to recover: the device the head made goes on, and only one request was made', async () => {
  known = false;
  const c = await start();
  expect(to('/v1/recover')).toHaveLength(1);
  const id = cookieId();
  expect(id).toBeDefined();
  expect(id).not.toBe(RECOVERED);
  expect(c.touch().first).toMatchObject({ source: 'google' });
  await c.page();
  await c.flush();
  expect(to('/v1/collect').every((r) => r.body.deviceId === id)).toBe(true);
});

test('at most once per page load, and never for a visitor whose id is stored', async () => {
  const c = await start();
  await c.page();
  c.consent('pending');
  c.consent('granted');
  await c.page();
  await c.flush();
  await settle();
  expect(to('/v1/recover')).toHaveLength(1);
  // The next page: the id is stored, nothing is asked.
  await start();
  expect(to('/v1/recover')).toHaveLength(1);
});

test('not without consent, nor where the config turns the server cookie off', async () => {
  await start({ consent: 'denied' });
  await start({ consent: 'pending' });
  expect(to('/v1/recover')).toHaveLength(0);
  freshDevice();
  vi.stubGlobal('fetch', srv.fetch);
  await start({ config: { site: 'shop' } });
  expect(to('/v1/recover')).toHaveLength(0);
});

test.each([
  ['off', { site: 'shop' }],
  ['not known yet (none with the page, no cached copy)', undefined],
])('where the config is %s: no recovery, nothing credentialed, no DELETE', async (_, config) => {
  const c = await start({ config });
  await c.page();
  await c.flush();
  c.consent('denied');
  expect(to('/v1/recover')).toHaveLength(0);
  expect(to('/v1/server-cookie')).toHaveLength(0);
  const collects = inits.filter((i) => i.path === '/v1/collect');
  expect(collects.length).toBeGreaterThan(0);
  for (const i of collects) expect(i.init.credentials).not.toBe('include');
});

test('a denial and a reset have the server expire the cookie (DELETE /v1/server-cookie, credentialed)', async () => {
  const c = await start();
  await c.reset();
  expect(to('/v1/server-cookie').map((r) => r.method)).toEqual(['DELETE']);
  c.consent('denied');
  expect(to('/v1/server-cookie')).toHaveLength(2);
  expect(inits.filter((i) => i.path === '/v1/server-cookie').every((i) => i.init.credentials === 'include')).toBe(true);
});
