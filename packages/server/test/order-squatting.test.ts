import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CairnEvent } from '@cairn/schema';
import { channelReport, experimentsReport, people, purchases } from '../src/reports/index.js';
import { orderIdOf } from '../src/store/order-id.js';
import type { Store } from '../src/store/types.js';
import { atSchemaVersion, makeStores, postgresDb, sqliteDb, type TestDb } from './helpers/db.js';
import { admin, bearer, harness, type Harness } from './helpers/http.js';
import { type ChannelsBody, type Device, newDevice, purchase, touchEvent } from './helpers/orders.js';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2026, 0, 15, 12);
let sites = 0;

describe.each(makeStores())('order squatting on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
  });
  afterAll(() => db.cleanup());

  const collect = async (site: string, d: Device, events: CairnEvent[]) => {
    const r = await h.req('POST', '/v1/collect', {
      body: { site, deviceId: d.id, events },
      headers: bearer(d.token),
    });
    expect(r.status).toBe(202);
  };
  const report = async (site: string, model = 'last'): Promise<ChannelsBody> => {
    const r = await h.req(
      'GET',
      `/v1/reports/channels?site=${site}&from=${T0 - 2 * D}&to=${T0 + 2 * D}&model=${model}`,
      { headers: admin },
    );
    expect(r.status).toBe(200);
    return (await r.json()) as ChannelsBody;
  };
  const conflictsMetric = async () => {
    const text = await (await h.req('GET', '/metrics')).text();
    const m = /^cairn_order_conflicts_total (\d+)$/m.exec(text);
    if (!m) throw new Error('no cairn_order_conflicts_total in /metrics');
    return Number(m[1]);
  };

  it('a later report with an earlier time, from someone else, neither rewrites nor erases an order', async () => {
    const site = `squat-${++sites}`;
    const customer = newDevice();
    const attacker = newDevice();
    const before = await conflictsMetric();
    await collect(site, customer, [
      touchEvent(T0, 'google', 'Paid Search'),
      purchase(T0 + 60_000, 'A-9000', 250),
      purchase(T0 + 120_000, 'A-9001', 120),
    ]);
    // After the real orders: A-9000 at 0 EUR an hour "earlier", credited to the attacker's source;
    // A-9001 ten days earlier, before the range, which would push the order out of it.
    await collect(site, attacker, [
      touchEvent(T0 - 11 * D, 'evil.example', 'Referral'),
      purchase(T0 - H, 'A-9000', 0),
      purchase(T0 - 10 * D, 'A-9001', 0),
    ]);

    const r = await report(site);
    expect([r.totals.orders, r.totals.revenue, r.totals.purchasers]).toEqual([2, 370, 1]);
    expect(r.channels.map((c) => [c.channel, c.orders, c.revenue])).toEqual([
      ['Paid Search', 2, 370],
      ['Referral', 0, 0],
    ]);
    expect(r.orderChecks).toEqual({ confirmationRequired: false, conflictingClaims: 2, unconfirmed: 0 });
    expect((await conflictsMetric()) - before).toBe(2);
  });

  it('purchases of absurd value count as no value: the revenue report stays a number', async () => {
    const site = `squat-${++sites}`;
    const customer = newDevice();
    await collect(site, customer, [touchEvent(T0, 'google', 'Paid Search'), purchase(T0 + 60_000, 'B-1', 250)]);
    for (const [i, d] of [newDevice(), newDevice()].entries())
      await collect(site, d, [touchEvent(T0, 'spam', 'Referral'), purchase(T0 + 1000 * i, `B-SPAM-${i}`, 1.7e308)]);
    for (const model of ['first', 'last', 'linear']) {
      const r = await report(site, model);
      expect(r.totals).toMatchObject({ orders: 3, revenue: 250 });
      const revenues = JSON.stringify(r).match(/"revenue(Per1000)?":[^,}]+/g) ?? [];
      expect(revenues.length).toBeGreaterThan(2);
      for (const field of revenues) expect(field).toMatch(/:\d+(\.\d+)?$/);
    }
  });

  it('reports of an order by the same person, on any of their devices, are duplicates, not conflicts', async () => {
    const site = `squat-${++sites}`;
    const phone = newDevice();
    const laptop = newDevice();
    const before = await conflictsMetric();
    await collect(site, phone, [touchEvent(T0, 'newsletter', 'Email'), purchase(T0 + 1, 'B-1', 80)]);
    await collect(site, laptop, [touchEvent(T0 + H, 'google', 'Organic Search')]);
    await h.store.link(site, phone.id, 'user-b', T0 + 2 * H);
    await h.store.link(site, laptop.id, 'user-b', T0 + 2 * H);
    // The thank-you page reloaded on the phone, then the order page seen on the laptop.
    await collect(site, phone, [purchase(T0 + 3 * H, 'B-1', 80)]);
    await collect(site, laptop, [purchase(T0 + 4 * H, 'B-1', 80)]);

    const r = await report(site, 'first');
    expect([r.totals.orders, r.totals.revenue]).toEqual([1, 80]);
    expect(r.channels.find((c) => c.channel === 'Email')).toMatchObject({ orders: 1, revenue: 80 });
    expect(r.orderChecks.conflictingClaims).toBe(0);
    expect((await conflictsMetric()) - before).toBe(0);
  });

  it('without confirmation, whoever reports an order id first keeps it: the report shows the later claim', async () => {
    // What confirmed orders are for (order-confirmation.test.ts): a guessed id claimed in advance.
    const site = `squat-${++sites}`;
    const attacker = newDevice();
    const customer = newDevice();
    await collect(site, attacker, [touchEvent(T0 - H, 'evil.example', 'Referral'), purchase(T0, 'C-1', 0)]);
    await collect(site, customer, [touchEvent(T0, 'google', 'Paid Search'), purchase(T0 + H, 'C-1', 300)]);
    const r = await report(site);
    expect(r.channels.map((c) => [c.channel, c.orders, c.revenue])).toEqual([
      ['Paid Search', 0, 0],
      ['Referral', 1, 0],
    ]);
    expect(r.orderChecks.conflictingClaims).toBe(1);
  });

  it('claims of one order racing on two instances: one owner, every other claim counted once', async () => {
    const site = `squat-${++sites}`;
    const second = await db.open();
    const stores: Store[] = [h.store, second];
    const devices = Array.from({ length: 8 }, newDevice);
    const results = await Promise.all(
      devices.map((d, i) => stores[i % 2]!.ingest(site, d.id, [purchase(T0 + i, 'R-1', 10 + i)], 'h')),
    );
    // Each claim after the first finds the first one stored, whichever instance took it.
    expect(results.reduce((n, r) => n + (r.orderConflicts ?? 0), 0)).toBe(devices.length - 1);

    const rows = await h.store.reportRows(site, T0 - D, T0 + D);
    const seqs = rows.orderClaims.map((c) => c.seq);
    expect(new Set(seqs).size).toBe(devices.length);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const owner = rows.orderClaims[0]!;
    const counted = purchases(rows, people(rows.devices));
    expect(counted).toHaveLength(1);
    expect(counted[0]).toMatchObject({ deviceId: owner.deviceId, conflictingClaims: devices.length - 1 });
    const r = channelReport(rows, { from: T0 - D, to: T0 + D, model: 'last' });
    expect([r.totals.orders, r.totals.revenue, r.orderChecks.conflictingClaims]).toEqual([
      1,
      owner.props.value,
      devices.length - 1,
    ]);
    expect(experimentsReport(rows, { from: T0 - D, to: T0 + D }).baseline.purchasers).toBe(1);
  });

  it('reads every claim of an order whatever its time, in receive order', async () => {
    const site = `squat-${++sites}`;
    const early = newDevice();
    const late = newDevice();
    await h.store.ingest(site, early.id, [purchase(T0 + D, 'S-1', 5)], 'h');
    // Received second, with a time before the range read below.
    await h.store.ingest(site, late.id, [purchase(T0 - 40 * D, 'S-1', 1)], 'h');
    const rows = await h.store.reportRows(site, T0, T0 + 2 * D);
    expect(rows.orderClaims.map((c) => [c.orderId, c.deviceId, c.at])).toEqual([
      ['S-1', early.id, T0 + D],
      ['S-1', late.id, T0 - 40 * D],
    ]);
    // Both claimers are listed, the one outside the range included, so each resolves to its person.
    expect(rows.devices.map((d) => d.deviceId).sort()).toEqual([early.id, late.id].sort());
  });

  it('migration 3 makes the purchases stored before it claims, in their order, as ingest would', async () => {
    const old = db.name === 'sqlite' ? sqliteDb() : postgresDb();
    const site = 'before-3';
    // As stored before: the body is the event's props; `orderId` in every shape a client could send.
    const ids = ['  A-1 \t', 7, 1.5, '   ', 'é'.repeat(250), '😀'.repeat(201), '\u00a0B-2', 'A-1'];
    const rows = ids.map((orderId, i) => ({
      id: `old-${String(i).padStart(6, '0')}`,
      device: `device-${i % 2}-000`,
      body: JSON.stringify({ orderId, value: i, currency: 'EUR' }),
    }));
    // As SQL literals, any quote doubled.
    const text = (v: string) => `'${v.replace(/'/g, "''")}'`;
    try {
      // Inserted in reverse id order: the insertion order, not the id, is the receive order.
      await atSchemaVersion(
        old,
        1,
        [...rows]
          .reverse()
          .map(
            (r) =>
              `INSERT INTO events (site, id, device_id, type, at, body) VALUES (${text(site)}, ${text(r.id)}, ${text(r.device)}, 'purchase', ${T0}, ${text(r.body)})`,
          ),
      );
      const store = await old.open();
      await store.ingest(site, 'device-new-0', [purchase(T0, 'A-1', 99)], 'h');
      const claims = (await store.reportRows(site, T0 - D, T0 + D)).orderClaims;
      const expected = [...rows].reverse().flatMap((r) => {
        const orderId = orderIdOf((JSON.parse(r.body) as { orderId: unknown }).orderId);
        return orderId === null ? [] : [[r.id, orderId]];
      });
      expect(claims.map((c) => [c.id, c.orderId])).toEqual([...expected, [expect.any(String), 'A-1']]);
      expect(expected.map((e) => e[1])).toEqual([
        'A-1',
        '\u00a0B-2',
        '😀'.repeat(200),
        'é'.repeat(200),
        '1.5',
        '7',
        'A-1',
      ]);
      // The counter starts after the old rows: a claim received now comes after them all.
      expect(claims.map((c) => c.seq)).toEqual([...claims.map((c) => c.seq)].sort((a, b) => a - b));
    } finally {
      await old.cleanup();
    }
  });
});
