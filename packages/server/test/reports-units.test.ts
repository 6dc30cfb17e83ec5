// The report computations as pure functions, on rows built by hand: the edges of each rule.
import { describe, expect, it } from 'vitest';
import {
  channelReport,
  credit,
  experimentsReport,
  LOOKBACK_MS,
  people,
  purchases,
  touchPoint,
  type TouchPoint,
} from '../src/reports/index.js';
import { orderIdOf } from '../src/store/order-id.js';
import type { ReportDevice, ReportEvent, ReportRows } from '../src/store/types.js';

const D = 86_400_000;
let seq = 0;
const e = (deviceId: string, type: string, at: number, props: Record<string, unknown> = {}): ReportEvent => ({
  id: `e${++seq}`,
  deviceId,
  type,
  at,
  device: null,
  props,
});
const t = (deviceId: string, at: number, channel: string, source: string) =>
  e(deviceId, 'touch', at, { touch: { channel, source } });
const anon = (deviceId: string): ReportDevice => ({ deviceId, kind: null, userId: null, linkedAt: null });
/** Rows as the store gives them; the events' order as given is the order the server received them. */
const rows = (events: ReportEvent[], devices: ReportDevice[] = [], optins: ReportRows['optins'] = []): ReportRows => ({
  devices,
  events: [...events].sort((a, b) => a.at - b.at),
  optins,
  orderClaims: events.flatMap((x, seq) => {
    const orderId = x.type === 'purchase' ? orderIdOf(x.props.orderId) : null;
    return orderId === null ? [] : [{ id: x.id, orderId, deviceId: x.deviceId, at: x.at, seq, props: x.props }];
  }),
  orderConfirmations: [],
});
const tp = (at: number, channel: string, source = channel.toLowerCase()): TouchPoint => ({ at, channel, source });

describe('credit', () => {
  const journey = [
    tp(0, 'Organic Search', 'google'),
    tp(10 * D, 'Email'),
    tp(20 * D, 'Direct'),
    tp(50 * D, 'Paid Social'),
  ];

  it('gives first-touch credit to the earliest touch before the moment', () => {
    expect(credit(journey, 25 * D, 'first')).toEqual([{ channel: 'Organic Search', source: 'google', weight: 1 }]);
  });

  it('gives last-touch credit to the latest non-Direct touch, and to Direct only when there is nothing else', () => {
    expect(credit(journey, 25 * D, 'last')).toEqual([{ channel: 'Email', source: 'email', weight: 1 }]);
    expect(credit([tp(0, 'Direct', '(direct)')], 1, 'last')).toEqual([
      { channel: 'Direct', source: '(direct)', weight: 1 },
    ]);
  });

  it('splits linear credit over the touches of the 30 days before, merging repeats of one source', () => {
    // At 35 days: google (day 0) is out of the window; Email (day 10) and Direct (day 20) share it.
    expect(credit(journey, 35 * D, 'linear')).toEqual([
      { channel: 'Email', source: 'email', weight: 0.5 },
      { channel: 'Direct', source: 'direct', weight: 0.5 },
    ]);
    const twice = [tp(0, 'Email'), tp(1, 'Paid Search', 'google'), tp(2, 'Email')];
    const c = credit(twice, 3, 'linear');
    expect(c.map((x) => [x.channel, x.weight.toFixed(4)])).toEqual([
      ['Email', '0.6667'],
      ['Paid Search', '0.3333'],
    ]);
  });

  it('falls back to the latest touch when none is within 30 days, and to Direct without any', () => {
    expect(credit([tp(0, 'Email')], LOOKBACK_MS + 1, 'linear')).toEqual([
      { channel: 'Email', source: 'email', weight: 1 },
    ]);
    for (const model of ['first', 'last', 'linear'] as const) {
      expect(credit([tp(100, 'Email')], 50, model)).toEqual([{ channel: 'Direct', source: '(direct)', weight: 1 }]);
    }
  });

  it('reads an unknown channel as Unassigned and a missing source as (not set)', () => {
    expect(touchPoint(e('d', 'touch', 5, { touch: { channel: 'Carrier pigeon', source: '' } }))).toEqual({
      at: 5,
      channel: 'Unassigned',
      source: '(not set)',
    });
    expect(touchPoint(e('d', 'page', 5, { touch: { channel: 'Email' } }))).toBeNull();
  });
});

describe('purchases', () => {
  it('keeps the first event of each order, and sanitises value and currency', () => {
    const list = purchases(
      rows([
        e('a', 'purchase', 1, { orderId: 'o1', value: 10, currency: 'eur' }),
        e('b', 'purchase', 2, { orderId: 'o1', value: 99, currency: 'EUR' }),
        e('a', 'purchase', 3, { orderId: 7, value: -5, currency: 'euros' }),
        e('a', 'purchase', 4, { value: 'ten' }),
        e('a', 'purchase', 5, { value: 1 }),
        e('a', 'add_to_cart', 6, { orderId: 'o2', value: 3 }),
      ]),
      people([]),
    );
    expect(
      list.map((p) => [p.orderId.startsWith('event:') ? 'event' : p.orderId, p.deviceId, p.value, p.currency]),
    ).toEqual([
      ['o1', 'a', 10, 'EUR'],
      ['7', 'a', 0, '(none)'],
      ['event', 'a', 0, '(none)'],
      ['event', 'a', 1, '(none)'],
    ]);
  });
});

describe('channelReport', () => {
  const from = 100 * D;
  const to = 110 * D;

  it('does not count again in the range an order first sent before it', () => {
    const r = channelReport(
      rows([
        t('a', 95 * D, 'Email', 'news'),
        e('a', 'purchase', 96 * D, { orderId: 'o1', value: 10, currency: 'EUR' }),
        e('a', 'purchase', 101 * D, { orderId: 'o1', value: 10, currency: 'EUR' }),
      ]),
      { from, to, model: 'last' },
    );
    // The resent order is activity (a visitor) but not an order.
    expect([r.totals.visitors, r.totals.purchasers, r.totals.orders, r.totals.revenue]).toEqual([1, 0, 0, 0]);
    expect(r.currency).toBeNull();
  });

  it('counts a person as identified only when linked before the range ends, and once across devices', () => {
    const devices: ReportDevice[] = [
      { deviceId: 'p1', kind: 'mobile', userId: 'u', linkedAt: 105 * D },
      { deviceId: 'p2', kind: 'desktop', userId: 'u', linkedAt: 112 * D },
      { deviceId: 'q1', kind: 'mobile', userId: 'late', linkedAt: 111 * D },
    ];
    const r = channelReport(
      rows([e('p1', 'page', 101 * D), e('p2', 'page', 102 * D), e('q1', 'page', 103 * D)], devices),
      { from, to, model: 'first' },
    );
    expect([r.totals.visitors, r.totals.identified]).toEqual([2, 1]);
  });

  it('ends a journey at the first order: later touches take no credit for the funnel', () => {
    const r = channelReport(
      rows([
        t('a', 101 * D, 'Paid Search', 'google'),
        e('a', 'purchase', 102 * D, { orderId: 'o1', value: 40, currency: 'EUR' }),
        t('a', 103 * D, 'Email', 'news'),
        e('a', 'purchase', 104 * D, { orderId: 'o2', value: 60, currency: 'EUR' }),
      ]),
      { from, to, model: 'last' },
    );
    const by = Object.fromEntries(
      r.channels.map((c) => [c.channel, [c.visitors, c.purchasers, c.repeatPurchasers, c.orders, c.revenue]]),
    );
    expect(by).toEqual({ 'Paid Search': [1, 1, 1, 1, 40], Email: [0, 0, 0, 1, 60] });
  });
});

describe('experimentsReport', () => {
  it('counts a variant’s conversions only from the first exposure, and a person on two devices once', () => {
    const devices: ReportDevice[] = [
      { deviceId: 'm', kind: 'mobile', userId: 'u', linkedAt: 1 },
      { deviceId: 'd', kind: 'desktop', userId: 'u', linkedAt: 1 },
      anon('x'),
      anon('y'),
    ];
    const r = experimentsReport(
      rows(
        [
          e('m', 'variant_applied', 10, { variant: 'v' }),
          e('d', 'variant_applied', 20, { variant: 'v' }),
          e('d', 'purchase', 30, { orderId: 'o', value: 1, currency: 'EUR' }),
          e('x', 'purchase', 5, { orderId: 'p', value: 1, currency: 'EUR' }),
          e('x', 'variant_applied', 6, { variant: 'v' }),
          // A preview is not an exposure: without this rule 'y' would count as a third visitor.
          e('y', 'variant_applied', 7, { variant: 'v', preview: true }),
        ],
        devices,
        [{ id: 'o1', deviceId: 'm', at: 5, promptId: null }],
      ),
      { from: 0, to: 100 },
    );
    // u: exposed at 10, opted in at 5 (before), bought at 30 (after). x: bought at 5, before exposure at 6.
    expect(r.variants).toEqual([
      { variant: 'v', visitors: 2, optins: 0, purchasers: 1, optinRate: 0, purchaseRate: 0.5 },
    ]);
    // 'y' was seen (its preview event) but never exposed: it is the baseline's one visitor.
    expect(r.baseline.visitors).toBe(1);
    expect(r.prompts).toEqual([]);
  });
});
