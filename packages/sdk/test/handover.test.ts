// @vitest-environment happy-dom
// biome-ignore-all lint/suspicious/noExplicitAny: beacon bodies and stubbed globals are read loosely, as the page sees them
// The hand-over from the head to the core, and a visitor who leaves before it: queued calls, a
// denial or a logout queued, a cookie domain's moved device, a core that never loads.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import type { Cairn } from '../src/cairn';
import { readState, writeState } from '../src/state/device-state';
import { type FakeServer, fakeServer, freshDevice, runHead, settle } from './core-helpers';

type Win = Window & { cairn?: any };
let srv: FakeServer;
let beacons: any[];

beforeEach(() => {
  freshDevice();
  history.replaceState(null, '', '/');
  document.body.innerHTML = '';
  delete (window as Win).cairn;
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
  beacons = [];
  Object.defineProperty(navigator, 'sendBeacon', {
    configurable: true,
    value: (url: string, body: string) => (beacons.push({ url, body: JSON.parse(body) }), true),
  });
  vi.resetModules();
  // The core's file loads (nothing runs it until a test imports it), except where a test says not.
  happyDOM.settings.handleDisabledFileLoadingAsSuccess = true;
});
const happyDOM = (window as unknown as { happyDOM: { settings: { handleDisabledFileLoadingAsSuccess: boolean } } })
  .happyDOM;

/** The listeners each head adds, removed after its test: a page has one head, a test file many. */
const added: [EventTarget, string, EventListenerOrEventListenerObject][] = [];
afterEach(() => {
  for (const [target, type, listener] of added.splice(0)) target.removeEventListener(type, listener);
});

async function head(attrs: Record<string, string>) {
  for (const target of [window, document]) {
    const add = target.addEventListener.bind(target);
    vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
      added.push([target, type, listener!]);
      add(type, listener, options);
    });
  }
  return (await runHead(attrs)) as Win['cairn'];
}
async function core(): Promise<Cairn> {
  await import('../src/entry/core');
  const c = (window as Win).cairn as Cairn;
  await c.ready;
  return c;
}
const setVisibility = (v: 'hidden' | 'visible') => {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => v });
  document.dispatchEvent(new Event('visibilitychange'));
};
/** This origin's storage names user A's device, identified, mid-session. */
const storedAlice = () =>
  writeState({
    _deviceId: 'device-alice-0001',
    _token: 'tok-alice-secret-0000000000000000000',
    _tokenKnown: 1,
    _userId: 'alice',
    _sessionId: 's1',
    _lastActivity: Date.now(),
  });
const ATTRS = { 'data-site': 'shop', 'data-server': 'http://sync.test' };
const refusal = () => /(?:^|; )cairn_consent=denied/.test(document.cookie);
const beaconed = () => beacons.map((b) => [b.url.replace(/\?.*/, ''), b.body.deviceId, b.body.reason]);

test('hidden then shown before take-over: the page view counts once in the history, the touch is there', async () => {
  history.replaceState(null, '', '/landing?utm_source=news&utm_medium=email&utm_campaign=spring');
  await head(ATTRS);
  setVisibility('hidden');
  setVisibility('visible');
  delete (document as any).visibilityState;
  const c = await core();
  await settle(10);
  const h = await c.history();
  expect(h.pageViews).toHaveLength(1);
  // Both of these fail: sessions[0].pages is 2 (and the lifetime count n is 2), touches is [].
  expect({ pages: h.sessions[0]!.pages, touches: h.touches.length }).toEqual({ pages: 1, touches: 1 });
});

test('calls queued before take-over are spilled and beaconed when the visitor leaves (a queued page, tracks)', async () => {
  (window as Win).cairn = [
    ['page', { product: 'SKU-1' }],
    ['track', 'add_to_cart', { sku: 'SKU-1' }],
  ];
  const stub = await head(ATTRS);
  stub.track('clicked_banner');
  dispatchEvent(new Event('pagehide'));
  const sent = beacons.flatMap((b) => b.body.events.map((e: any) => e.type));
  const spilled = (JSON.parse(localStorage.getItem('cairn.spill') || '{"e":[]}').e as any[]).map((e) => e.type);
  // Only the touch: no page view at all (the queued page() turned the automatic one off), no track.
  expect({ sent, spilled }).toEqual({
    sent: expect.arrayContaining(['page', 'add_to_cart', 'clicked_banner']),
    spilled: expect.arrayContaining(['page', 'add_to_cart', 'clicked_banner']),
  });
});

test('cookie domain: a page left before take-over beacons to the cookie’s device, never the logged-out one', async () => {
  // This origin's storage still names user A's device; another subdomain logged out: the cookie names a new device.
  storedAlice();
  document.cookie = 'cairn_id=device-new-00000001; path=/';
  await head({ ...ATTRS, 'data-cookie-domain': 'localhost' });
  dispatchEvent(new Event('pagehide'));
  expect(beacons[0].body.deviceId).toBe('device-new-00000001');
  expect(readState()?._userId).toBeUndefined();
});

test('a denial queued before take-over stops the head: nothing written, spilled or beaconed', async () => {
  (window as Win).cairn = [['consent', 'denied']];
  const stub = await head(ATTRS);
  stub.consent('denied');
  dispatchEvent(new Event('pagehide'));
  expect({ beacons: beacons.length, state: readState(), spill: localStorage.getItem('cairn.spill') }).toEqual({
    beacons: 0,
    state: undefined,
    spill: null,
  });
});

test('a denial queued before take-over, of a device earlier pages kept: the server hears it by beacon, and nothing else is sent or kept', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  stub.track('clicked');
  stub.consent('denied');
  dispatchEvent(new Event('pagehide'));
  expect(beacons).toEqual([
    {
      url: 'http://sync.test/v1/logout?site=shop',
      body: {
        site: 'shop',
        deviceId: 'device-alice-0001',
        deviceToken: 'tok-alice-secret-0000000000000000000',
        reason: 'denied',
      },
    },
  ]);
  expect({ state: readState(), spill: localStorage.getItem('cairn.spill') }).toEqual({ state: undefined, spill: null });
});

test('a logout queued before take-over still logs out when the visitor leaves', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  stub.reset();
  dispatchEvent(new Event('pagehide'));
  expect(readState()?._userId).toBeUndefined();
});

test('the core never loads (blocked, CSP, offline): ready and the stub’s calls settle', async () => {
  happyDOM.settings.handleDisabledFileLoadingAsSuccess = false;
  const stub = await head(ATTRS);
  const r = await Promise.race([
    stub.ready.then(() => 'ready'),
    stub.flush().then(() => 'flushed'),
    new Promise((r) => setTimeout(() => r('hung'), 200)),
  ]);
  expect(r).not.toBe('hung');
});

test('consent pending, the page hidden and shown before take-over: a later grant keeps the landing and the calls', async () => {
  history.replaceState(null, '', '/landing?utm_source=pinterest&utm_medium=social');
  const stub = await head({ ...ATTRS, 'data-consent': 'pending' });
  stub.track('clicked_banner');
  setVisibility('hidden');
  setVisibility('visible');
  delete (document as any).visibilityState;
  const c = await core();
  await c.consent('granted');
  await c.flush();
  await settle(10);
  const h = await c.history();
  const sent = [...srv.events.values()].map((e: any) => e.type);
  expect({ touches: h.touches.map((t) => t.source), pages: h.pageViews.length, sent }).toEqual({
    touches: ['pinterest'],
    pages: 1,
    sent: expect.arrayContaining(['touch', 'page', 'clicked_banner']),
  });
});

test('a queued call with a value no consent can be (a Symbol) costs the leaving visitor nothing', async () => {
  (window as Win).cairn = [
    ['consent', Symbol('granted')],
    ['track', 'added_to_cart'],
  ];
  await head(ATTRS);
  dispatchEvent(new Event('pagehide'));
  expect(beacons.flatMap((b) => b.body.events.map((e: any) => e.type))).toEqual(
    expect.arrayContaining(['touch', 'page', 'added_to_cart']),
  );
});

test('anything pushed onto the queue (a number) costs the leaving visitor nothing', async () => {
  (window as Win).cairn = [5, ['track', 'added_to_cart']];
  await head(ATTRS);
  dispatchEvent(new Event('pagehide'));
  expect(beacons.flatMap((b) => b.body.events.map((e: any) => e.type))).toEqual(
    expect.arrayContaining(['touch', 'page', 'added_to_cart']),
  );
});

test('a denial wiped at a first hide: a grant before a second is a new device, which the core after keeps', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  stub.consent('denied');
  setVisibility('hidden');
  setVisibility('visible');
  stub.consent('granted');
  stub.page({ product: 'SKU-2' });
  setVisibility('hidden');
  delete (document as any).visibilityState;
  const sent = beacons.map((b) => [b.url.replace(/\?.*/, ''), b.body.deviceId, b.body.events?.map((e: any) => e.type)]);
  // In a session of its own, as after the core's reset.
  expect(beacons[1].body.events[0].session).toEqual(expect.any(String));
  expect(beacons[1].body.events[0].session).not.toBe('s1');
  expect(sent).toEqual([
    ['http://sync.test/v1/logout', 'device-alice-0001', undefined],
    ['http://sync.test/v1/collect', expect.stringMatching(/^(?!device-alice)/), ['page']],
  ]);
  const state = readState()!;
  expect({ user: state._userId, device: state._deviceId ?? state._newDeviceId, granted: state._granted }).toEqual({
    user: undefined,
    device: sent[1]![1],
    granted: 1,
  });
  // The core that starts when the tab is shown again does not deny, nor grant, a second time.
  setVisibility('visible');
  delete (document as any).visibilityState;
  await core();
  await settle(10);
  const denials = [...beacons.map((b) => b.body), ...srv.requests.map((r) => r.body)].filter(
    (b) => b?.reason === 'denied',
  );
  expect(denials.map((b) => b.deviceId)).toEqual(['device-alice-0001']);
  expect({ refusal: refusal(), granted: readState()?._granted }).toEqual({ refusal: false, granted: 1 });
});

test('a logout at a first hide, then a denial before a second: the refusal is kept, and no new device is told', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  stub.reset();
  setVisibility('hidden');
  setVisibility('visible');
  stub.consent('denied');
  dispatchEvent(new Event('pagehide'));
  delete (document as any).visibilityState;
  expect(refusal()).toBe(true);
  expect(beaconed().filter(([url]) => url.endsWith('logout'))).toEqual([
    ['http://sync.test/v1/logout', 'device-alice-0001', undefined],
  ]);
  expect(readState()).toBeUndefined();
});

test('a logout before take-over revokes the old device at the server after its events, so nothing recovers it', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  stub.track('viewed_account');
  stub.reset();
  dispatchEvent(new Event('pagehide'));
  expect(beaconed()).toEqual([
    ['http://sync.test/v1/collect', 'device-alice-0001', undefined],
    ['http://sync.test/v1/logout', 'device-alice-0001', undefined],
  ]);
});

test('a new visitor whose page the head sent at a hide, then denied: the server hears the denial', async () => {
  const stub = await head(ATTRS);
  setVisibility('hidden');
  setVisibility('visible');
  stub.consent('denied');
  dispatchEvent(new Event('pagehide'));
  delete (document as any).visibilityState;
  const [collect, logout] = beaconed();
  expect(collect![0]).toBe('http://sync.test/v1/collect');
  expect(logout).toEqual(['http://sync.test/v1/logout', collect![1], 'denied']);
  expect(readState()).toBeUndefined();
});

test('a grant queued on a pending page left before take-over is kept for the next pages', async () => {
  const stub = await head({ ...ATTRS, 'data-consent': 'pending' });
  stub.consent('granted');
  dispatchEvent(new Event('pagehide'));
  expect(readState()?._granted).toBe(1);
});

test('anything pushed onto the queue (a number) costs the core nothing either: the calls after it run, ready resolves', async () => {
  (window as Win).cairn = [5, ['track', 'after_five']];
  await head(ATTRS);
  const c = await core();
  await c.flush();
  await settle(10);
  expect([...srv.events.values()].map((e: any) => e.type)).toContain('after_five');
});

test('a logout the head obeyed at a hide: the core that starts after records the rest of the page, and does not log out again', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  stub.reset();
  setVisibility('hidden');
  setVisibility('visible');
  delete (document as any).visibilityState;
  const c = await core();
  c.track('after_logout');
  await c.flush();
  await settle(10);
  expect(beaconed().filter(([url]) => url.endsWith('logout'))).toEqual([
    ['http://sync.test/v1/logout', 'device-alice-0001', undefined],
  ]);
  expect(srv.requests.filter((r) => r.path.startsWith('/v1/logout'))).toEqual([]);
  const device = [...srv.events.values()].find((e: any) => e.type === 'after_logout')?.deviceId;
  expect(device).toEqual(expect.any(String));
  expect(device).not.toBe('device-alice-0001');
  expect(srv.revoked.has(device)).toBe(false);
});

test('calls after a logout the head obeyed are the new device’s, at the next hide', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  stub.reset();
  stub.track('after_logout');
  setVisibility('hidden');
  setVisibility('visible');
  setVisibility('hidden');
  delete (document as any).visibilityState;
  const collects = beacons.filter((b) => b.url.includes('/collect'));
  const after = collects.find((b) =>
    b.body.events.some((e: any) => e.name === 'after_logout' || e.type === 'after_logout'),
  );
  expect(after?.body.deviceId).toEqual(expect.any(String));
  expect(after?.body.deviceId).not.toBe('device-alice-0001');
  expect(readState()?._userId).toBeUndefined();
});

test('a new visitor whose events the head sent, then a logout: that device is revoked too', async () => {
  const stub = await head(ATTRS);
  stub.track('clicked');
  stub.reset();
  dispatchEvent(new Event('pagehide'));
  const [collect, logout] = beaconed();
  expect(collect![0]).toBe('http://sync.test/v1/collect');
  expect(logout).toEqual(['http://sync.test/v1/logout', collect![1], undefined]);
});

test('a pending page that stored a device before, then a grant and a logout: the stored device is revoked', async () => {
  storedAlice();
  const stub = await head({ ...ATTRS, 'data-consent': 'pending' });
  stub.consent('granted');
  stub.reset();
  dispatchEvent(new Event('pagehide'));
  expect(beaconed().filter(([url]) => url.endsWith('logout'))).toEqual([
    ['http://sync.test/v1/logout', 'device-alice-0001', undefined],
  ]);
});

test('an explicit grant outlasts a logout the head obeyed', async () => {
  storedAlice();
  writeState({ ...readState(), _granted: 1 });
  const stub = await head(ATTRS);
  stub.reset();
  dispatchEvent(new Event('pagehide'));
  const state = readState();
  expect({ granted: state?._granted, user: state?._userId, device: state?._deviceId }).toEqual({
    granted: 1,
    user: undefined,
    device: undefined,
  });
});

test('a beacon that throws (a server URL the browser refuses) still leaves the denial obeyed', async () => {
  storedAlice();
  Object.defineProperty(navigator, 'sendBeacon', {
    configurable: true,
    value: () => {
      throw new TypeError('refused');
    },
  });
  const stub = await head(ATTRS);
  stub.consent('denied');
  dispatchEvent(new Event('pagehide'));
  expect({ state: readState(), refusal: refusal() }).toEqual({ state: undefined, refusal: true });
});

test('a login queued before a logout the head obeyed is not replayed by the core for the new device', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  // Its outcome is taken at once: the head settles it at the hide, before the core runs.
  const login = stub.identify('bob', 'signed:bob').then(
    () => 'linked',
    (e: unknown) => e,
  );
  stub.reset();
  setVisibility('hidden');
  setVisibility('visible');
  delete (document as any).visibilityState;
  await core();
  await settle(10);
  expect(await login).toMatchObject({ name: 'CairnError' });
  expect({ user: readState()?._userId, links: [...srv.links.values()] }).toEqual({ user: undefined, links: [] });
});

test('a logout the head obeyed stores the new device at once, for the other tabs to follow', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  stub.reset();
  dispatchEvent(new Event('pagehide'));
  const state = readState();
  expect(state?._newDeviceId).toEqual(expect.any(String));
  expect(state?._newDeviceId).not.toBe('device-alice-0001');
  expect({ user: state?._userId, token: state?._token === 'tok-alice-secret-0000000000000000000' }).toEqual({
    user: undefined,
    token: false,
  });
});

test('a denial heard from another tab, then a grant here before the core: never the denied device back', async () => {
  storedAlice();
  const stub = await head(ATTRS);
  localStorage.removeItem('cairn');
  dispatchEvent(new StorageEvent('storage', { key: 'cairn.denied', newValue: '1' }));
  stub.consent('granted');
  dispatchEvent(new Event('pagehide'));
  expect(beacons.map((b) => b.body.deviceId)).not.toContain('device-alice-0001');
  expect(readState()?._userId).toBeUndefined();
});

test('another tab denied between this head and its core: a grant after brings no old device back', async () => {
  storedAlice();
  document.cookie = 'cairn_id=device-alice-0001; path=/';
  await head(ATTRS);
  // The other tab's denial: its wipe, without the event (it came before this core listened).
  localStorage.removeItem('cairn');
  document.cookie = 'cairn_id=; path=/; max-age=0';
  const c = await core();
  await c.consent('granted');
  await settle(10);
  expect({ user: readState()?._userId, alice: readState()?._deviceId === 'device-alice-0001' }).toEqual({
    user: undefined,
    alice: false,
  });
});

test('a logout the head obeyed where storage refuses writes: the core that starts after still records', async () => {
  storedAlice();
  document.cookie = 'cairn_id=device-alice-0001; path=/';
  const stub = await head(ATTRS);
  stub.reset();
  const setItem = vi.spyOn(localStorage, 'setItem').mockImplementation(() => {
    throw new DOMException('refused', 'QuotaExceededError');
  });
  setVisibility('hidden');
  setVisibility('visible');
  delete (document as any).visibilityState;
  const c = await core();
  c.track('after_logout');
  await c.flush();
  await settle(10);
  setItem.mockRestore();
  expect([...srv.events.values()].map((e: any) => e.type)).toContain('after_logout');
});

test('a page that started without consent keeps its own landing when another tab denies and it grants', async () => {
  history.replaceState(null, '', '/landing?utm_source=pinterest&utm_medium=social');
  const stub = await head({ ...ATTRS, 'data-consent': 'pending' });
  dispatchEvent(new StorageEvent('storage', { key: 'cairn.denied', newValue: '1' }));
  stub.consent('granted');
  dispatchEvent(new Event('pagehide'));
  expect(readState()?._firstTouch?.source).toBe('pinterest');
});
