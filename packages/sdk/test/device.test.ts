// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { beforeEach, expect, test } from 'vitest';
import { createDevice, type DeviceOptions } from '../src/core/device';
import { readState, writeState } from '../src/state/device-state';
import type { IdCookie } from '../src/storage/device-id';
import { createKv } from '../src/storage/kv';
import { freshDevice, idbDump, settle } from './core-helpers';

// The device and its state across tabs, on its own: a cookie jar the tests hold, real storage.

/** A cookie jar for the id (and, with a cookie domain, the token); `blocked` drops every write. */
function jar(blocked = false) {
  const c: IdCookie & { id?: string; tk?: string } = {
    get: () => c.id,
    token: () => c.tk,
    set: (id, token) => (blocked ? false : ((c.id = id), (c.tk = token), true)),
    remove: () => void (c.id = c.tk = undefined),
    _refuse: () => {},
  };
  return c;
}

async function make(o: Partial<DeviceOptions> = {}) {
  const storage = createKv(window);
  await storage.grant();
  let moved = 0;
  const device = createDevice({
    _state: {},
    _granted: () => true,
    _cookie: jar(),
    _kv: storage.kv,
    _moved: () => moved++,
    ...o,
  });
  return { device, kv: storage.kv, moved: () => moved };
}

beforeEach(freshDevice);

test('a first visit makes a device id and its own token, unsettled until the cookie sticks', async () => {
  const cookie = jar();
  const { device } = await make({ _cookie: cookie });
  expect(device._id).toMatch(/^[0-9a-f-]{36}$/);
  expect(device._state).toMatchObject({ _newDeviceId: device._id, _token: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  device._save();
  expect(readState()).toMatchObject({ _newDeviceId: device._id });
  device._keepId();
  expect(cookie.id).toBe(device._id);
  expect(readState()).toMatchObject({ _deviceId: device._id, _newDeviceId: undefined });
  await settle();
  expect((await idbDump())!.id).toBe(device._id);
});

test('cookies blocked: the id stays in memory; nothing settles, nothing is mirrored', async () => {
  const { device } = await make({ _cookie: jar(true) });
  device._save();
  device._keepId();
  await settle();
  expect(readState()?._deviceId).toBeUndefined();
  expect(readState()?._newDeviceId).toBeUndefined();
  expect(device._id).toMatch(/^[0-9a-f-]{36}$/);
  expect(await idbDump()).toEqual({});
});

test('another tab moved to a new device: the next load follows it, and says so', async () => {
  const { device, moved } = await make();
  device._save();
  device._keepId();
  writeState({ _newDeviceId: 'other-tab-device', _token: 'other-token' });
  device._load();
  expect(device._id).toBe('other-tab-device');
  expect(device._state._token).toBe('other-token');
  expect(moved()).toBe(1);
});

test('every change is made on top of the latest stored state: no tab write is lost', async () => {
  const { device } = await make();
  device._save();
  // Another tab's write, after this tab last read.
  writeState({ ...readState()!, _variant: 'from-another-tab' });
  device._update((state) => (state._userId = 'ann'));
  expect(readState()).toMatchObject({ _variant: 'from-another-tab', _userId: 'ann' });
});

test('the cookie wins over a stale device in storage, without its token or user', async () => {
  writeState({ _deviceId: 'stale', _token: 'stale-token', _userId: 'bob' });
  const cookie = jar();
  cookie.id = 'cookie-device';
  const { device } = await make({ _cookie: cookie, _state: readState()! });
  expect(device._id).toBe('cookie-device');
  expect(device._state).toMatchObject({ _deviceId: 'cookie-device', _token: undefined, _userId: undefined });
});

test('with a cookie domain, a device another subdomain moved to wipes what this origin held of the old one', async () => {
  const cookie = jar();
  cookie.id = 'old-device';
  const first = await make({
    _cookie: cookie,
    _cookieDomain: '.shop.test',
    _state: { _deviceId: 'old-device', _token: 'old-token' },
  });
  first.device._save();
  await first.kv.set('h', { v: 1, s: [], p: [{ id: 'p' }], t: [], n: 1 });
  await first.kv.set('pf', { userId: 'ann' });
  // A logout on another subdomain: the shared cookie names a new device, with its token.
  cookie.id = 'new-device';
  cookie.tk = 'new-token';
  first.device._load();
  await settle();
  expect(first.device._id).toBe('new-device');
  expect(first.device._state).toMatchObject({ _deviceId: 'new-device', _token: 'new-token', _userId: undefined });
  expect(await first.kv.get('h')).toBeUndefined();
  expect(await first.kv.get('pf')).toBeUndefined();
});

test('renew: a fresh anonymous device, stored first, its old profile dropped', async () => {
  const { device, kv } = await make({ _state: { _deviceId: 'linked', _token: 't', _tokenKnown: 1, _userId: 'ann' } });
  await kv.set('pf', { userId: 'ann' });
  device._renew();
  await settle();
  expect(device._id).not.toBe('linked');
  expect(readState()).toMatchObject({ _deviceId: device._id, _userId: undefined, _tokenKnown: undefined });
  expect(await kv.get('pf')).toBeUndefined();
});
