// Store.reportRows on SQLite and PostgreSQL: the rows the reports are computed from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CairnEvent } from '@cairn/schema';
import type { Store } from '../src/store/types.js';
import { makeStores, type TestDb } from './helpers/db.js';

let seq = 0;
const eid = () => `sr-${(++seq).toString().padStart(8, '0')}`;
const ev = (type: string, at: number, props: Record<string, unknown> = {}) =>
  ({ id: eid(), type, at, ...props }) as CairnEvent;
const touch = { channel: 'Email', source: 'newsletter', medium: 'email', landingPath: '/', at: 1 };

describe.each(makeStores())('reportRows on $name', (db: TestDb) => {
  let store: Store;
  beforeAll(async () => {
    store = await db.open();
  });
  afterAll(() => db.cleanup());

  it('returns the range’s events in time order, with bodies only for the types reports read', async () => {
    const site = 'rr-events';
    const e = {
      before: ev('page', 999, { path: '/a' }),
      page: ev('page', 1000, { path: '/secret-path', device: 'mobile' }),
      touch: ev('touch', 1001, { touch }),
      buy: ev('purchase', 1002, { orderId: 'o-1', value: 12.5, currency: 'EUR', items: [{ sku: 'a', qty: 2 }] }),
      optinEvent: ev('optin', 1003, { prompt: 'p', email: 'someone@example.com' }),
      shown: ev('prompt_shown', 1004, { prompt: 'p', device: 'desktop' }),
      applied: ev('variant_applied', 1005, { variant: 'v1', slots: ['hero'] }),
      cart: ev('add_to_cart', 1006, { sku: 'a', value: 3, currency: 'EUR' }),
      atEnd: ev('page', 2000),
    };
    // Stored out of order, on two devices.
    await store.ingest(site, 'dev-one-0001', [e.atEnd, e.buy, e.page, e.before], 'h', 'mobile');
    await store.ingest(site, 'dev-two-0002', [e.shown, e.touch, e.optinEvent, e.applied, e.cart], 'h');
    await store.ingest(
      'rr-other-site',
      'dev-one-0001',
      [ev('purchase', 1500, { orderId: 'x', value: 1, currency: 'EUR' })],
      'h',
    );

    const rows = await store.reportRows(site, 1000, 2000);
    expect(rows.events).toEqual([
      { id: e.page.id, deviceId: 'dev-one-0001', type: 'page', at: 1000, device: 'mobile', props: {} },
      { id: e.touch.id, deviceId: 'dev-two-0002', type: 'touch', at: 1001, device: null, props: { touch } },
      {
        id: e.buy.id,
        deviceId: 'dev-one-0001',
        type: 'purchase',
        at: 1002,
        device: null,
        props: { orderId: 'o-1', value: 12.5, currency: 'EUR', items: [{ sku: 'a', qty: 2 }] },
      },
      // An opt-in event carries the address: reports never read it.
      { id: e.optinEvent.id, deviceId: 'dev-two-0002', type: 'optin', at: 1003, device: null, props: {} },
      {
        id: e.shown.id,
        deviceId: 'dev-two-0002',
        type: 'prompt_shown',
        at: 1004,
        device: 'desktop',
        props: { prompt: 'p', device: 'desktop' },
      },
      {
        id: e.applied.id,
        deviceId: 'dev-two-0002',
        type: 'variant_applied',
        at: 1005,
        device: null,
        props: { variant: 'v1', slots: ['hero'] },
      },
      {
        id: e.cart.id,
        deviceId: 'dev-two-0002',
        type: 'add_to_cart',
        at: 1006,
        device: null,
        props: { sku: 'a', value: 3, currency: 'EUR' },
      },
    ]);
    expect(rows.devices).toEqual([
      { deviceId: 'dev-one-0001', kind: 'mobile', userId: null, linkedAt: null },
      { deviceId: 'dev-two-0002', kind: null, userId: null, linkedAt: null },
    ]);
    expect(rows.optins).toEqual([]);
  });

  it('lists the devices of the range’s events and opt-ins with their user and when they were linked', async () => {
    const site = 'rr-people';
    await store.ingest(site, 'laptop-0001', [ev('page', 5000)], 'h', 'desktop');
    await store.ingest(site, 'phone-00002', [ev('page', 100)], 'h', 'mobile');
    await store.ingest(site, 'tablet-0003', [ev('page', 100)], 'h');
    await store.ingest(site, 'outside-004', [ev('page', 9000)], 'h');
    await store.link(site, 'laptop-0001', 'u-1', 7000);
    await store.link(site, 'phone-00002', 'u-1', 6000);
    await store.link(site, 'phone-00002', 'u-1', 8000); // 'already': the first link time stays
    await store.link(site, 'phone-00002', 'u-2', 8500); // 'conflict': recorded for audit, not a link
    // The phone has no event in the range, only an opt-in.
    await store.addOptin({
      id: eid(),
      site,
      deviceId: 'phone-00002',
      email: 'a@example.com',
      consentText: 'ok',
      at: 5500,
      promptId: 'welcome',
    });
    await store.addOptin({
      id: eid(),
      site,
      deviceId: 'tablet-0003',
      email: 'b@example.com',
      consentText: 'ok',
      at: 200,
    });

    const rows = await store.reportRows(site, 1000, 9000);
    expect(rows.devices).toEqual([
      { deviceId: 'laptop-0001', kind: 'desktop', userId: 'u-1', linkedAt: 7000 },
      { deviceId: 'phone-00002', kind: 'mobile', userId: 'u-1', linkedAt: 6000 },
    ]);
    expect(rows.optins).toEqual([{ id: expect.any(String), deviceId: 'phone-00002', at: 5500, promptId: 'welcome' }]);
    expect(rows.events.map((e) => e.deviceId)).toEqual(['laptop-0001']);

    // A deleted user's devices stay, anonymous, and their events are gone.
    await store.deleteUser(site, 'u-1');
    const after = await store.reportRows(site, 0, 10_000);
    expect(after.devices).toEqual([
      { deviceId: 'outside-004', kind: null, userId: null, linkedAt: null },
      { deviceId: 'tablet-0003', kind: null, userId: null, linkedAt: null },
    ]);
  });

  it('returns nothing for a site or a range without data', async () => {
    expect(await store.reportRows('rr-nobody', 0, Number.MAX_SAFE_INTEGER)).toEqual({
      devices: [],
      events: [],
      optins: [],
      orderClaims: [],
      orderConfirmations: [],
    });
  });
});
