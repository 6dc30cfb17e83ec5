// @vitest-environment happy-dom
// biome-ignore-all lint/suspicious/noExplicitAny: beacon bodies and the stub are read loosely, as the page sees them
// A visitor's "no" lasts: cairn.consent('denied') leaves a cookie that names no one
// (`cairn_consent=denied`), and every later page starts denied, whatever its tag or config says and
// over a grant stored earlier, until the visitor calls cairn.consent('granted').
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { CairnOptions } from '../src/cairn';
import { startHead } from '../src/head/start-head';
import { writeState } from '../src/state/device-state';
import { fakeServer, freshDevice, idbDump, instances, runHead, settle, type FakeServer } from './core-helpers';

type Win = Window & { cairn?: any };
const happy = (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM;
let srv: FakeServer;
const { open, start } = instances();
const MARKER = 'cairn_consent=denied';
/** The cookies this page sees, by name. */
const cookieNames = () =>
  document.cookie
    .split('; ')
    .filter(Boolean)
    .map((c) => c.split('=')[0]);
/** Every localStorage key of the SDK's (they all start with `cairn`). */
const ours = () => Object.keys(localStorage).filter((k) => k.startsWith('cairn'));
const collects = () => srv.requests.filter((r) => r.path.startsWith('/v1/collect'));
/** Everything the device holds of the SDK's besides the marker, and what was sent. */
async function traces() {
  return {
    cookies: cookieNames().filter((n) => n !== 'cairn_consent'),
    localStorage: ours(),
    indexedDB: Object.keys((await idbDump()) ?? {}),
    requests: srv.requests.length,
  };
}
const NOTHING = { cookies: [], localStorage: [], indexedDB: [], requests: 0 };

/** A page that browses and tracks, granted by default, then the visitor refuses. */
async function denyAfterBrowsing(o: CairnOptions = {}): Promise<void> {
  const c = await start(o);
  await c.page();
  await c.flush();
  expect(srv.requests.length).toBeGreaterThan(0);
  c.consent('denied');
  await settle(10);
  srv.requests.length = 0;
}

/** A later page: browses, tracks and flushes. */
async function browse(o: CairnOptions = {}) {
  const c = await start(o);
  await c.page({ product: 'SKU-1' });
  c.track('add_to_cart', { sku: 'SKU-1' });
  await c.flush();
  await settle(10);
  return c;
}

beforeEach(() => {
  happy.setURL('http://localhost/');
  freshDevice();
  // freshDevice clears host cookies; a domain cookie is another one.
  for (const c of ['cairn_id', 'cairn_tk', 'cairn_consent'])
    document.cookie = `${c}=; path=/; domain=.shop.test; expires=Thu, 01 Jan 1970 00:00:00 GMT`;
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.ready));
  await settle();
});

describe('the marker', () => {
  test('a denial leaves cairn_consent=denied and nothing else: no id, no storage', async () => {
    await denyAfterBrowsing();
    expect(document.cookie).toBe(MARKER);
    expect(await traces()).toEqual(NOTHING);
  });

  for (const consent of [undefined, 'granted' as const])
    test(`the next page, data-consent ${consent ?? 'unset'}: denied, nothing stored, nothing sent`, async () => {
      await denyAfterBrowsing();
      expect(startHead({ site: 'shop', consent })._consent).toBe('denied');
      await browse({ consent });
      expect(await traces()).toEqual(NOTHING);
      expect(document.cookie).toBe(MARKER);
    });

  test('it wins over the config’s consent.default too', async () => {
    await denyAfterBrowsing();
    const config = { site: 'shop', consent: { default: 'granted' as const } };
    expect(startHead({ site: 'shop', config })._consent).toBe('denied');
    await browse({ config });
    expect(await traces()).toEqual(NOTHING);
  });

  test('consent("granted") lifts it: storing and sending resume, and the next page starts granted', async () => {
    await denyAfterBrowsing();
    const c = await browse();
    c.consent('granted');
    await c.page();
    await c.flush();
    await settle(10);
    expect(cookieNames()).not.toContain('cairn_consent');
    expect(cookieNames()).toContain('cairn_id');
    expect(ours()).toContain('cairn');
    expect(collects().length).toBeGreaterThan(0);
    expect(startHead({ site: 'shop', consent: 'pending' })._consent).toBe('granted');
  });

  test('consent("pending") does not lift it: the denial stands on this page and the next', async () => {
    await denyAfterBrowsing();
    const c = await browse();
    c.consent('pending');
    await c.page();
    c.consent('granted');
    await c.flush();
    await settle(10);
    // Nothing was held while 'pending': the grant sends nothing of the page before it.
    expect(collects().flatMap((r) => r.body.events.map((e: { type: string }) => e.type))).not.toContain('page');
    c.consent('denied');
    c.consent('pending');
    srv.requests.length = 0;
    await browse();
    expect(await traces()).toEqual(NOTHING);
    expect(document.cookie).toBe(MARKER);
  });

  test('a logout leaves it: it is about the refusal, not the person', async () => {
    await denyAfterBrowsing();
    const c = await browse();
    await c.reset();
    await settle(10);
    expect(document.cookie).toBe(MARKER);
    await browse();
    expect(await traces()).toEqual(NOTHING);
  });

  test('a tab already open hears of the denial (storage event) and the marker holds its later calls', async () => {
    const b = await start();
    await b.page();
    await b.flush();
    await denyAfterBrowsing();
    // What another tab's consent('denied') makes the browser deliver here.
    window.dispatchEvent(new StorageEvent('storage', { key: 'cairn.denied', newValue: '1' }));
    await settle(5);
    expect(await traces()).toEqual(NOTHING);
    // The site's own 'pending' there does not make it hold events for a later grant.
    b.consent('pending');
    b.track('after_denial');
    b.consent('granted');
    await b.flush();
    await settle(5);
    expect([...srv.events.values()].filter((e) => e.type === 'after_denial')).toEqual([]);
  });
});

describe('with a cookie domain', () => {
  test('a denial on one subdomain holds on another, over the grant stored there', async () => {
    const o = { cookieDomain: '.shop.test' };
    // b.shop.test was granted explicitly earlier: its own storage remembers it.
    happy.setURL('https://b.shop.test/');
    writeState({ _granted: 1, _deviceId: 'device-b-000000001', _token: 'tok-b-00000000000000000000000000000' });
    const bStorage = { ls: { ...localStorage }, idb: new IDBFactory() };
    localStorage.clear();
    happy.setURL('https://a.shop.test/');
    await denyAfterBrowsing(o);
    expect(document.cookie).toBe(MARKER);
    // To b.shop.test: the same cookie jar, its own storage.
    happy.setURL('https://b.shop.test/');
    for (const [k, v] of Object.entries(bStorage.ls)) localStorage.setItem(k, v);
    (globalThis as { indexedDB?: IDBFactory }).indexedDB = bStorage.idb;
    expect(startHead({ site: 'shop', ...o })._consent).toBe('denied');
    await browse(o);
    // Denied at start: b's stored grant and device went with the wipe.
    expect(await traces()).toEqual(NOTHING);
  });
});

describe('the script tag, left before the core took over', () => {
  let beacons: any[];
  const added: [EventTarget, string, EventListenerOrEventListenerObject][] = [];
  const happyDOM = (window as unknown as { happyDOM: { settings: { handleDisabledFileLoadingAsSuccess: boolean } } })
    .happyDOM;
  beforeEach(() => {
    // The core's file "loads", and nothing runs it: the visitor leaves first.
    happyDOM.settings.handleDisabledFileLoadingAsSuccess = true;
    document.body.innerHTML = '';
    delete (window as Win).cairn;
    beacons = [];
    Object.defineProperty(navigator, 'sendBeacon', {
      configurable: true,
      value: (url: string, body: string) => (beacons.push({ url, body: JSON.parse(body) }), true),
    });
    vi.resetModules();
    // A page has one head, a test many: each one's listeners go after its test.
    for (const target of [window, document]) {
      const add = target.addEventListener.bind(target);
      vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
        added.push([target, type, listener!]);
        add(type, listener, options);
      });
    }
  });
  afterEach(() => {
    for (const [target, type, listener] of added.splice(0)) target.removeEventListener(type, listener);
  });
  const ATTRS = { 'data-site': 'shop', 'data-server': 'http://sync.test' };
  /** A page whose visitor leaves before the core runs, after the calls queued on its stub. */
  async function leftEarly(calls: unknown[][] = [], attrs: Record<string, string> = {}) {
    for (const [target, type, listener] of added.splice(0)) target.removeEventListener(type, listener);
    vi.resetModules();
    delete (window as Win).cairn;
    const stub = (await runHead({ ...ATTRS, ...attrs })) as Win['cairn'];
    for (const [name, ...args] of calls) stub[name as string](...args);
    dispatchEvent(new Event('pagehide'));
    return stub;
  }

  test('a denial queued there lasts: the next pages neither store nor beacon', async () => {
    await leftEarly([['consent', 'denied']]);
    expect(document.cookie).toBe(MARKER);
    for (const attrs of [{}, { 'data-consent': 'granted' }] as Record<string, string>[]) {
      const stub = await leftEarly([['track', 'clicked']], attrs);
      expect(stub._head._consent).toBe('denied');
    }
    // The flag that has the next core wipe what storage still holds is all there is (no identifier).
    expect({ beacons, ...(await traces()) }).toEqual({ beacons: [], ...NOTHING, localStorage: ['cairn.wipe'] });
  });

  test('a grant queued there lifts it: that page stores and beacons, and the next one too', async () => {
    await denyAfterBrowsing();
    await leftEarly([['consent', 'granted']]);
    expect(cookieNames()).not.toContain('cairn_consent');
    expect(beacons).toHaveLength(1);
    await leftEarly();
    expect(beacons).toHaveLength(2);
    expect(ours()).toContain('cairn');
  });

  test('a denial made by the core holds at the next page’s page hide', async () => {
    await denyAfterBrowsing();
    await leftEarly([['track', 'clicked']]);
    expect({ beacons, ...(await traces()) }).toEqual({ beacons: [], ...NOTHING });
  });
});
