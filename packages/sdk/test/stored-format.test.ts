// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { createCairn, type Cairn } from '../src/cairn';
import { addToOutbox, readOutbox, writeOutbox } from '../src/core/outbox';
import { addPage, addTouch } from '../src/history/history';
import { readState, writeState, type DeviceState } from '../src/state/device-state';
import type { Touch } from '../src/types';
import { fakeServer, freshDevice, idbDump, settle } from './core-helpers';

// What a visitor's browser holds is a format of its own: fixed, versioned, and the same whatever
// the source calls things. These tests pin it, so that a rename in the source (or the minifier's
// property names) can never change it. Change them only with a migration.

const touch: Touch = { source: 'pinterest', medium: 'social', channel: 'Organic Social', landingPath: '/', at: 1 };
/** The sync state as stored under localStorage `cairn`, every field set, in the order written. */
const STORED_STATE = {
  v: 1,
  d: 'device-0001',
  n: 'device-0002',
  f: touch,
  l: touch,
  c: touch,
  s: 'session-1',
  a: 1700000000000,
  x: 'variant-1',
  t: 'token-00000000000000000000000000000001',
  k: 1,
  u: 'ann',
  g: 1,
  h: { 'variant-1': false, 'prompt:optin-1': true },
  r: { tier: 'vip', orders: 3, lapsed: false },
};

const open: Cairn[] = [];
beforeEach(() => {
  freshDevice();
  history.replaceState(null, '', '/');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.ready));
  await settle();
});

// `r`, the identified person's CRM traits that the config names, came in v: 1 as an optional key:
// a state without it reads as before, and an older SDK ignores it.
test('the sync state: one-letter keys, v: 1, read to full names and written back identically', () => {
  localStorage.setItem('cairn', JSON.stringify(STORED_STATE));
  const state = readState()!;
  expect(state).toEqual({
    _deviceId: 'device-0001',
    _newDeviceId: 'device-0002',
    _firstTouch: touch,
    _lastTouch: touch,
    _sessionTouch: touch,
    _sessionId: 'session-1',
    _lastActivity: 1700000000000,
    _variant: 'variant-1',
    _token: 'token-00000000000000000000000000000001',
    _tokenKnown: 1,
    _userId: 'ann',
    _granted: 1,
    _arms: { 'variant-1': false, 'prompt:optin-1': true },
    _traits: { tier: 'vip', orders: 3, lapsed: false },
  } satisfies DeviceState);
  localStorage.clear();
  writeState(state);
  expect(localStorage.getItem('cairn')).toBe(JSON.stringify(STORED_STATE));
  // "No variant" (null) is kept apart from "not decided" (absent).
  writeState({ _variant: null });
  expect(localStorage.getItem('cairn')).toBe('{"v":1,"x":null}');
  // Another version, or garbage, is no state.
  localStorage.setItem('cairn', JSON.stringify({ ...STORED_STATE, v: 2 }));
  expect(readState()).toBeUndefined();
  localStorage.setItem('cairn', '{broken');
  expect(readState()).toBeUndefined();
});

test('the outbox: { e: events, d: dropped }', () => {
  const event = { id: 'e1', type: 'page', at: 1 };
  expect(writeOutbox(readOutbox({ e: [event], d: 3 }))).toEqual({ e: [event], d: 3 });
  expect(addToOutbox(undefined, [event, event])).toEqual({ e: [event], d: 0 });
  expect(readOutbox('garbage')).toEqual({ _events: [], _dropped: 0 });
});

test('the history: { v: 1, s: sessions, p: page views, t: touches, n: count }', () => {
  const view = { id: 'p1', path: '/', title: 'Home', at: 5, session: 's1' };
  const h = addPage(addTouch(undefined, touch), view, touch);
  expect(h).toEqual({ v: 1, s: [{ id: 's1', start: 5, last: 5, pages: 1, touch }], p: [view], t: [touch], n: 1 });
});

test('a whole visit stores exactly these keys, in these shapes', async () => {
  const srv = fakeServer();
  srv.config = { site: 'shop', prompts: [] };
  vi.stubGlobal('fetch', srv.fetch);
  history.replaceState(null, '', '/?utm_source=pinterest&utm_medium=social');
  const c = createCairn({ site: 'shop', server: 'http://sync.test', config: { site: 'shop', prompts: [] } });
  open.push(c);
  await c.ready;
  await c.page({ product: 'SKU-1' });
  await c.identify('ann', 'signed:ann');
  await c.flush();
  const again = createCairn({ site: 'shop', server: 'http://sync.test' });
  open.push(again);
  await again.profile();
  await settle(20);

  expect(Object.keys(localStorage).sort()).toEqual(['cairn', 'cairn.cfg']);
  expect(Object.keys(JSON.parse(localStorage.getItem('cairn')!)).sort()).toEqual([
    'a',
    'c',
    'd',
    'f',
    'k',
    'l',
    's',
    't',
    'u',
    'v',
    'x',
  ]);
  expect(JSON.parse(localStorage.getItem('cairn.cfg')!)).toEqual({ s: 'shop', c: { site: 'shop', prompts: [] } });
  const kv = (await idbDump())!;
  expect(Object.keys(kv).sort()).toEqual(['h', 'id', 'o', 'pe', 'pf']);
  expect(Object.keys(kv.h as object).sort()).toEqual(['n', 'p', 's', 't', 'v']);
  expect(kv.o).toEqual({ e: [], d: 0 });
  expect(kv.id).toBe(/(?:^|; )cairn_id=([^;]+)/.exec(document.cookie)?.[1]);
  expect(kv.pf).toMatchObject({ userId: 'ann' });
  expect(kv.pe).toMatch(/^".+"$/);
});
