import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteConfigSchema, type CairnEvent } from '@cairn/schema';
import { signClaims, signIdentity } from '../src/identity/identity-token.js';
import { signOrder, verifyOrder } from '../src/identity/order-token.js';
import { makeStores, type TestDb } from './helpers/db.js';
import { admin, bearer, harness, SECRET, type Harness } from './helpers/http.js';
import { type ChannelsBody, type Device, newDevice, purchase, touchEvent } from './helpers/orders.js';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2026, 1, 10, 12);
const NOW = T0 + 3 * H;

const order = (over: Partial<Parameters<typeof signOrder>[0]> = {}) =>
  signOrder({ secret: SECRET, site: 'shop', orderId: 'A-1', value: 250, currency: 'EUR', now: NOW, ...over });

describe('order tokens', () => {
  it('carry the order as the backend signed it, and only for that site, secret and time', () => {
    const token = order({ currency: 'eur', deviceId: 'device-0001', ttlSeconds: 60 });
    expect(verifyOrder(token, { secret: SECRET, site: 'shop', now: NOW })).toEqual({
      ok: true,
      claims: { site: 'shop', order: 'A-1', value: 250, currency: 'EUR', exp: NOW / 1000 + 60, device: 'device-0001' },
    });
    expect(verifyOrder(token, { secret: 'another-secret', site: 'shop', now: NOW })).toMatchObject({
      ok: false,
      reason: 'signature',
    });
    expect(verifyOrder(token, { secret: SECRET, site: 'other', now: NOW })).toMatchObject({ reason: 'wrong_site' });
    expect(verifyOrder(token, { secret: SECRET, site: 'shop', now: NOW + 60_000 })).toMatchObject({
      reason: 'expired',
    });
    // The same secret signs logins: a login token is not an order token.
    const login = signIdentity({ userId: 'alice', secret: SECRET, site: 'shop', now: NOW });
    expect(verifyOrder(login, { secret: SECRET, site: 'shop', now: NOW })).toMatchObject({
      reason: 'malformed',
      detail: '"order" must be a non-empty string',
    });
    const [payload, sig] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ site: 'shop', order: 'A-1', value: 1, currency: 'EUR', exp: 2e9 })).toString('base64url')}.${sig}`;
    expect(verifyOrder(forged, { secret: SECRET, site: 'shop', now: NOW })).toMatchObject({ reason: 'signature' });
    expect(payload).toBeTruthy();
  });

  it('refuse to sign what the server would refuse', () => {
    expect(() => order({ value: -1 })).toThrow(/value/);
    expect(() => order({ value: Number.NaN })).toThrow(/value/);
    expect(() => order({ currency: 'euro' })).toThrow(/currency/);
    expect(() => order({ orderId: ' A-1' })).toThrow(/orderId/);
    expect(() => order({ orderId: '' })).toThrow(/orderId/);
    expect(() => order({ deviceId: 'no' })).toThrow(/deviceId/);
    expect(() => order({ secret: '' })).toThrow(/secret/);
  });
});

describe.each(makeStores())('order confirmation on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db, { now: () => NOW });
  });
  afterAll(() => db.cleanup());

  const confirm = (site: string, token: unknown) => h.req('POST', '/v1/orders/confirm', { body: { site, token } });
  const collect = async (site: string, d: Device, events: CairnEvent[]) => {
    const r = await h.req('POST', '/v1/collect', { body: { site, deviceId: d.id, events }, headers: bearer(d.token) });
    expect(r.status).toBe(202);
  };
  const report = async (site: string): Promise<ChannelsBody> => {
    const r = await h.req('GET', `/v1/reports/channels?site=${site}&from=${T0 - D}&to=${T0 + D}&model=last`, {
      headers: admin,
    });
    expect(r.status).toBe(200);
    return (await r.json()) as ChannelsBody;
  };
  const requireConfirmation = async (site: string, on: boolean) => {
    const config = siteConfigSchema.parse({ site, ...(on ? { orders: { confirmation: 'required' } } : {}) });
    expect(await h.store.putConfig(site, config)).not.toBe('conflict');
  };

  it('confirms an order once: the same confirmation again is a no-op, a different one is refused', async () => {
    const site = 'shop';
    const first = await confirm(site, order({ orderId: 'K-1', currency: 'eur' }));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ orderId: 'K-1', status: 'confirmed' });
    // A retry, or the same order signed again later: nothing changes.
    for (const token of [order({ orderId: 'K-1' }), order({ orderId: 'K-1', ttlSeconds: 3000 })]) {
      const again = await confirm(site, token);
      expect([again.status, await again.json()]).toEqual([200, { orderId: 'K-1', status: 'already' }]);
    }
    const before = await h.snapshot();
    const changed = await confirm(site, order({ orderId: 'K-1', value: 1 }));
    expect(changed.status).toBe(409);
    expect(await changed.json()).toMatchObject({ error: 'order_confirmed', field: 'token' });
    expect(await h.snapshot()).toEqual(before);
    expect(before.order_confirmations).toEqual([
      expect.objectContaining({ site, order_id: 'K-1', value: 250, currency: 'EUR', device_id: null }),
    ]);
  });

  it('refuses a forged, expired, wrong-site or login token with a 401 naming the token, and stores nothing', async () => {
    const before = await h.snapshot();
    const login = signIdentity({ userId: 'alice', secret: SECRET, site: 'shop', now: NOW });
    for (const token of [
      order({ secret: 'not-the-sites-secret-0123456789abcdef' }),
      order({ now: NOW - 700_000 }),
      order({ site: 'elsewhere' }),
      login,
      'not.a-token',
    ]) {
      const r = await confirm('shop', token);
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ error: 'invalid_order_token', field: 'token' });
    }
    for (const [body, field] of [
      [{ site: 'shop' }, 'token'],
      [{ site: 'shop', token: 12 }, 'token'],
      [{ site: '../x', token: order() }, 'site'],
    ] as const) {
      const r = await h.req('POST', '/v1/orders/confirm', { body });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ field });
    }
    expect(await h.snapshot()).toEqual(before);
  });

  it('refuses a signed order id PostgreSQL cannot store, and a value past any real order, storing nothing', async () => {
    const before = await h.snapshot();
    const claims = { site: 'shop', order: 'N-1', value: 250, currency: 'EUR', exp: NOW / 1000 + 60 };
    for (const over of [{ order: 'N-1\u0000' }, { order: 'N-\ud800' }, { value: 1.7e308 }, { value: 1e13 }]) {
      const r = await confirm('shop', signClaims({ ...claims, ...over }, SECRET));
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ error: 'invalid_order_token', field: 'token' });
    }
    expect(await h.snapshot()).toEqual(before);
    expect(() => order({ value: 1e13 })).toThrow(TypeError);
  });

  it('with confirmation required, counts confirmed orders only, at the confirmed value, for the device named', async () => {
    const site = 'confirmed-shop';
    const customer = newDevice();
    const attacker = newDevice();
    const emailReader = newDevice();
    // The attacker claims a guessable order id before it exists.
    await collect(site, attacker, [touchEvent(T0 - 2 * H, 'evil.example', 'Referral'), purchase(T0 - H, 'C-1', 0)]);
    await collect(site, customer, [
      touchEvent(T0, 'google', 'Paid Search'),
      purchase(T0 + 1, 'A-1', 9999), // the browser's number: the backend's wins
      purchase(T0 + 2, 'B-1', 80), // never confirmed
      purchase(T0 + 3, 'C-1', 300),
      purchase(T0 + 4, undefined, 5), // no order id: cannot be confirmed
    ]);
    // A phone order the browser never reported: the backend names the device of the visit.
    await collect(site, emailReader, [touchEvent(T0 + H, 'newsletter', 'Email')]);
    for (const token of [
      order({ site, orderId: 'A-1', value: 250, deviceId: customer.id }),
      order({ site, orderId: 'C-1', value: 300, deviceId: customer.id }),
      order({ site, orderId: 'D-1', value: 40, deviceId: emailReader.id }),
    ])
      expect((await confirm(site, token)).status).toBe(200);

    await requireConfirmation(site, true);
    const required = await report(site);
    expect([required.totals.orders, required.totals.revenue, required.totals.purchasers]).toEqual([3, 590, 2]);
    expect(required.channels.map((c) => [c.channel, c.orders, c.revenue])).toEqual([
      ['Paid Search', 2, 550],
      ['Email', 1, 40],
      ['Referral', 0, 0],
    ]);
    expect(required.orderChecks).toEqual({ confirmationRequired: true, conflictingClaims: 1, unconfirmed: 2 });

    // Off: every order counts again; the confirmed ones still at the backend's value and for its device.
    await requireConfirmation(site, false);
    const off = await report(site);
    expect([off.totals.orders, off.totals.revenue]).toEqual([5, 675]);
    expect(off.channels.find((c) => c.channel === 'Referral')).toMatchObject({ orders: 0, revenue: 0 });
    expect(off.orderChecks).toEqual({ confirmationRequired: false, conflictingClaims: 1, unconfirmed: 0 });
  });

  it('refuses every confirmation when the site has no identity secret', async () => {
    const bare = await harness(db, { identitySecret: undefined, now: () => NOW });
    const r = await bare.req('POST', '/v1/orders/confirm', { body: { site: 'shop', token: order() } });
    expect(r.status).toBe(401);
  });
});
