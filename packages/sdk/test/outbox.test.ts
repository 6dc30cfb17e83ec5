// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { beforeEach, expect, test, vi } from 'vitest';
import type { Device } from '../src/core/device';
import { createOutbox, OUTBOX_CAP } from '../src/core/outbox';
import type { Transport } from '../src/core/transport';
import { CairnError } from '../src/errors';
import { createKv } from '../src/storage/kv';
import type { CairnEvent } from '../src/types';
import { freshDevice } from './core-helpers';

// The outbox on its own: a real Kv, a device and a transport that the tests script.

const event = (n: number): CairnEvent => ({ id: 'e' + n, type: 'clicked', at: n, n });

/** A device that only counts renewals; ids change as a renewal would. */
function fakeDevice(): Device & { renewals: number } {
  const device = {
    _state: { _token: 'token-a' },
    _id: 'device-a',
    renewals: 0,
    _load() {},
    _save() {},
    _update(change: (s: Device['_state']) => unknown) {
      change(device._state);
    },
    _follow() {},
    _create: () => 'x',
    _keepId() {},
    _renew() {
      device.renewals++;
      device._id = 'device-' + device.renewals;
    },
  };
  return device as Device & { renewals: number };
}

/** A transport answering each collect with the next scripted status (202 once the script runs out). */
function fakeTransport(statuses: number[] = []) {
  const sent: { deviceId: string; ids: string[] }[] = [];
  const transport: Transport & { sent: typeof sent } = {
    sent,
    _usable: () => true,
    _url: (path) => 'https://sync.test/v1/' + path + '?site=shop',
    _send: () => Promise.reject(new Error('unused')),
    _forget: () => {},
    async _request<T>(_path: string, body?: object | 0) {
      const b = body as { deviceId: string; events: CairnEvent[] };
      sent.push({ deviceId: b.deviceId, ids: b.events.map((e) => e.id) });
      const status = statuses.shift() ?? 202;
      if (status > 299)
        throw new CairnError(status === 401 ? 'unauthorized' : 'http', status, new Response(null, { status }));
      return { accepted: b.events.length, duplicates: 0 } as T;
    },
  };
  return transport;
}

async function setup(statuses?: number[]) {
  const storage = createKv(window);
  await storage.grant();
  const device = fakeDevice();
  const transport = fakeTransport(statuses);
  const outbox = createOutbox('shop', storage.kv, device, transport);
  return { kv: storage.kv, device, transport, outbox };
}

beforeEach(() => {
  freshDevice();
  vi.useRealTimers();
});

test('events are stored, deduped by id, and sent in batches of 20; what was acknowledged leaves', async () => {
  const { kv, transport, outbox } = await setup();
  const events = Array.from({ length: 25 }, (_, i) => event(i));
  await outbox._add(events);
  // The same event again (spilled, then stored): once.
  expect(await outbox._add([events[3]!])).toBe(25);
  await outbox._flush();
  expect(transport.sent.map((s) => s.ids.length)).toEqual([20, 5]);
  expect(transport.sent.flatMap((s) => s.ids)).toEqual(events.map((e) => e.id));
  expect(transport.sent[0]!.deviceId).toBe('device-a');
  expect(await kv.get('o')).toEqual({ e: [], d: 0 });
  expect(outbox._unsent).toEqual([]);
});

test(`past ${OUTBOX_CAP} events the oldest are dropped, and counted`, async () => {
  const { kv, outbox } = await setup();
  await outbox._add(Array.from({ length: OUTBOX_CAP + 7 }, (_, i) => event(i)));
  const stored = (await kv.get<{ e: CairnEvent[]; d: number }>('o'))!;
  expect(stored.e).toHaveLength(OUTBOX_CAP);
  expect(stored.d).toBe(7);
  expect(stored.e[0]!.id).toBe('e7');
});

test('a 5xx backs off: nothing more is sent until the backoff ends, and the events stay', async () => {
  const now = vi.spyOn(Date, 'now').mockReturnValue(1e12);
  const { kv, transport, outbox } = await setup([503]);
  await outbox._add([event(1)]);
  await outbox._flush();
  await outbox._flush();
  expect(transport.sent).toHaveLength(1);
  expect((await kv.get<{ e: CairnEvent[] }>('o'))!.e).toHaveLength(1);
  now.mockReturnValue(1e12 + 61e3);
  await outbox._flush();
  expect(transport.sent).toHaveLength(2);
  expect(await kv.get('o')).toEqual({ e: [], d: 0 });
});

test('a 401 renews the device once and sends what is unsent as the fresh one', async () => {
  const { device, transport, outbox } = await setup([401]);
  await outbox._add([event(1), event(2)]);
  await outbox._flush();
  expect(device.renewals).toBe(1);
  expect(transport.sent.map((s) => s.deviceId)).toEqual(['device-a', 'device-1']);
  expect(transport.sent[1]!.ids).toEqual(['e1', 'e2']);
});

test('a batch refused with 400 is retried one event at a time, so one bad event takes only itself down', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const { kv, transport, outbox } = await setup([400, 202, 400, 202]);
  await outbox._add([event(1), event(2), event(3)]);
  await outbox._flush();
  expect(transport.sent.map((s) => s.ids)).toEqual([['e1', 'e2', 'e3'], ['e1'], ['e2'], ['e3']]);
  expect(await kv.get('o')).toEqual({ e: [], d: 0 });
  expect(warn).toHaveBeenCalled();
});

test('page hide: unsent events go by beacon, with the device token in the body, once; unstored ones are spilled', async () => {
  const beacons: string[] = [];
  vi.spyOn(navigator, 'sendBeacon').mockImplementation((_url, body) => (beacons.push(String(body)), true));
  const { outbox } = await setup();
  const write = outbox._add([event(1)]);
  // The write has not completed yet: the event is spilled as well as beaconed.
  outbox._pageHide();
  outbox._pageHide();
  await write;
  expect(beacons).toHaveLength(1);
  expect(JSON.parse(beacons[0]!)).toEqual({
    site: 'shop',
    deviceId: 'device-a',
    deviceToken: 'token-a',
    events: [event(1)],
  });
  expect(JSON.parse(localStorage.getItem('cairn.spill')!)).toEqual({ d: 'device-a', e: [event(1)] });
});

test('page hide after the write completed spills nothing', async () => {
  vi.spyOn(navigator, 'sendBeacon').mockImplementation(() => true);
  const { outbox } = await setup();
  await outbox._add([event(1)]);
  outbox._pageHide();
  expect(localStorage.getItem('cairn.spill')).toBeNull();
});
