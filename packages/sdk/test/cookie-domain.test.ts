// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { createCairn, type Cairn } from '../src/cairn';
import { fakeServer, freshDevice, settle, type FakeServer } from './core-helpers';

// A cookie domain lets subdomains share the device id (shop.example.com, www.example.com). Each
// subdomain is its own origin: its own localStorage and IndexedDB, the same cookies.

const happy = (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM;
let srv: FakeServer;
const open: Cairn[] = [];
const start = async (cookieDomain?: string) => {
  const c = createCairn({ site: 'shop', server: 'http://sync.test', cookieDomain });
  open.push(c);
  await c.ready;
  return c;
};
/** Each origin's localStorage and IndexedDB, kept while the test is on another one. */
const origins = new Map<string, { ls: Record<string, string>; idb: IDBFactory }>();
/** Moves to another subdomain: the same cookie jar, that origin's own storage (empty at first). */
const moveTo = (host: string) => {
  const g = globalThis as { indexedDB?: IDBFactory };
  origins.set(location.host, { ls: { ...localStorage }, idb: g.indexedDB! });
  const next = origins.get(host) ?? { ls: {}, idb: new IDBFactory() };
  happy.setURL(`https://${host}/`);
  localStorage.clear();
  for (const [k, v] of Object.entries(next.ls)) localStorage.setItem(k, v);
  g.indexedDB = next.idb;
};

beforeEach(() => {
  origins.clear();
  happy.setURL('https://a.shop.test/');
  freshDevice();
  // freshDevice clears host cookies; a domain cookie is another cookie.
  document.cookie = 'cairn_id=; path=/; domain=.shop.test; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.ready));
  await settle();
});

test('with a cookie domain, another subdomain is the same device, with its token: its events still count once the device is linked', async () => {
  const a = await start('.shop.test');
  await a.page();
  await a.flush();
  const [device, token] = [...srv.tokens][0]!;
  await a.identify('u1', 'signed:u1');

  moveTo('b.shop.test');
  const b = await start('.shop.test');
  await b.page();
  await b.flush();
  // A linked device's collects need its token: without it the server refuses them (401).
  const pages = [...srv.events.values()].filter((e) => e.type == 'page');
  expect(pages.map((e) => e.deviceId)).toEqual([device, device]);
  expect(srv.requests.filter((r) => r.path.startsWith('/v1/collect')).at(-1)!.headers.authorization).toBe('Bearer ' + token);
  // The next page on b has the merged profile.
  const again = await start('.shop.test');
  expect((await again.profile())?.userId).toBe('u1');
});

test('without a cookie domain, the token stays out of cookies (they travel with every request to the shop)', async () => {
  const a = await start();
  await a.page();
  await a.flush();
  const [device, token] = [...srv.tokens][0]!;
  expect(document.cookie).toContain(device);
  expect(document.cookie).not.toContain(token);
});

test('a subdomain whose storage holds an older device moves to the cookie’s device and token, and never writes its old id back', async () => {
  const a = await start('.shop.test');
  await a.page();
  await a.flush();
  const [device, token] = [...srv.tokens][0]!;

  moveTo('b.shop.test');
  const old = { v: 1, d: 'old-device-0000-0000-0000-000000000000', t: 'old-token-0000-0000-0000-000000000000' };
  localStorage.setItem('cairn', JSON.stringify(old));
  const b = createCairn({ site: 'shop', server: 'http://sync.test', cookieDomain: '.shop.test' });
  open.push(b);
  expect(document.cookie).toContain(`cairn_id=${device}.${token}`);
  expect(document.cookie).not.toContain(old.d);
  await b.ready;
  await b.page();
  await b.flush();
  const last = srv.requests.filter((r) => r.path.startsWith('/v1/collect')).at(-1)!;
  expect(last.body.deviceId).toBe(device);
  expect(last.headers.authorization).toBe('Bearer ' + token);
  expect(JSON.parse(localStorage.getItem('cairn')!)).toMatchObject({ d: device, t: token });
});

test('a logout on one subdomain wipes what another holds of that user, at its next page', async () => {
  const a = await start('.shop.test');
  await a.page();
  await a.identify('u1', 'signed:u1');
  moveTo('b.shop.test');
  const b = await start('.shop.test');
  await b.page();
  await b.identify('u1', 'signed:u1');
  expect((await b.history()).pageViews.length).toBeGreaterThan(0);
  await Promise.all([a.flush(), b.flush()]);

  moveTo('a.shop.test');
  await (await start('.shop.test')).reset();
  moveTo('b.shop.test');
  const after = await start('.shop.test');
  expect(await after.profile()).toBeNull();
  expect((await after.history()).pageViews).toEqual([]);
  expect(after.touch().current).not.toBeNull();
});
