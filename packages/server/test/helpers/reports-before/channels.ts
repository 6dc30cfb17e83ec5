// Frozen copy of src/reports/channels.ts as it was before the reports read aggregates (issue 18): the
// oracle test/reports-in-db.test.ts compares the in-database reports with, over Store.reportRows.

import type { ReportRows } from '../../../src/store/types.js';
import {
  credit,
  LOOKBACK_MS,
  touchPoint,
  windowTouches,
  type Credit,
  type Model,
  type TouchPoint,
} from '../../../src/reports/attribution.js';
import { people } from '../../../src/reports/people.js';
import { countedOrders, purchases, type Purchase } from '../../../src/reports/purchases.js';

// The funnel by channel and by source, under one attribution model, for people active in [from, to).
//
// Each person (a user across their devices, or an anonymous device) who did anything in the range is
// one visitor. Their funnel steps are credited together, by the model, to the touches before their
// journey's end: their first purchase in the range, else their last activity in it. So each step is
// a subset of the person's visit and a channel's funnel reads top to bottom. Orders and revenue are
// credited purchase by purchase, at the moment of each.
//   visitors        people with an event or opt-in in the range
//   optins          of them, those who opted in during the range
//   identified      of them, those linked to a user before the range ended (counted once across devices)
//   purchasers      of them, those with at least one order in the range (orders deduplicated by orderId,
//                   each for the person who reported it first: see purchases.ts)
//   repeatPurchasers  those with two orders or more in the range
// Touches are read from 30 days before the range start, so a journey that began just before it keeps its origin.

export interface FunnelCounts {
  visitors: number;
  optins: number;
  identified: number;
  purchasers: number;
  repeatPurchasers: number;
  orders: number;
  /** In the report's currency. */
  revenue: number;
}

type Rate = number | null;

export interface FunnelRow extends FunnelCounts {
  /** Each step over the one before: opt-ins/visitors, identified/opt-ins, purchasers/identified, repeat/purchasers. Null over zero. */
  stepRates: { optin: Rate; identified: Rate; purchase: Rate; repeat: Rate };
  /** Each step over visitors. */
  visitorRates: { optin: Rate; identified: Rate; purchase: Rate; repeat: Rate };
  revenuePer1000: Rate;
}

export interface SourceRow extends FunnelRow {
  source: string;
}

export interface ChannelRow extends FunnelRow {
  channel: string;
  sources: SourceRow[];
}

export interface ChannelReport {
  model: Model;
  from: number;
  to: number;
  lookbackDays: number;
  /** The currency revenue is counted in: the one asked for, else the most frequent among the range's orders. */
  currency: string | null;
  totals: FunnelRow;
  channels: ChannelRow[];
  /** Touches in the 30 days before each order of the range: how many orders had 1, 2, 3… touches. */
  journeys: { touches: number; orders: number }[];
  /** Orders in other currencies: counted as orders and purchasers, not in revenue. */
  otherCurrencies: { currency: string; orders: number; revenue: number }[];
  orderChecks: OrderChecks;
}

/** How far the range's orders were trusted. */
export interface OrderChecks {
  /** The site config's `orders.confirmation` is "required": only confirmed orders count. */
  confirmationRequired: boolean;
  /** Purchase events of the range's orders sent by someone other than the person the order counts for: ignored. */
  conflictingClaims: number;
  /** With confirmation required, the range's orders the shop's backend never confirmed: not counted. */
  unconfirmed: number;
}

export interface ChannelOptions {
  from: number;
  to: number;
  model: Model;
  currency?: string;
  /** Count only the orders the shop's backend confirmed (the site config's `orders.confirmation`). */
  confirmationRequired?: boolean;
}

const empty = (): FunnelCounts => ({
  visitors: 0,
  optins: 0,
  identified: 0,
  purchasers: 0,
  repeatPurchasers: 0,
  orders: 0,
  revenue: 0,
});
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const ratio = (a: number, b: number): Rate => (b > 0 ? round(a / b, 4) : null);

function row(c: FunnelCounts): FunnelRow {
  return {
    visitors: round(c.visitors, 4),
    optins: round(c.optins, 4),
    identified: round(c.identified, 4),
    purchasers: round(c.purchasers, 4),
    repeatPurchasers: round(c.repeatPurchasers, 4),
    orders: round(c.orders, 4),
    revenue: round(c.revenue, 2),
    stepRates: {
      optin: ratio(c.optins, c.visitors),
      identified: ratio(c.identified, c.optins),
      purchase: ratio(c.purchasers, c.identified),
      repeat: ratio(c.repeatPurchasers, c.purchasers),
    },
    visitorRates: {
      optin: ratio(c.optins, c.visitors),
      identified: ratio(c.identified, c.visitors),
      purchase: ratio(c.purchasers, c.visitors),
      repeat: ratio(c.repeatPurchasers, c.visitors),
    },
    revenuePer1000: c.visitors > 0 ? round((c.revenue / c.visitors) * 1000, 2) : null,
  };
}

interface PersonState {
  touches: TouchPoint[];
  active: boolean;
  lastActive: number;
  optedIn: boolean;
  identified: boolean;
  orders: Purchase[];
}

/** The most frequent currency among orders; ties go to the alphabetically first. */
export function mainCurrency(orders: readonly Purchase[]): string | null {
  const n = new Map<string, number>();
  for (const o of orders) n.set(o.currency, (n.get(o.currency) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
}

/** `rows` covers [from - 30 days, to): the range and its touch lookback. */
export function channelReport(rows: ReportRows, o: ChannelOptions): ChannelReport {
  const { from, to, model } = o;
  const inRange = (at: number) => at >= from && at < to;
  const who = people(rows.devices);
  const state = new Map<string, PersonState>();
  const of = (deviceId: string) => {
    const p = who.of(deviceId);
    let s = state.get(p.key);
    if (!s) {
      s = {
        touches: [],
        active: false,
        lastActive: -Infinity,
        optedIn: false,
        identified: p.identifiedAt !== null && p.identifiedAt < to,
        orders: [],
      };
      state.set(p.key, s);
    }
    return s;
  };
  const activity = (s: PersonState, at: number) => {
    if (!inRange(at)) return;
    s.active = true;
    s.lastActive = Math.max(s.lastActive, at);
  };

  // Events come ordered by time, so every person's touches are too.
  for (const e of rows.events) {
    if (e.at >= to) continue;
    const s = of(e.deviceId);
    const t = touchPoint(e);
    if (t) s.touches.push(t);
    activity(s, e.at);
  }
  for (const x of rows.optins) {
    const s = of(x.deviceId);
    activity(s, x.at);
    if (inRange(x.at)) s.optedIn = true;
  }
  // Deduplicated over every claim of the order: one first sent before the range is not counted again in it.
  const confirmationRequired = o.confirmationRequired ?? false;
  const inRangeOrders = purchases(rows, who).filter((p) => inRange(p.at));
  const orders = countedOrders(inRangeOrders, confirmationRequired);
  for (const p of orders) {
    const s = of(p.deviceId);
    s.orders.push(p);
    // A confirmed order may be the person's only sign in the range.
    activity(s, p.at);
  }
  const currency = o.currency ?? mainCurrency(orders);

  const totals = empty();
  const channels = new Map<string, { counts: FunnelCounts; sources: Map<string, FunnelCounts> }>();
  const add = (credits: Credit[], f: (c: FunnelCounts, w: number) => void) => {
    f(totals, 1);
    for (const c of credits) {
      let ch = channels.get(c.channel);
      if (!ch) channels.set(c.channel, (ch = { counts: empty(), sources: new Map() }));
      let src = ch.sources.get(c.source);
      if (!src) ch.sources.set(c.source, (src = empty()));
      f(ch.counts, c.weight);
      f(src, c.weight);
    }
  };

  const journeys = new Map<number, number>();
  const others = new Map<string, { orders: number; revenue: number }>();
  for (const s of state.values()) {
    if (!s.active) continue;
    const end = s.orders[0]?.at ?? s.lastActive;
    add(credit(s.touches, end, model), (c, w) => {
      c.visitors += w;
      if (s.optedIn) c.optins += w;
      if (s.identified) c.identified += w;
      if (s.orders.length > 0) c.purchasers += w;
      if (s.orders.length > 1) c.repeatPurchasers += w;
    });
    for (const p of s.orders) {
      const counted = p.currency === currency;
      add(credit(s.touches, p.at, model), (c, w) => {
        c.orders += w;
        if (counted) c.revenue += w * p.value;
      });
      const n = windowTouches(s.touches, p.at).length;
      journeys.set(n, (journeys.get(n) ?? 0) + 1);
      if (!counted) {
        const x = others.get(p.currency) ?? { orders: 0, revenue: 0 };
        x.orders += 1;
        x.revenue += p.value;
        others.set(p.currency, x);
      }
    }
  }

  const byVolume = (a: [string, FunnelCounts], b: [string, FunnelCounts]) =>
    b[1].visitors - a[1].visitors || b[1].revenue - a[1].revenue || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  return {
    model,
    from,
    to,
    lookbackDays: LOOKBACK_MS / 86_400_000,
    currency,
    totals: row(totals),
    channels: [...channels]
      .map(([channel, ch]) => [channel, ch.counts, ch.sources] as const)
      .sort((a, b) => byVolume([a[0], a[1]], [b[0], b[1]]))
      .map(([channel, counts, sources]) => ({
        channel,
        ...row(counts),
        sources: [...sources].sort(byVolume).map(([source, c]) => ({ source, ...row(c) })),
      })),
    journeys: [...journeys].sort((a, b) => a[0] - b[0]).map(([touches, n]) => ({ touches, orders: n })),
    otherCurrencies: [...others]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([c, x]) => ({ currency: c, orders: x.orders, revenue: round(x.revenue, 2) })),
    orderChecks: {
      confirmationRequired,
      conflictingClaims: inRangeOrders.reduce((n, p) => n + p.conflictingClaims, 0),
      unconfirmed: inRangeOrders.length - orders.length,
    },
  };
}
