// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { cookiesBlocked, fakeServer, freshDevice, idbDump, instances, settle, type FakeServer } from './core-helpers';

// Answers that land late, and refusals, must not bring a previous visitor back nor lose events:
// a profile answered after a logout, a collect answered after another tab moved to a new device,
// a server that no longer accepts the device's token, one event the server refuses, a denial.

let srv: FakeServer;
const { open, make, start } = instances();
const cookieId = () => /(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)?.[1];
const stored = () => JSON.parse(localStorage.getItem('cairn') || 'null') as Record<string, unknown> | null;
const collected = () => [...srv.events.values()];
/** Holds the requests whose URL matches until the returned function is called. */
function hold(re: RegExp): () => void {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const inner = srv.fetch;
  vi.stubGlobal(
    'fetch',
    async (i: RequestInfo | URL, init?: RequestInit) => (re.test(String(i)) && (await gate), inner(i, init)),
  );
  return release;
}

beforeEach(() => {
  freshDevice();
  history.replaceState(null, '', '/');
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.ready));
  await settle();
});

async function alice(): Promise<string> {
  const a = await start();
  await a.page({ product: 'SKU-A' });
  await a.identify('alice', 'signed:alice');
  await a.flush();
  return cookieId()!;
}

test('a profile answered after a logout on that page is the old device’s: it is dropped', async () => {
  const old = await alice();
  const release = hold(/\/v1\/profile/);
  const c = make();
  await c.reset();
  expect(cookieId()).not.toBe(old);
  release();
  await settle(20);
  expect(JSON.stringify(await idbDump())).not.toContain('alice');
  expect(await c.profile()).toBeNull();
  expect((await c.history()).products).toEqual([]);
});

test('on a shared computer, the previous user’s profile answered late never reaches the next user’s device', async () => {
  await alice();
  const release = hold(/\/v1\/profile/);
  const c = make();
  expect((await c.identify('bob', 'signed:bob')).userId).toBe('bob');
  release();
  await settle(20);
  expect((await c.profile())?.userId).toBe('bob');
  expect((await c.history()).products).toEqual([]);
});

test('a collect answered after another tab moved to a new device does not mark that device as known to the server', async () => {
  // Web Locks, as browsers have them: one tab sends, the others skip (happy-dom has none).
  const held = new Set<string>();
  const locks = {
    request: async (name: string, _o: unknown, f: (lock: unknown) => unknown) => {
      if (held.has(name)) return f(null);
      held.add(name);
      try {
        return await f({ name });
      } finally {
        held.delete(name);
      }
    },
  };
  vi.stubGlobal('navigator', Object.create(navigator, { locks: { value: locks } }));
  const a = await start();
  await a.flush();
  a.track('x');
  await settle();
  const release = hold(/\/v1\/collect/);
  const sending = a.flush();
  await settle();
  const b = await start();
  await b.reset();
  const fresh = cookieId();
  release();
  await sending;
  expect(stored()).toMatchObject({ d: fresh });
  expect(stored()!.k).toBeUndefined();
});

test('a device the server holds another token for (restored without its own): unsent events go to a fresh device, not lost', async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  const old = await alice();
  // Cookie and localStorage cleared, IndexedDB kept: the id comes back from its mirror, without its token.
  document.cookie = 'cairn_id=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  localStorage.clear();
  const c = await start();
  expect(cookieId()).toBe(old);
  c.track('after_restore');
  await c.flush();
  const ev = collected().find((e) => e.type === 'after_restore');
  expect(ev).toBeDefined();
  expect(ev.deviceId).not.toBe(old);
  expect(cookieId()).toBe(ev.deviceId);
  expect(srv.links.get(ev.deviceId)).toBeUndefined();
  // Nor does the fresh device show alice's cached profile.
  expect(await c.profile()).toBeNull();
  expect(JSON.stringify(await idbDump())).not.toContain('alice');
});

test('one event the server refuses does not take the rest of its batch down', async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  // As the real server does with props its schema refuses: 400 for the whole batch.
  const inner = srv.fetch;
  vi.stubGlobal('fetch', async (i: RequestInfo | URL, init?: RequestInit) =>
    /\/v1\/collect/.test(String(i)) && String(init?.body).includes('"refused"')
      ? new Response('{"error":"invalid_request","message":"events.1.product"}', { status: 400 })
      : inner(i, init),
  );
  const c = await start();
  c.track('first');
  c.track('bad', { product: 'refused' });
  c.track('last');
  await c.flush();
  expect(
    collected()
      .map((e) => e.type)
      .filter((t) => t !== 'touch')
      .sort(),
  ).toEqual(['first', 'last']);
  await c.flush();
  expect((await idbDump())!.o).toMatchObject({ e: [] });
});

test('denied, then granted again: the identified user and their device do not come back', async () => {
  const old = await alice();
  const c = await start();
  c.consent('denied');
  await settle(10);
  expect(c.touch().current).toBeNull();
  c.consent('granted');
  c.track('after_grant');
  await c.flush();
  const ev = collected().find((e) => e.type === 'after_grant');
  expect(ev.deviceId).not.toBe(old);
  expect(stored()!.u).toBeUndefined();
  expect(await c.profile()).toBeNull();
});

test('a config answered after a denial is not stored', async () => {
  srv.config = { site: 'shop', variants: [] };
  const release = hold(/\/v1\/config/);
  const c = make();
  await c.ready;
  c.consent('denied');
  release();
  await settle(20);
  expect(localStorage.getItem('cairn.cfg')).toBeNull();
});

test('a tab that starts denied while another holds the database open wipes it without leaving a later grant waiting', async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  const a = await start();
  await a.page({ product: 'SKU-A' });
  // Another page, denied from the start: its wipe must not wait for a's connection to close.
  await start({ consent: 'denied' });
  await settle(5);
  expect((await idbDump())!.h).toBeUndefined();
  // A third page starts denied, then the visitor grants: storage opens and works at once.
  const c = make({ consent: 'denied' });
  await c.ready;
  c.consent('granted');
  await c.page();
  expect((await c.history()).pageViews).toHaveLength(1);
});

test('two tabs opened at once on a first visit are one device, with one token', async () => {
  const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
  // Both start before either has opened storage and settled its device id.
  const a = make();
  const b = make();
  await Promise.all([a.ready, b.ready]);
  await Promise.all([a.page({ path: '/a' }), b.page({ path: '/b' })]);
  await a.flush();
  await b.flush();
  const devices = new Set(collected().map((e) => e.deviceId));
  expect(devices.size).toBe(1);
  expect(cookieId()).toBe([...devices][0]);
  expect(stored()).toMatchObject({ d: cookieId() });
  expect(stored()!.n).toBeUndefined();
  expect([...srv.tokens.keys()]).toEqual([cookieId()]);
  expect(warned).not.toHaveBeenCalled();
  // The first visit's touch, where the visitor came from, is that device's.
  expect(collected().find((e) => e.type === 'touch')?.deviceId).toBe(cookieId());
});

test('another tab writing while reset() wipes the old device follows the new one instead of restoring the old', async () => {
  const a = await start();
  const b = await start();
  await a.page({ product: 'SKU-A' });
  await a.identify('alice', 'signed:alice');
  const old = cookieId();
  // Tab b records an event right when a's logout removes the cookie, before the wipe is done.
  const proto = Object.getPrototypeOf(document);
  let owner: object = proto;
  while (!Object.getOwnPropertyDescriptor(owner, 'cookie')) owner = Object.getPrototypeOf(owner);
  const desc = Object.getOwnPropertyDescriptor(owner, 'cookie')!;
  let clicked = false;
  Object.defineProperty(document, 'cookie', {
    configurable: true,
    get: () => desc.get!.call(document),
    set: (v: string) => {
      desc.set!.call(document, v);
      if (!clicked && /^cairn_id=;/.test(v)) (clicked = true), queueMicrotask(() => b.track('click'));
    },
  });
  try {
    await a.reset();
    await settle(10);
  } finally {
    delete (document as { cookie?: string }).cookie;
  }
  expect(clicked).toBe(true);
  expect(cookieId()).not.toBe(old);
  expect(stored()).toMatchObject({ d: cookieId() });
  expect(stored()!.u).toBeUndefined();
  a.track('after_logout');
  b.track('after_logout_b');
  await a.flush();
  await b.flush();
  for (const t of ['after_logout', 'after_logout_b']) {
    const ev = collected().find((e) => e.type === t);
    expect(ev?.deviceId).toBe(cookieId());
    expect(srv.links.get(ev.deviceId)).toBeUndefined();
  }
});

test('a denial in another tab of the site: this tab stops sending and forgets the visitor', async () => {
  const a = await start();
  await a.page();
  await a.flush();
  const sent = srv.requests.length;
  // What another tab's consent('denied') makes the browser deliver here.
  window.dispatchEvent(new StorageEvent('storage', { key: 'cairn.denied', newValue: '1' }));
  await settle(5);
  expect(a.touch().current).toBeNull();
  a.track('after_denial');
  await a.flush();
  await settle(5);
  expect(srv.requests.slice(sent).filter((r) => r.path.startsWith('/v1/collect'))).toEqual([]);
  expect(Object.keys(localStorage).filter((k) => k.startsWith('cairn'))).toEqual([]);
  expect(await idbDump()).toEqual({});
});

test('with cookies blocked, a device renewed after a 401 stays a memory id: nothing settled in storage', () =>
  cookiesBlocked(async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const a = await start();
    await a.page();
    await a.flush();
    // Another tab: a device of its own, whose token it leaves in the shared state.
    const b = await start();
    await b.page();
    await b.flush();
    a.track('from_a');
    await a.flush();
    expect(stored()!.d).toBeUndefined();
    expect(stored()!.n).toBeUndefined();
    expect(collected().some((e) => e.type === 'from_a')).toBe(true);
  }));

test('an identify answered after a denial on that page: the user is not kept, not even for a later grant', async () => {
  const c = await start();
  await c.page();
  await c.flush();
  // The server links the device at once; its answer arrives after the denial (whose logout, with
  // reason 'denied', revokes the device on the server meanwhile).
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const inner = srv.fetch;
  vi.stubGlobal('fetch', async (i: RequestInfo | URL, init?: RequestInit) => {
    const response = await inner(i, init);
    if (/\/v1\/identify/.test(String(i))) await gate;
    return response;
  });
  const answer = c.identify('alice', 'signed:alice');
  await settle(5);
  c.consent('denied');
  release();
  await answer;
  c.consent('granted');
  await settle(10);
  expect(stored()!.u).toBeUndefined();
  expect(await c.profile()).toBeNull();
});

test('an identify answered after another tab logged out: the new device is not marked as the user', async () => {
  const a = await start();
  await a.page();
  await a.flush();
  const release = hold(/\/v1\/identify/);
  const answer = a.identify('alice', 'signed:alice');
  await settle(5);
  await (await start()).reset();
  const fresh = cookieId();
  release();
  // The logout revoked the device on the server: the login, for that device, fails with it.
  await expect(answer).rejects.toMatchObject({ status: 401 });
  await settle(5);
  expect(stored()).toMatchObject({ d: fresh });
  expect(stored()!.u).toBeUndefined();
  expect(stored()!.k).toBeUndefined();
});

test('a logout on a page where consent is pending forgets the stored identity too: a grant does not bring it back', async () => {
  const old = await alice();
  const c = await start({ consent: 'pending' });
  await c.reset();
  c.consent('granted');
  await settle(10);
  expect(stored()!.u).toBeUndefined();
  expect(cookieId()).not.toBe(old);
});
