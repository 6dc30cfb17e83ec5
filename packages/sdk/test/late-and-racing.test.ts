// @vitest-environment happy-dom
// biome-ignore-all lint/suspicious/noExplicitAny: beacon bodies and stubbed globals are read loosely, as the page sees them
// Races and late answers around the core: another tab's denial before the core runs, a profile
// arriving after a logout, consent granted in the same task as held updates, an aborted transaction.
import 'fake-indexeddb/auto';
import { beforeEach, expect, test, vi } from 'vitest';
import { createCairn } from '../src/cairn';
import { readState, writeState } from '../src/state/device-state';
import { createKv } from '../src/storage/kv';
import { fakeServer, freshDevice, idbDump, settle, type FakeServer } from './core-helpers';

let srv: FakeServer;
beforeEach(() => {
  freshDevice();
  history.replaceState(null, '', '/');
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
});
const O = { site: 'shop', server: 'http://sync.test' };

test('cookie domain: what this origin spilled for user A is never sent under the new device', async () => {
  writeState({ _deviceId: 'device-alice-0001', _userId: 'alice', _sessionId: 's1', _lastActivity: Date.now() });
  localStorage.setItem(
    'cairn.spill',
    JSON.stringify([{ id: 'alice-evt', type: 'viewed_order', at: Date.now() - 1000 }]),
  );
  document.cookie = 'cairn_id=device-new-00000001; path=/';
  const c = createCairn({ ...O, cookieDomain: 'localhost' });
  await c.ready;
  await settle(10);
  await c.flush();
  expect(srv.events.get('alice-evt')?.deviceId).not.toBe('device-new-00000001');
});

test('a profile whose body arrives after a logout is dropped', async () => {
  const first = createCairn(O);
  await first.ready;
  await first.identify('alice', 'signed:alice');
  await settle(10);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const r = await srv.fetch(input, init);
    if (!String(input).includes('/v1/profile') || r.status !== 200) return r;
    return { ok: true, status: 200, headers: r.headers, json: () => gate.then(() => r.json()) } as unknown as Response;
  });
  // The next page: pulls alice's profile at start; the visitor logs out meanwhile.
  const c = createCairn(O);
  await c.ready;
  await settle(5);
  await c.reset();
  release();
  await settle(20);
  const dump = await idbDump();
  expect(dump?.pf).toBeUndefined();
  expect(await c.profile()).toBeNull();
});

test('a denial in another tab between this tab’s head and core: the core writes nothing back', async () => {
  const { startHead } = await import('../src/head/start-head');
  const { startCore } = await import('../src/core/start-core');
  const { promptUi } = await import('../src/prompts');
  const other = createCairn(O);
  await other.ready;
  await settle(10);
  const deviceBefore = readState()?._deviceId;
  expect(deviceBefore).toBeTruthy();
  // This tab: head ran (consent granted), the core not yet.
  const head = startHead(O);
  // Another tab denies: it wipes everything.
  other.consent('denied');
  await settle(20);
  expect(readState()).toBeUndefined();
  // This tab's core takes over after first paint.
  const c = startCore(head, promptUi);
  await c.ready;
  await settle(10);
  expect(readState()?._deviceId).toBeUndefined();
});

test('consent granted in the same task as pending updates applies them once', async () => {
  history.replaceState(null, '', '/?utm_source=news&utm_medium=email&utm_campaign=spring');
  const c = createCairn({ ...O, consent: 'pending' });
  c.page();
  c.consent('granted');
  await c.ready;
  await settle(20);
  const h = await c.history();
  expect({ touches: h.touches.length, pages: h.sessions[0]?.pages }).toEqual({ touches: 1, pages: 1 });
});

test('Kv: an update whose transaction aborts rejects', async () => {
  const storage = createKv(window);
  await storage.grant();
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...a: Parameters<IDBObjectStore['put']>) {
    const r = put.apply(this, a);
    this.transaction.abort(); // as a QuotaExceededError at commit would
    return r;
  };
  let outcome = 'pending';
  try {
    await storage.kv
      .update('o', () => ({ e: [{ id: 'x' }] }))
      .then(
        () => (outcome = 'resolved'),
        () => (outcome = 'rejected'),
      );
  } finally {
    IDBObjectStore.prototype.put = put;
  }
  expect(await storage.kv.get('o')).toBeUndefined();
  expect(outcome).toBe('rejected');
});
