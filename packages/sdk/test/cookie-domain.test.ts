// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { fakeServer, freshDevice, instances, settle, type FakeServer } from './core-helpers';

// A cookie domain lets subdomains share the device id (shop.example.com, www.example.com). Each
// subdomain is its own origin: its own localStorage and IndexedDB, the same cookies.

const happy = (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM;
let srv: FakeServer;
const { open, make, start } = instances({ cookieDomain: '.shop.test' });
const collects = () => srv.requests.filter((r) => r.path.startsWith('/v1/collect'));
const pageDevices = () => [...srv.events.values()].filter((e) => e.type === 'page').map((e) => e.deviceId as string);
/** A page on a.shop.test, delivered: its device id and the token the server holds for it. */
async function firstDevice(o: Parameters<typeof start>[0] = {}): Promise<[string, string]> {
  const a = await start(o);
  await a.page();
  await a.flush();
  return [...srv.tokens][0]!;
}
/** Identifies on a, and has b (another origin) browse the linked device and pull its profile. */
async function linkedOnAandB(): Promise<{ device: string; token: string }> {
  const a = await start();
  await a.page();
  await a.identify('u1', 'signed:u1');
  const [device, token] = [...srv.tokens][0]!;
  moveTo('b.shop.test');
  const b = await start();
  await b.page();
  await b.flush();
  // The next page on b pulls the merged profile.
  expect((await (await start()).profile())?.userId).toBe('u1');
  return { device, token };
}
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
  for (const c of ['cairn_id', 'cairn_tk'])
    document.cookie = `${c}=; path=/; domain=.shop.test; expires=Thu, 01 Jan 1970 00:00:00 GMT`;
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.ready));
  await settle();
});

test('with a cookie domain, another subdomain is the same device, with its token: its events still count once the device is linked', async () => {
  const { device, token } = await linkedOnAandB();
  // A linked device's collects need its token: without it the server refuses them (401).
  expect(pageDevices()).toEqual([device, device]);
  expect(collects().at(-1)!.headers.authorization).toBe('Bearer ' + token);
  // The id cookie is the bare id that every SDK version reads; the token has a cookie of its own.
  expect(document.cookie).toContain(`cairn_id=${device}`);
  expect(document.cookie).toContain(`cairn_tk=${token}`);
});

test('without a cookie domain, the token stays out of cookies (they travel with every request to the shop)', async () => {
  const [device, token] = await firstDevice({ cookieDomain: null });
  expect(document.cookie).toContain(device);
  expect(document.cookie).not.toContain(token);
});

test('a subdomain whose storage holds an older device moves to the cookie’s device and token, and never writes its old id back', async () => {
  const [device, token] = await firstDevice();

  moveTo('b.shop.test');
  const old = { v: 1, d: 'old-device-0000-0000-0000-000000000000', t: 'old-token-0000-0000-0000-000000000000' };
  localStorage.setItem('cairn', JSON.stringify(old));
  const b = make();
  expect(document.cookie).toContain(`cairn_id=${device}`);
  expect(document.cookie).not.toContain(old.d);
  await b.ready;
  await b.page();
  await b.flush();
  expect(collects().at(-1)!.body.deviceId).toBe(device);
  expect(collects().at(-1)!.headers.authorization).toBe('Bearer ' + token);
  expect(JSON.parse(localStorage.getItem('cairn')!)).toMatchObject({ d: device, t: token });
});

test('a subdomain that lost the token of the same device takes it from the cookie', async () => {
  const [device, token] = await firstDevice();
  moveTo('b.shop.test');
  localStorage.setItem('cairn', JSON.stringify({ v: 1, d: device }));
  const b = await start();
  await b.page();
  await b.flush();
  expect(collects().at(-1)!.headers.authorization).toBe('Bearer ' + token);
});

test('a logout on one subdomain wipes what another holds of that user at its next page, identified there or not', async () => {
  await linkedOnAandB();
  moveTo('a.shop.test');
  await (await start()).reset();
  moveTo('b.shop.test');
  const after = await start();
  expect(await after.profile()).toBeNull();
  expect((await after.history()).pageViews).toEqual([]);
  expect(after.touch().first).toMatchObject({ channel: 'Direct' });
});

test('a tab left open on another subdomain follows a logout there instead of undoing it', async () => {
  await linkedOnAandB();
  const b = open.at(-1)!;
  moveTo('a.shop.test');
  await (await start()).reset();
  const fresh = /(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)![1]!;
  moveTo('b.shop.test');
  // The b tab, open all along, records an event: it moves to the new device, never back.
  b.track('still_here');
  await b.flush();
  expect(/(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)![1]).toBe(fresh);
  expect(collects().at(-1)!.body.deviceId).toBe(fresh);
  expect(await b.profile()).toBeNull();
  expect((await b.history()).pageViews).toEqual([]);
  // And a's next page is still the new anonymous device.
  moveTo('a.shop.test');
  const a = await start();
  await a.page();
  await a.flush();
  expect(collects().at(-1)!.body.deviceId).toBe(fresh);
  expect(await a.profile()).toBeNull();
});

test('granting consent on a subdomain after a logout elsewhere: the cookie’s new device, nothing of the old', async () => {
  await linkedOnAandB();
  moveTo('a.shop.test');
  await (await start()).reset();
  const fresh = /(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)![1]!;
  moveTo('b.shop.test');
  const b = await start({ consent: 'pending' });
  b.consent('granted');
  await b.flush();
  await b.page();
  await b.flush();
  expect(collects().at(-1)!.body.deviceId).toBe(fresh);
  expect(await b.profile()).toBeNull();
  expect((await b.history()).pageViews.map((p) => p.path)).toEqual(['/']);
});

test('a tab whose device another subdomain logged out of does not renew the shared device: the new login there stands', async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  const a = await start();
  await a.page();
  await a.identify('alice', 'signed:alice');
  await a.flush();
  // An event of alice's waits in a's outbox for its batch.
  a.track('alice_unsent');
  await settle(3);
  // On b: logout, then bob logs in; bob's click waits in b's outbox.
  moveTo('b.shop.test');
  const b = await start();
  await b.page();
  await b.flush();
  await b.reset();
  await b.identify('bob', 'signed:bob');
  const bobs = /(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)![1]!;
  b.track('bob_click');
  await settle(3);
  // a sends: it follows bob's device first, and renews nothing.
  moveTo('a.shop.test');
  await a.flush();
  expect(/(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)![1]).toBe(bobs);
  moveTo('b.shop.test');
  await b.flush();
  expect(srv.links.get(bobs)).toBe('bob');
  expect([...srv.events.values()].find((e) => e.type === 'bob_click')?.deviceId).toBe(bobs);
  // alice's unsent event went with her device's data on a, never to bob's device.
  expect([...srv.events.values()].filter((e) => e.type === 'alice_unsent' && e.deviceId === bobs)).toEqual([]);
});
