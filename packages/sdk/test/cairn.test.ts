// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { createCairn, type Cairn, type CairnOptions } from '../src/cairn';
import type { PromptContext, SiteConfigInput } from '../src/types';
import { cookiesBlocked, freshDevice, idbDump, settle, fakeServer, type FakeServer } from './core-helpers';

const MIN = 60e3;
let referrer = '';
Object.defineProperty(document, 'referrer', { configurable: true, get: () => referrer });

/** Navigates to `path` (same origin) from `from`, like a page load. */
const visit = (path: string, from = '') => {
  history.replaceState(null, '', path);
  referrer = from;
};

let srv: FakeServer;
const open: Cairn[] = [];
const start = async (o: CairnOptions = {}) => {
  const c = createCairn({ site: 'shop', server: 'http://sync.test', ...o });
  open.push(c);
  await c.ready;
  return c;
};
const cookieId = () => /(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)?.[1];
const collected = () => [...srv.events.values()];
const warnSpy = () => vi.spyOn(console, 'warn').mockImplementation(() => {});

beforeEach(() => {
  freshDevice();
  visit('/');
  document.head.innerHTML = '';
  document.title = 'Shop';
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
});
afterEach(async () => {
  // Let every instance finish its storage work before the next test swaps the database.
  await Promise.all(open.splice(0).map((c) => c.ready));
  await settle();
});

describe('touches and sessions', () => {
  test('a UTM landing is the first, last and current touch; it survives a reload and internal navigation', async () => {
    visit('/?utm_source=Pinterest&utm_medium=Social&utm_campaign=Spring', 'https://www.pinterest.com/');
    const c = await start();
    const t = c.touch();
    expect(t.current).toMatchObject({
      source: 'pinterest',
      medium: 'social',
      campaign: 'Spring',
      channel: 'Organic Social',
      landingPath: '/',
    });
    expect(t.first).toEqual(t.current);
    expect(t.last).toEqual(t.current);
    await c.page();
    visit('/category/shoes', 'http://localhost:3000/?utm_source=Pinterest');
    await c.page();
    visit('/product/X1', 'http://localhost:3000/category/shoes');
    await c.page();

    // A reload: a new instance on the same device, with an internal referrer.
    const again = await start();
    expect(again.touch()).toEqual(t);
    const h = await again.history();
    expect(h.pageViews.map((p) => p.path)).toEqual(['/product/X1', '/category/shoes', '/']);
    expect(h.sessions).toHaveLength(1);
    expect(h.sessions[0]).toMatchObject({ pages: 3, touch: t.current });
    expect(h.touches).toEqual([t.current]);
    // The touch went to the server as a `touch` event.
    await again.flush();
    expect(
      collected()
        .filter((e) => e.type === 'touch')
        .map((e) => e.touch.source),
    ).toEqual(['pinterest']);
  });

  test('31 minutes idle starts a new session; a new non-Direct touch does too; Direct mid-session does not', async () => {
    const now = vi.spyOn(Date, 'now');
    const T = Date.UTC(2025, 5, 1);
    now.mockReturnValue(T);
    const c = await start();
    await c.page();
    now.mockReturnValue(T + 29 * MIN);
    await c.page();
    now.mockReturnValue(T + 60 * MIN);
    await c.page();
    expect((await c.history()).sessions.map((s) => s.pages)).toEqual([1, 2]);

    now.mockReturnValue(T + 61 * MIN);
    visit('/', '');
    const direct = await start();
    await direct.page();
    expect((await direct.history()).sessions.map((s) => s.pages)).toEqual([2, 2]);

    now.mockReturnValue(T + 62 * MIN);
    visit('/?gclid=abc', 'https://www.google.com/');
    const ad = await start();
    await ad.page();
    expect(ad.touch().current).toMatchObject({ source: 'google', medium: 'cpc', channel: 'Paid Search' });
    expect(ad.touch().first).toMatchObject({ source: '(direct)', channel: 'Direct' });
    const h = await ad.history();
    expect(h.sessions.map((s) => s.pages)).toEqual([1, 2, 2]);
    expect(h.touches.map((t) => t.channel)).toEqual(['Direct', 'Paid Search']);
  });

  test('page views carry the session, device kind, and the product and category from meta tags or props', async () => {
    document.head.innerHTML = '<meta name="cairn:product" content="SKU-9"><meta name="cairn:category" content="bags">';
    document.title = 'Bag';
    visit('/product/SKU-9');
    const c = await start();
    await c.page();
    await c.page({ product: 'SKU-1', category: 'shoes', path: '/virtual', title: 'Virtual' });
    const h = await c.history();
    expect(h.pageViews.map(({ path, title, product, category }) => ({ path, title, product, category }))).toEqual([
      { path: '/virtual', title: 'Virtual', product: 'SKU-1', category: 'shoes' },
      { path: '/product/SKU-9', title: 'Bag', product: 'SKU-9', category: 'bags' },
    ]);
    expect(h.pageViews[0]!.session).toBe(h.sessions[0]!.id);
    expect(['mobile', 'desktop']).toContain(h.pageViews[0]!.device);
    expect(h.products).toEqual(['SKU-1', 'SKU-9']);
    expect(h.categories).toEqual(['shoes', 'bags']);
  });
});

describe('tabs at once', () => {
  test('three tabs recording ten page views each in parallel lose nothing; counters are exact', async () => {
    const tabs = await Promise.all([start(), start(), start()]);
    await Promise.all(tabs.flatMap((t, i) => Array.from({ length: 10 }, (_, j) => t.page({ path: `/t${i}/${j}` }))));
    const h = await tabs[0]!.history();
    expect(h.pageViews).toHaveLength(30);
    expect(new Set(h.pageViews.map((p) => p.path)).size).toBe(30);
    expect(h.sessions).toHaveLength(1);
    expect(h.sessions[0]!.pages).toBe(30);
    // And every page view reaches the server exactly once.
    await Promise.all(tabs.map((t) => t.flush()));
    await tabs[0]!.flush();
    expect(collected().filter((e) => e.type === 'page')).toHaveLength(30);
  });

  test('two tabs that start a session at the same instant share it: the per-session count stays exact', async () => {
    const now = vi.spyOn(Date, 'now');
    const T = Date.UTC(2025, 5, 1);
    now.mockReturnValue(T);
    await (await start()).page();
    now.mockReturnValue(T + 31 * MIN);
    // localStorage is not atomic across processes: tab B reads the sync state before tab A's write
    // lands, and A records its page before B's write lands. Each starts its own session.
    const before = localStorage.getItem('cairn')!;
    const a = createCairn({ site: 'shop', server: 'http://sync.test' });
    const pageA = a.page();
    localStorage.setItem('cairn', before);
    const b = createCairn({ site: 'shop', server: 'http://sync.test' });
    const pageB = b.page();
    open.push(a, b);
    await Promise.all([pageA, pageB]);
    await a.page();
    const h = await b.history();
    expect(h.sessions.map((s) => s.pages)).toEqual([3, 1]);
    expect(new Set(h.pageViews.slice(0, 3).map((p) => p.session))).toEqual(new Set([h.sessions[0]!.id]));
    // And the tabs go on in that session.
    await b.page();
    expect((await a.history()).sessions.map((s) => s.pages)).toEqual([4, 1]);
  });

  test('prompts get the page counts: the 3rd page across tabs triggers the prompt once', async () => {
    const config: SiteConfigInput = {
      site: 'shop',
      prompts: [
        {
          id: 'join',
          kind: 'optin',
          trigger: { afterPages: 3, scope: 'session' },
          content: { title: 'Join', cta: 'Go' },
        },
      ],
      // No holdout: this visitor is shown the prompt (test/holdout.test.ts tests the holdout).
      measurement: { holdout: 0 },
    };
    const shown: unknown[] = [];
    const tabs = await Promise.all([start({ config }), start({ config })]);
    tabs.forEach((t) => t.on('prompt_shown', (e) => shown.push(e)));
    await tabs[0]!.page();
    await tabs[1]!.page();
    expect(shown).toHaveLength(0);
    await tabs[1]!.page();
    await settle(10);
    expect(shown).toHaveLength(1);
  });
});

describe('storage fallbacks', () => {
  test('without IndexedDB: history in localStorage, the page works', async () => {
    (globalThis as { indexedDB?: unknown }).indexedDB = undefined;
    const c = await start();
    await c.page({ path: '/a' });
    await c.page({ path: '/b' });
    expect((await c.history()).pageViews.map((p) => p.path)).toEqual(['/b', '/a']);
    expect(JSON.parse(localStorage.getItem('cairn:h')!).p).toHaveLength(2);
    expect((await start()).touch()).toEqual(c.touch());
  });

  test('cookies blocked: a memory id, not written anywhere; everything else works', () =>
    cookiesBlocked(async () => {
      const a = await start();
      await a.page();
      await a.flush();
      const b = await start();
      await b.page();
      await b.flush();
      const ids = new Set(collected().map((e) => e.deviceId));
      expect(ids.size).toBe(2);
      expect(JSON.parse(localStorage.getItem('cairn')!).d).toBeUndefined();
      expect((await idbDump())!.id).toBeUndefined();
      expect((await b.history()).pageViews).toHaveLength(2);
    }));

  test('the device id: a cookie, mirrored in storage, so a cleared cookie (and localStorage) comes back; without its token it writes nothing', async () => {
    const a = await start();
    const id = cookieId();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await idbDump())!.id).toBe(id);
    await a.flush();
    document.cookie = 'cairn_id=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT';
    localStorage.clear();
    await start();
    expect(cookieId()).toBe(id);
    const before = collected().length;
    await a.page();
    await a.flush();
    // Its token went with localStorage, and the server takes no write without it: what is recorded
    // now goes, with a token, to a fresh device.
    expect(srv.tokenless).toEqual([]);
    const after = collected().slice(before);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => e.deviceId !== id && e.deviceId === cookieId())).toBe(true);
  });

  test('a tampered id cookie is replaced: the server would refuse every batch', async () => {
    document.cookie = 'cairn_id=' + encodeURIComponent('<script>') + '; path=/';
    const c = await start();
    expect(cookieId()).toMatch(/^[0-9a-f-]{36}$/);
    await c.page();
    await c.flush();
    expect(collected().every((e) => e.deviceId === cookieId())).toBe(true);
  });
});

describe('never throws into the page', () => {
  test('broken storage: page() resolves, history() rejects with a CairnError, one warning', async () => {
    const warned = warnSpy();
    // A fresh module: warnings are once per page (per error code).
    vi.resetModules();
    const fresh = await import('../src/cairn');
    const c = fresh.createCairn({ site: 'shop' });
    open.push(c);
    await c.ready;
    const put = IDBObjectStore.prototype.put;
    const get = IDBObjectStore.prototype.get;
    IDBObjectStore.prototype.put = () => {
      throw new DOMException('full', 'QuotaExceededError');
    };
    IDBObjectStore.prototype.get = () => {
      throw new DOMException('broken', 'UnknownError');
    };
    try {
      await expect(c.page()).resolves.toBeUndefined();
      expect(() => c.track('clicked')).not.toThrow();
      const e = await c.history().catch((e) => e);
      expect(e.name).toBe('CairnError');
      expect(e.code).toBe('internal');
      await c.page();
      expect(warned).toHaveBeenCalledTimes(1);
    } finally {
      IDBObjectStore.prototype.put = put;
      IDBObjectStore.prototype.get = get;
    }
  });

  test('broken fetch, throwing listeners, bad arguments: nothing throws; Promises reject with a code', async () => {
    warnSpy();
    vi.stubGlobal('fetch', () => {
      throw new Error('no network stack');
    });
    const c = await start();
    c.on('page', () => {
      throw new Error('listener bug');
    });
    const seen: string[] = [];
    c.on('*', (e) => seen.push(e.type));
    await expect(c.page()).resolves.toBeUndefined();
    expect(() => c.track('Not Snake Case')).not.toThrow();
    expect(() =>
      c.track(
        'circular',
        (() => {
          const o: Record<string, unknown> = {};
          o.o = o;
          return o;
        })(),
      ),
    ).not.toThrow();
    expect(() => c.consent('maybe' as never)).not.toThrow();
    await expect(c.flush()).resolves.toBeUndefined();
    await expect(c.identify('alice', 'signed:alice')).rejects.toMatchObject({ code: 'network' });
    await expect(c.identify('', '')).rejects.toMatchObject({ code: 'invalid' });
    expect(seen).toEqual(['page']);
    expect((await c.history()).pageViews).toHaveLength(1);
  });
});

describe('sync', () => {
  test('events go in batches of 20 with the device id; the device token is kept; an anonymous device pulls no profile', async () => {
    const c = await start();
    await c.flush();
    const before = srv.requests.length;
    for (let i = 0; i < 25; i++) c.track('clicked', { i, long: 'x'.repeat(3000), fn: () => 1 });
    await settle();
    await c.flush();
    const batches = srv.requests.slice(before).filter((r) => r.path === '/v1/collect?site=shop');
    // The 20th event sends at once; the other 5 wait for the next flush (2 s, or here flush()).
    expect(batches.map((b) => b.body.events.length)).toEqual([20, 5]);
    expect(batches[0]!.body).toMatchObject({ site: 'shop', deviceId: cookieId() });
    expect(batches.flatMap((b) => b.body.events.map((e: { i: number }) => e.i))).toEqual([...Array(25).keys()]);
    const e = batches[0]!.body.events[3];
    expect(e).toMatchObject({ type: 'clicked', i: 3 });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.long).toHaveLength(2000);
    expect('fn' in e).toBe(false);
    // The device made its own token, which the server adopted: nothing had to come back.
    const token = JSON.parse(localStorage.getItem('cairn')!).t;
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    expect(srv.tokens.get(cookieId()!)).toBe(token);
    expect(batches[0]!.headers.authorization).toBe('Bearer ' + token);

    // The device holds its own history already: the next page asks for no profile.
    const next = await start();
    expect(await next.profile()).toBeNull();
    expect(srv.requests.some((r) => r.path.startsWith('/v1/profile'))).toBe(false);
  });

  test('an identified device pulls its profile with its ETag: unchanged, a 304 keeps the copy it holds', async () => {
    const c = await start();
    await c.page({ product: 'SKU-1' });
    await c.identify('ann', 'signed:ann');
    const pulls = () => srv.requests.filter((r) => r.path.startsWith('/v1/profile'));
    // The identify answer carried the profile: the next page pulls it, and keeps its ETag.
    const second = await start();
    expect((await second.profile())?.products).toEqual([{ id: 'SKU-1', at: expect.any(Number), device: 'desktop' }]);
    expect(pulls()).toHaveLength(1);
    expect(pulls()[0]!.headers['if-none-match']).toBeUndefined();
    const etag = (await idbDump())!.pe;
    expect(etag).toMatch(/^"/);
    // Unchanged: a 304 with no body, and the copy stays.
    const third = await start();
    expect((await third.profile())?.products).toHaveLength(1);
    expect(pulls()).toHaveLength(2);
    expect(pulls()[1]!.headers['if-none-match']).toBe(etag);
    expect(srv.profileAnswers.at(-1)).toBe(304);
    // Changed on another device: a 200 with the new profile and ETag.
    srv.events.set('other', {
      id: 'other',
      type: 'page',
      path: '/p',
      title: '',
      at: Date.now(),
      product: 'SKU-2',
      deviceId: 'phone',
    });
    srv.links.set('phone', 'ann');
    const fourth = await start();
    expect((await fourth.profile())?.products.map((p) => p.id).sort()).toEqual(['SKU-1', 'SKU-2']);
    expect(srv.profileAnswers.at(-1)).toBe(200);
    expect((await idbDump())!.pe).not.toBe(etag);
  });

  test('server down: events wait in the outbox with backoff, then arrive exactly once', async () => {
    const now = vi.spyOn(Date, 'now');
    const T = Date.now();
    now.mockReturnValue(T);
    const c = await start();
    srv.down = true;
    for (let i = 0; i < 5; i++) await c.page({ path: '/p' + i });
    c.track('clicked');
    await c.flush();
    expect(srv.events.size).toBe(0);
    expect((await idbDump())!.o).toMatchObject({ e: { length: 7 } });
    srv.down = false;
    // Still backing off: nothing is sent yet.
    await c.flush();
    expect(srv.events.size).toBe(0);
    now.mockReturnValue(T + 61e3);
    await c.flush();
    await c.flush();
    expect(collected().map((e) => e.type)).toEqual(['touch', 'page', 'page', 'page', 'page', 'page', 'clicked']);
    expect((await idbDump())!.o).toMatchObject({ e: [] });
  });

  test('429 with Retry-After waits that long; 5xx retries; another 4xx drops the batch with a warning', async () => {
    const warned = warnSpy();
    const now = vi.spyOn(Date, 'now');
    const T = Date.now();
    now.mockReturnValue(T);
    const c = await start();
    await c.flush();
    srv.events.clear();
    srv.failNext.push({ status: 429, retryAfter: '120' });
    c.track('one');
    await c.flush();
    now.mockReturnValue(T + 100e3);
    await c.flush();
    expect(srv.events.size).toBe(0);
    now.mockReturnValue(T + 121e3);
    srv.failNext.push({ status: 503 });
    await c.flush();
    expect(srv.events.size).toBe(0);
    now.mockReturnValue(T + 200e3);
    await c.flush();
    expect(collected().map((e) => e.type)).toEqual(['one']);

    srv.failNext.push({ status: 400 });
    c.track('bad');
    await c.flush();
    c.track('good');
    await c.flush();
    expect(collected().map((e) => e.type)).toEqual(['one', 'good']);
    expect(warned).toHaveBeenCalledTimes(1);
    expect(String(warned.mock.calls[0]![1])).toContain('400');
  });

  test('the outbox is bounded: the oldest are dropped and counted', { timeout: 30e3 }, async () => {
    // localStorage backend: the same outbox code, and much faster than fake-indexeddb for 510 writes.
    (globalThis as { indexedDB?: unknown }).indexedDB = undefined;
    const c = await start();
    srv.down = true;
    for (let i = 0; i < 510; i++) c.track('e', { i });
    await c.flush();
    await settle();
    const o = JSON.parse(localStorage.getItem('cairn:o')!) as { e: { type: string; i: number }[]; d: number };
    // 511 events: the landing's touch, then e0..e509. The touch and e0..e9 were dropped.
    expect(o.e).toHaveLength(500);
    expect(o.e[0]!.i).toBe(10);
    expect(o.e.at(-1)!.i).toBe(509);
    expect(o.d).toBe(11);
  });

  test('on page hide, unsent events go by sendBeacon with the device token in the body, from the first page on, as text', async () => {
    const beacons: [string, string][] = [];
    // Earlier tests' instances listen too: keep only the beacons carrying this test's events.
    vi.spyOn(navigator, 'sendBeacon').mockImplementation(
      (url, body) => (/"(early|late|later)"/.test(String(body)) && beacons.push([String(url), String(body)]), true),
    );
    // Offline: the server has never answered this device, and the beacon is its first request.
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('offline')));
    const first = await start();
    await first.flush();
    first.track('early');
    window.dispatchEvent(new Event('pagehide'));
    const token = JSON.parse(localStorage.getItem('cairn')!).t;
    expect(beacons).toHaveLength(1);
    expect(JSON.parse(beacons[0]![1])).toMatchObject({
      site: 'shop',
      deviceId: cookieId(),
      deviceToken: token,
      events: [{ type: 'touch' }, { type: 'early' }],
    });

    vi.stubGlobal('fetch', srv.fetch);
    const c = await start();
    await c.flush();
    c.track('late');
    c.track('later');
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event('pagehide'));
    window.dispatchEvent(new Event('pagehide'));
    // Once per event, with this tab's unsent events only.
    const late = beacons.filter((b) => b[1].includes('"late"'));
    expect(late).toHaveLength(1);
    expect(late[0]![0]).toBe('http://sync.test/v1/collect?site=shop');
    expect(JSON.parse(late[0]![1])).toMatchObject({
      site: 'shop',
      deviceId: cookieId(),
      deviceToken: token,
      events: [{ type: 'late' }, { type: 'later' }],
    });
  });

  test('an event whose outbox write had not completed at page hide is spilled, and the next page stores and sends it', async () => {
    const c = await start();
    await c.flush();
    // The outbox write never completes, as when the page is gone first.
    const update = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = () => {
      throw new DOMException('gone', 'InvalidStateError');
    };
    vi.spyOn(navigator, 'sendBeacon').mockImplementation(() => false);
    try {
      c.track('at_the_door');
      window.dispatchEvent(new Event('pagehide'));
    } finally {
      IDBObjectStore.prototype.put = update;
    }
    expect(JSON.parse(localStorage.getItem('cairn.spill')!)).toMatchObject({
      d: cookieId(),
      e: [{ type: 'at_the_door' }],
    });
    vi.restoreAllMocks();
    const next = await start();
    await settle();
    await next.flush();
    expect(collected().filter((e) => e.type === 'at_the_door')).toHaveLength(1);
    expect(localStorage.getItem('cairn.spill')).toBeNull();
  });

  test('without Web Locks every tab sends; the event ids keep it exact', async () => {
    vi.stubGlobal('navigator', Object.create(navigator, { locks: { value: undefined } }));
    const tabs = await Promise.all([start(), start()]);
    tabs.forEach((t, i) => t.track('tab', { i }));
    await Promise.all(tabs.map((t) => t.flush()));
    await Promise.all(tabs.map((t) => t.flush()));
    expect(
      collected()
        .filter((e) => e.type === 'tab')
        .map((e) => e.i)
        .sort(),
    ).toEqual([0, 1]);
  });
});

describe('config and variants', () => {
  const config = {
    site: 'shop',
    variants: [
      { id: 'pin', name: 'Pinterest', when: { source: 'pinterest' }, slots: { hero: { text: 'Hello Pinterest' } } },
    ],
    // No holdout: every visitor gets the variant (test/holdout.test.ts tests the holdout).
    measurement: { holdout: 0 },
  };

  test('an inline config applies the variant synchronously, with no config request', () => {
    document.body.innerHTML = `<h1 data-cairn-slot="hero">Default</h1><script type="application/json" id="cairn-config">${JSON.stringify(config)}</script>`;
    visit('/?utm_source=pinterest&utm_medium=social');
    open.push(createCairn({ site: 'shop', server: 'http://sync.test' }));
    expect(document.querySelector('h1')!.textContent).toBe('Hello Pinterest');
    expect(srv.requests.some((r) => r.path.startsWith('/v1/config'))).toBe(false);
  });

  test('no config yet: fetched, applied when it lands, kept for the next page and refreshed there', async () => {
    srv.config = config;
    document.body.innerHTML = '<h1 data-cairn-slot="hero">Default</h1>';
    visit('/?utm_source=pinterest&utm_medium=social');
    await start();
    await settle(10);
    expect(document.querySelector('h1')!.textContent).toBe('Hello Pinterest');
    expect(JSON.parse(localStorage.getItem('cairn.cfg')!).c).toEqual(config);

    // The marketer changes the config meanwhile.
    const changed = { ...config, variants: [{ ...config.variants[0]!, slots: { hero: { text: 'Hello again' } } }] };
    srv.config = changed;
    document.body.innerHTML = '<h1 data-cairn-slot="hero">Default</h1>';
    open.push(createCairn({ site: 'shop', server: 'http://sync.test' }));
    // The cached config applies at once, before any network answer.
    expect(document.querySelector('h1')!.textContent).toBe('Hello Pinterest');
    // Refreshed in the background for the next page (revalidating with the ETag is the browser's
    // HTTP cache's job).
    await settle(10);
    expect(srv.requests.filter((r) => r.path.startsWith('/v1/config'))).toHaveLength(2);
    expect(JSON.parse(localStorage.getItem('cairn.cfg')!).c).toEqual(changed);
    // The page keeps the variant it started with: no flicker mid-page.
    expect(document.querySelector('h1')!.textContent).toBe('Hello Pinterest');
  });
});

describe('consent', () => {
  test('pending: no cookie, storage or request; granting persists and sends what was held', async () => {
    const c = await start({ consent: 'pending' });
    await c.page({ path: '/a' });
    c.track('clicked');
    await c.flush();
    await settle();
    expect(srv.requests).toHaveLength(0);
    expect(document.cookie).toBe('');
    expect(localStorage.length).toBe(0);
    expect(await idbDump()).toBeNull();
    expect((await c.history()).pageViews).toHaveLength(1);

    c.consent('granted');
    await c.page({ path: '/b' });
    await c.flush();
    await settle();
    expect(cookieId()).toBeTruthy();
    expect(JSON.parse(localStorage.getItem('cairn')!).g).toBe(1);
    expect(
      collected()
        .map((e) => e.type)
        .sort(),
    ).toEqual(['clicked', 'page', 'page', 'touch']);
    expect(((await idbDump())!.h as { p: unknown[] }).p).toHaveLength(2);
    // The grant is remembered: the next page starts granted despite the pending default.
    const next = await start({ consent: 'pending' });
    expect((await next.history()).pageViews).toHaveLength(2);
  });

  test('denied after granted tells the server, then wipes cookie, storage and memory; nothing more is sent', async () => {
    localStorage.setItem('unrelated', 'keep');
    const c = await start();
    await c.page();
    await c.flush();
    const id = cookieId();
    const token = JSON.parse(localStorage.getItem('cairn')!).t;
    const sent = srv.requests.length + 1;
    c.consent('denied');
    await settle(10);
    // The one request: the old device's logout, with its token and the reason, so that the server
    // records the refusal and no trigger fires on its history.
    expect(srv.requests.slice(sent - 1)).toEqual([
      {
        method: 'POST',
        path: '/v1/logout?site=shop',
        body: { site: 'shop', deviceId: id, reason: 'denied' },
        headers: expect.objectContaining({ authorization: 'Bearer ' + token }),
      },
    ]);
    expect(srv.revoked.has(id!)).toBe(true);
    expect(cookieId()).toBeUndefined();
    expect(Object.keys(localStorage)).toEqual(['unrelated']);
    expect(await idbDump()).toEqual({});
    c.track('after');
    await c.page();
    await c.flush();
    expect(srv.requests).toHaveLength(sent);
    expect(localStorage.length).toBe(1);
  });

  test('Global Privacy Control counts as denied unless the site opts out', async () => {
    vi.stubGlobal('navigator', Object.create(navigator, { globalPrivacyControl: { value: true } }));
    const c = await start();
    await c.page();
    await c.flush();
    expect(srv.requests).toHaveLength(0);
    expect(cookieId()).toBeUndefined();
    const optedOut = await start({ respectGpc: false });
    await optedOut.page();
    await optedOut.flush();
    expect(collected().length).toBeGreaterThan(0);
  });
});

describe('identity', () => {
  test('a phone and a desktop: the desktop sees the phone products after login; same user again is a no-op', async () => {
    let now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => (now += 1000));
    const phone = await start();
    await phone.page({ path: '/product/A', product: 'A' });
    await phone.page({ path: '/product/B', product: 'B' });
    const pp = await phone.identify('alice', 'signed:alice');
    expect(pp.userId).toBe('alice');
    expect(pp.products.map((p) => p.id).sort()).toEqual(['A', 'B']);

    freshDevice();
    vi.spyOn(Date, 'now').mockImplementation(() => (now += 1000));
    vi.stubGlobal('fetch', srv.fetch);
    const desk = await start();
    await desk.page({ path: '/', title: 'Home' });
    const dp = await desk.identify('alice', 'signed:alice');
    expect(dp.pageViews).toHaveLength(3);
    const h = await desk.history();
    expect(h.products).toEqual(['B', 'A']);
    expect(h.pageViews).toHaveLength(3);
    expect(await desk.profile()).toEqual(dp);

    const before = srv.requests.length;
    expect(await desk.identify('alice', 'signed:alice')).toEqual(dp);
    expect(srv.requests).toHaveLength(before);

    // A linked device sends its token with its batches (the server refuses them otherwise).
    desk.track('after_login');
    await desk.flush();
    expect(collected().some((e) => e.type === 'after_login')).toBe(true);
    expect(srv.requests.at(-1)!.headers.authorization).toBe('Bearer ' + srv.tokens.get(cookieId()!));
  });

  test('the first answer lost with the page: the next page still links the same device, history and all', async () => {
    // The visitor leaves while the first batches are in flight: the server stores them, nobody
    // reads the answers.
    srv.loseAnswers = true;
    const c = await start();
    await c.page({ path: '/product/A', product: 'A' });
    await c.flush();
    await settle();
    srv.loseAnswers = false;
    // The server made the device from the first batch; the page knows none of that.
    const id = cookieId();
    expect(srv.tokens.has(id!)).toBe(true);
    const next = await start();
    const p = await next.identify('alice', 'signed:alice');
    expect(cookieId()).toBe(id);
    expect(srv.links.get(id!)).toBe('alice');
    expect(p.products.map((x) => x.id)).toEqual(['A']);
  });

  test('a device that lost its token (the server knows it): identify goes on as a fresh device', async () => {
    const c = await start();
    await c.page();
    await c.flush();
    const id = cookieId()!;
    const state = JSON.parse(localStorage.getItem('cairn')!);
    delete state.t;
    localStorage.setItem('cairn', JSON.stringify(state));
    const again = await start();
    const p = await again.identify('bob', 'signed:bob');
    expect(p.userId).toBe('bob');
    expect(cookieId()).not.toBe(id);
    expect(srv.links.get(cookieId()!)).toBe('bob');
  });

  test('a forged token is refused with unauthorized, and nothing is linked', async () => {
    const c = await start();
    await expect(c.identify('alice', 'forged-token')).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    expect(srv.links.size).toBe(0);
    expect(JSON.parse(localStorage.getItem('cairn')!).u).toBeUndefined();
  });

  test('reset wipes every trace and starts a new anonymous device', async () => {
    const c = await start();
    const heard: string[] = [];
    ['profile', 'identify', 'reset'].forEach((e) => c.on(e, () => heard.push(e)));
    await c.page({ product: 'A' });
    await c.identify('alice', 'signed:alice');
    const oldId = cookieId()!;
    await c.reset();
    const newId = cookieId()!;
    expect(newId).toBeTruthy();
    expect(newId).not.toBe(oldId);
    const dump = JSON.stringify(await idbDump()) + JSON.stringify({ ...localStorage }) + document.cookie;
    expect(dump).not.toContain(oldId);
    expect(dump).not.toContain('alice');
    expect(dump).not.toContain('"A"');
    expect(await c.profile()).toBeNull();
    expect(await c.history()).toMatchObject({ pageViews: [], products: [], touches: [] });
    expect(c.touch()).toEqual({ first: null, last: null, current: null });
    expect(heard).toEqual(['identify', 'reset']);
    // The next events belong to the new device.
    await c.page();
    await c.flush();
    expect(collected().at(-1)!.deviceId).toBe(newId);
  });

  test('a reset in another tab moves this tab to the new device too', async () => {
    const a = await start();
    const b = await start();
    await a.identify('alice', 'signed:alice');
    await b.reset();
    a.track('after_reset');
    await a.flush();
    const ev = collected().find((e) => e.type === 'after_reset');
    expect(ev.deviceId).toBe(cookieId());
    expect(srv.links.get(ev.deviceId)).toBeUndefined();
  });

  test('a shared computer: identifying as bob after alice first moves to a fresh device; alice never reaches bob', async () => {
    const c = await start();
    await c.page({ product: 'A' });
    await c.identify('alice', 'signed:alice');
    const aliceDevice = cookieId()!;
    const bob = await c.identify('bob', 'signed:bob');
    expect(bob.userId).toBe('bob');
    expect(bob.products).toEqual([]);
    expect(cookieId()).not.toBe(aliceDevice);
    expect(srv.links.get(aliceDevice)).toBe('alice');
    expect(srv.links.get(cookieId()!)).toBe('bob');
    expect((await c.history()).products).toEqual([]);
  });

  test('409 device_linked (the server knows better): reset, then identify', async () => {
    const c = await start();
    await c.page();
    await c.flush();
    const id = cookieId()!;
    srv.links.set(id, 'mallory');
    const p = await c.identify('bob', 'signed:bob');
    expect(p.userId).toBe('bob');
    expect(cookieId()).not.toBe(id);
    expect(srv.links.get(cookieId()!)).toBe('bob');
  });
});

describe('opt-ins', () => {
  test('the address goes to POST /v1/optins?site= only: `optin` listeners get it, /v1/collect never does', async () => {
    // The prompts' decision is replaced, to hold the context the core hands it.
    let ctx: PromptContext | undefined;
    vi.resetModules();
    vi.doMock('../src/prompts/decide', () => ({ decidePrompt: async (c: PromptContext) => ((ctx = c), null) }));
    try {
      const { createCairn: create } = await import('../src/cairn');
      const c = create({ site: 'shop', server: 'http://sync.test', config: { site: 'shop' } });
      open.push(c);
      await c.ready;
      const heard: unknown[] = [];
      c.on('optin', (e) => heard.push(e));
      await c.page();
      await ctx!.submitOptin({ email: 'ann@example.com', consentText: 'Yes', promptId: 'join' });
      ctx!.emit('optin', { prompt: 'join', email: 'ann@example.com' });
      await settle();
      await c.flush();

      const optins = srv.requests.filter((r) => r.path.startsWith('/v1/optins'));
      expect(optins.map((r) => [r.method, r.path, r.body.email, r.body.site])).toEqual([
        ['POST', '/v1/optins?site=shop', 'ann@example.com', 'shop'],
      ]);
      expect(heard).toMatchObject([{ type: 'optin', prompt: 'join', email: 'ann@example.com' }]);
      // The event still goes, without the address; no collect request carries it.
      expect(collected().find((e) => e.type === 'optin')).toMatchObject({ prompt: 'join' });
      expect(collected().find((e) => e.type === 'optin')).not.toHaveProperty('email');
      const toCollect = srv.requests.filter((r) => r.path.startsWith('/v1/collect'));
      expect(toCollect.length).toBeGreaterThan(0);
      expect(JSON.stringify(toCollect)).not.toContain('ann@example.com');
      expect(JSON.stringify(await idbDump())).not.toContain('ann@example.com');
    } finally {
      vi.doUnmock('../src/prompts/decide');
    }
  });

  test('every POST names its site in the query: collect, identify, opt-ins', async () => {
    const c = await start();
    await c.page();
    await c.identify('alice', 'signed:alice');
    await c.flush();
    const posts = srv.requests.filter((r) => r.method === 'POST').map((r) => r.path);
    expect(posts).toContain('/v1/collect?site=shop');
    expect(posts).toContain('/v1/identify?site=shop');
    expect(posts.every((p) => p.endsWith('?site=shop'))).toBe(true);
  });
});
