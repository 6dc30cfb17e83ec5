// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { fakeServer, freshDevice, idbDump, instances, settle, type FakeServer } from './core-helpers';

// Logout on the server: reset() has the server revoke the old device's token before the device is
// wiped. A logout that cannot reach the server is kept (the old device's id and token, and nothing
// else), asked again at the next page, and sent along with the next login.

let srv: FakeServer;
const { open, start } = instances();
const cookieId = () => /(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)?.[1];
const stored = () => JSON.parse(localStorage.getItem('cairn') || 'null') as Record<string, string> | null;
const pending = () => JSON.parse(localStorage.getItem('cairn.revoke') || 'null') as { d: string; t: string } | null;
const logouts = () => srv.requests.filter((r) => r.path.startsWith('/v1/logout'));

let beacons: { url: string; body: string }[];
beforeEach(() => {
  freshDevice();
  history.replaceState(null, '', '/');
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
  // Beacons are recorded, never sent (happy-dom's would try the network).
  beacons = [];
  vi.spyOn(navigator, 'sendBeacon').mockImplementation(
    (url, body) => (beacons.push({ url: String(url), body: String(body) }), true),
  );
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.ready));
  await settle();
  // Whatever happened, no write ever left without a device token.
  expect(srv.tokenless).toEqual([]);
});

/** Alice logged in on this device; resolves to its id and token. */
async function alice(): Promise<{ id: string; token: string }> {
  const c = await start();
  await c.page({ product: 'ALICE-SKU' });
  await c.identify('alice', 'signed:alice');
  await c.flush();
  return { id: cookieId()!, token: stored()!.t! };
}

test('reset() has the server revoke the old device with its token, then wipes it', async () => {
  const old = await alice();
  // The answer comes a while after the request (longer than the wipe takes), and is waited for.
  const inner = srv.fetch;
  vi.stubGlobal('fetch', async (i: RequestInfo | URL, init?: RequestInit) =>
    String(i).includes('/v1/logout') ? (await settle(50), inner(i, init)) : inner(i, init),
  );
  const c = await start();
  await c.reset();
  // Answered before reset() resolved: nothing of the old device is left to ask about.
  expect(srv.revoked.has(old.id)).toBe(true);
  expect(pending()).toBeNull();
  await settle(10);
  expect(logouts()).toHaveLength(1);
  expect(logouts()[0]).toMatchObject({
    method: 'POST',
    body: { site: 'shop', deviceId: old.id },
    headers: { authorization: 'Bearer ' + old.token },
  });
  expect(srv.revoked.has(old.id)).toBe(true);
  // The new device is not revoked, and nothing is left to ask.
  expect(cookieId()).not.toBe(old.id);
  expect(srv.revoked.has(cookieId()!)).toBe(false);
  expect(pending()).toBeNull();
  expect(JSON.stringify({ ...localStorage })).not.toContain(old.token);
  // The new device goes on writing, with its own token.
  c.track('after_logout');
  await c.flush();
  expect([...srv.events.values()].find((e) => e.type === 'after_logout')?.deviceId).toBe(cookieId());
});

test('offline: the logout goes by beacon too, and the old device id and token are all that is kept, until the next page asks again', async () => {
  const old = await alice();
  srv.down = true;
  const c = await start();
  await c.reset();
  await settle(10);
  expect(beacons.filter((b) => b.url.includes('/v1/logout')).map((b) => JSON.parse(b.body))).toEqual([
    { site: 'shop', deviceId: old.id, deviceToken: old.token },
  ]);
  expect(srv.revoked.size).toBe(0);
  expect(pending()).toEqual({ d: old.id, t: old.token });
  // Nothing else of the old device or its user: the pending logout is only an id and a token.
  const kept = JSON.stringify({ ...localStorage }) + JSON.stringify(await idbDump());
  expect(kept).not.toContain('alice');
  expect(kept).not.toContain('ALICE-SKU');
  expect(kept.split(old.token)).toHaveLength(2);

  // Back online, the next page asks again, and the server's answer ends it.
  srv.down = false;
  await start();
  await settle(10);
  expect(srv.revoked.has(old.id)).toBe(true);
  expect(pending()).toBeNull();
});

test('a pending logout goes along with the next login from this browser, which has the server revoke it', async () => {
  const old = await alice();
  srv.down = true;
  await (await start()).reset();
  srv.down = false;
  // The logout endpoint still unreachable (a proxy in the way): the retry at start fails.
  const inner = srv.fetch;
  vi.stubGlobal('fetch', async (i: RequestInfo | URL, init?: RequestInit) =>
    String(i).includes('/v1/logout') ? Promise.reject(new TypeError('Failed to fetch')) : inner(i, init),
  );
  const c = await start();
  await settle(10);
  expect(pending()).toEqual({ d: old.id, t: old.token });
  expect((await c.identify('bob', 'signed:bob')).userId).toBe('bob');
  const identify = srv.requests.filter((r) => r.path.startsWith('/v1/identify')).at(-1)!;
  expect(identify.body.previous).toEqual({ deviceId: old.id, token: old.token });
  expect(srv.revoked.has(old.id)).toBe(true);
  expect(srv.revoked.has(cookieId()!)).toBe(false);
  expect(pending()).toBeNull();
});

test('a logout the server refuses (a token it no longer holds) is not asked again; a 503 is', async () => {
  await alice();
  const inner = srv.fetch;
  let status = 503;
  vi.stubGlobal('fetch', async (i: RequestInfo | URL, init?: RequestInit) =>
    String(i).includes('/v1/logout')
      ? (srv.requests.push({ method: 'POST', path: '/v1/logout', body: JSON.parse(String(init?.body)), headers: {} }),
        new Response('{"error":"x","message":"x"}', { status }))
      : inner(i, init),
  );
  await (await start()).reset();
  await settle(10);
  expect(pending()).not.toBeNull();
  status = 401;
  await start();
  await settle(10);
  expect(logouts()).toHaveLength(2);
  expect(pending()).toBeNull();
  await start();
  await settle(10);
  expect(logouts()).toHaveLength(2);
});

test('another user logging in on this device (a shared computer) revokes the previous user’s device too', async () => {
  const old = await alice();
  const c = await start();
  expect((await c.identify('bob', 'signed:bob')).userId).toBe('bob');
  await settle(10);
  expect(srv.revoked.has(old.id)).toBe(true);
  expect(srv.links.get(cookieId()!)).toBe('bob');
  expect(srv.revoked.has(cookieId()!)).toBe(false);
});

test('with consent pending, a reset tells the server nothing and keeps nothing', async () => {
  await alice();
  const c = await start({ consent: 'pending' });
  await c.reset();
  await settle(10);
  expect(logouts()).toHaveLength(0);
  expect(pending()).toBeNull();
});

test('a server that does not answer does not hold the logout: the device is wiped, the logout kept until it answers', async () => {
  const old = await alice();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const inner = srv.fetch;
  vi.stubGlobal('fetch', async (i: RequestInfo | URL, init?: RequestInit) =>
    String(i).includes('/v1/logout') ? (await gate, inner(i, init)) : inner(i, init),
  );
  const c = await start();
  await c.reset();
  expect(cookieId()).not.toBe(old.id);
  expect(JSON.stringify(await idbDump())).not.toContain('ALICE-SKU');
  expect(pending()).toEqual({ d: old.id, t: old.token });
  release();
  await settle(10);
  expect(srv.revoked.has(old.id)).toBe(true);
  expect(pending()).toBeNull();
});
