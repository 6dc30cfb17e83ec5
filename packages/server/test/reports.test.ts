// The reports API on a constructed dataset whose right answers are worked out by hand below, for the
// three attribution models, on SQLite and on PostgreSQL. Alice is the hard case: one person on two
// devices, reached through three channels (plus Direct), who buys twice and sends one order twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CairnEvent, Channel, DeviceKind } from '@cairn/schema';
import { createApp } from '../src/app.js';
import { reportsOpenApiPaths, reportsRoutes } from '../src/routes/reports.js';
import type { ChannelRow, FunnelRow } from '../src/reports/channels.js';
import type { Store } from '../src/store/types.js';
import { makeStores, sqliteDb, type TestDb } from './helpers/db.js';
import { admin, ADMIN_KEY, bearer, harness, type Harness } from './helpers/http.js';

const D = 86_400_000;
const H = 3_600_000;
/** 2024-01-11T00:00Z: the range is 2024-01-11 … 2024-01-20 (10 whole days, the last one included). */
const T0 = Date.UTC(2024, 0, 11);
const RANGE = 'from=2024-01-11&to=2024-01-20';
const SITE = 'report-shop';

let seq = 0;
const eid = () => `rep-${(++seq).toString().padStart(8, '0')}`;
const ev = (type: string, at: number, props: Record<string, unknown> = {}) =>
  ({ id: eid(), type, at, ...props }) as CairnEvent;
const touch = (at: number, channel: Channel, source: string) =>
  ev('touch', at, { touch: { channel, source, medium: channel === 'Direct' ? '(none)' : 'x', landingPath: '/', at } });
const page = (at: number, device?: DeviceKind) =>
  ev('page', at, { path: '/p', title: 'P', session: 's', ...(device ? { device } : {}) });
const purchase = (at: number, orderId: string, value: number, currency: string) =>
  ev('purchase', at, { orderId, value, currency, items: [{ sku: 'SKU-1', qty: 1 }] });

/** Writes the dataset through the store, as the HTTP endpoints would have. */
async function load(store: Store): Promise<void> {
  const put = (dev: string, kind: DeviceKind | undefined, events: CairnEvent[]) =>
    store.ingest(SITE, dev, events, `hash-${dev}`, kind);
  const optin = (deviceId: string, at: number, promptId?: string) =>
    store.addOptin({
      id: eid(),
      site: SITE,
      deviceId,
      email: 'a@example.com',
      consentText: 'Yes',
      at,
      ...(promptId ? { promptId } : {}),
    });

  // Alice, desktop device A1 and mobile device A2, both linked to user "alice".
  await put('alice-desktop-1', 'desktop', [
    touch(T0 - 5 * D, 'Organic Social', 'pinterest'), // before the range, inside the 30-day lookback
    page(T0 - 5 * D),
    touch(T0 + 3 * D, 'Email', 'newsletter'),
    ev('variant_applied', T0 + 3 * D + 1, { variant: 'pin', slots: ['hero-title'] }),
    touch(T0 + 4 * D, 'Direct', '(direct)'),
    purchase(T0 + 4 * D + H, 'A-1', 90, 'EUR'),
  ]);
  await put('alice-mobile-2', 'mobile', [
    touch(T0 + D, 'Paid Search', 'google'),
    page(T0 + D, 'mobile'),
    purchase(T0 + 4 * D + 2 * H, 'A-1', 90, 'EUR'), // the same order again (thank-you page reloaded): counted once
    purchase(T0 + 6 * D, 'A-2', 30, 'EUR'),
  ]);
  await optin('alice-mobile-2', T0 + 2 * D, 'welcome');
  await store.link(SITE, 'alice-mobile-2', 'alice', T0 + D + 2 * H);
  await store.link(SITE, 'alice-desktop-1', 'alice', T0 + 2 * D + H);

  // Bob, anonymous on mobile: a Facebook ad, two orders, the second in dollars after a Direct visit.
  await put('bob-mobile-01', 'mobile', [
    touch(T0 + 2 * D, 'Paid Social', 'facebook'),
    ev('variant_applied', T0 + 2 * D + 1, { variant: 'fb', slots: ['hero-title'] }),
    ev('prompt_shown', T0 + 2 * D + 2, { prompt: 'welcome', device: 'mobile' }),
    ev('prompt_dismissed', T0 + 2 * D + 3, { prompt: 'welcome', device: 'mobile' }),
    purchase(T0 + 2 * D + H, 'B-1', 50, 'EUR'),
    touch(T0 + 5 * D, 'Direct', '(direct)'),
    purchase(T0 + 5 * D + H, 'B-2', 20, 'USD'),
  ]);

  // Carol, anonymous on desktop: found through search before the range, back through a blog, opts in.
  await put('carol-desk-01', 'desktop', [
    touch(T0 - 10 * D, 'Organic Search', 'google'),
    touch(T0 + 7 * D, 'Referral', 'blog.example'),
    ev('variant_applied', T0 + 7 * D + 1, { variant: 'pin', slots: ['hero-title'] }),
    ev('prompt_shown', T0 + 7 * D + 5 * 60_000, { prompt: 'welcome', device: 'desktop' }),
    page(T0 + 7 * D + 10 * 60_000, 'desktop'),
    ev('prompt_submitted', T0 + 7 * D + H, { prompt: 'welcome', device: 'desktop' }),
  ]);
  await optin('carol-desk-01', T0 + 7 * D + H, 'welcome');

  // Frank: a resumed visit with no touch in the window; his device's kind is unknown.
  await put('frank-device-1', undefined, [page(T0 + 8 * D), ev('prompt_shown', T0 + 8 * D + 1, { prompt: 'welcome' })]);
  // Dan: active only before the range. Erin: only after it. Neither is a visitor.
  await put('dan-device-01', 'desktop', [touch(T0 - 3 * D, 'Email', 'newsletter'), page(T0 - 3 * D)]);
  await put('erin-device-1', 'mobile', [
    touch(T0 + 12 * D, 'Paid Social', 'facebook'),
    purchase(T0 + 12 * D, 'E-1', 999, 'EUR'),
  ]);
  // Another site's data never shows up.
  await store.ingest(
    'other-site',
    'alice-desktop-1',
    [touch(T0 + D, 'Affiliates', 'partner'), purchase(T0 + D, 'Z-1', 500, 'EUR')],
    'h',
    'desktop',
  );
}

/** visitors, optins, identified, purchasers, repeatPurchasers, orders, revenue */
type Counts = [number, number, number, number, number, number, number];
interface Expected {
  totals: Counts;
  channels: [channel: string, counts: Counts, sources: Record<string, Counts>][];
}

/*
 * The hand computation. Visitors in the range: Alice, Bob, Carol, Frank (4). Report currency: EUR
 * (3 EUR orders, B-1; 1 USD: B-2, an order but not revenue). A person's funnel is credited at
 * the end of their journey: their first order (Alice: A-1 at T0+4d+1h; Bob: B-1 at T0+2d+1h), else
 * their last activity (Carol: opt-in at T0+7d+1h; Frank: T0+8d). Orders are credited each at its own time.
 * Alice's touches: pinterest (T0-5d), google (T0+1d), newsletter (T0+3d), Direct (T0+4d).
 *
 * first:  Alice -> Organic Social/pinterest; Bob -> Paid Social/facebook; Carol -> Organic Search/google;
 *         Frank has no touch -> Direct. A-1 90 + A-2 30 -> pinterest; B-1 50 + B-2 (USD) -> facebook.
 * last:   Alice -> Email/newsletter (the Direct touch after it does not take the credit), for her funnel,
 *         Bob -> facebook (the Direct visit before B-2 does not either); Carol -> Referral.
 * linear: Alice's funnel and A-1 split 4 ways (all four touches within 30 days): 1/4 each, 22.5 of A-1;
 *         A-2 also 4 ways (pinterest at T0-5d is within 30 days of T0+6d): 7.5 each. Carol: 1/2 Organic
 *         Search, 1/2 Referral. B-2: 1/2 facebook, 1/2 Direct. Direct: 1/4 Alice + Frank = 1.25 visitors;
 *         orders 1/4 (A-1) + 1/4 (A-2) + 1/2 (B-2) = 1; revenue 22.5 + 7.5 = 30.
 */
const EXPECTED: Record<'first' | 'last' | 'linear', Expected> = {
  first: {
    totals: [4, 2, 1, 2, 2, 4, 170],
    channels: [
      ['Organic Social', [1, 1, 1, 1, 1, 2, 120], { pinterest: [1, 1, 1, 1, 1, 2, 120] }],
      ['Paid Social', [1, 0, 0, 1, 1, 2, 50], { facebook: [1, 0, 0, 1, 1, 2, 50] }],
      ['Direct', [1, 0, 0, 0, 0, 0, 0], { '(direct)': [1, 0, 0, 0, 0, 0, 0] }],
      ['Organic Search', [1, 1, 0, 0, 0, 0, 0], { google: [1, 1, 0, 0, 0, 0, 0] }],
    ],
  },
  last: {
    totals: [4, 2, 1, 2, 2, 4, 170],
    channels: [
      ['Email', [1, 1, 1, 1, 1, 2, 120], { newsletter: [1, 1, 1, 1, 1, 2, 120] }],
      ['Paid Social', [1, 0, 0, 1, 1, 2, 50], { facebook: [1, 0, 0, 1, 1, 2, 50] }],
      ['Direct', [1, 0, 0, 0, 0, 0, 0], { '(direct)': [1, 0, 0, 0, 0, 0, 0] }],
      ['Referral', [1, 1, 0, 0, 0, 0, 0], { 'blog.example': [1, 1, 0, 0, 0, 0, 0] }],
    ],
  },
  linear: {
    totals: [4, 2, 1, 2, 2, 4, 170],
    channels: [
      ['Direct', [1.25, 0.25, 0.25, 0.25, 0.25, 1, 30], { '(direct)': [1.25, 0.25, 0.25, 0.25, 0.25, 1, 30] }],
      ['Paid Social', [1, 0, 0, 1, 1, 1.5, 50], { facebook: [1, 0, 0, 1, 1, 1.5, 50] }],
      ['Organic Search', [0.5, 0.5, 0, 0, 0, 0, 0], { google: [0.5, 0.5, 0, 0, 0, 0, 0] }],
      ['Referral', [0.5, 0.5, 0, 0, 0, 0, 0], { 'blog.example': [0.5, 0.5, 0, 0, 0, 0, 0] }],
      ['Email', [0.25, 0.25, 0.25, 0.25, 0.25, 0.5, 30], { newsletter: [0.25, 0.25, 0.25, 0.25, 0.25, 0.5, 30] }],
      [
        'Organic Social',
        [0.25, 0.25, 0.25, 0.25, 0.25, 0.5, 30],
        { pinterest: [0.25, 0.25, 0.25, 0.25, 0.25, 0.5, 30] },
      ],
      ['Paid Search', [0.25, 0.25, 0.25, 0.25, 0.25, 0.5, 30], { google: [0.25, 0.25, 0.25, 0.25, 0.25, 0.5, 30] }],
    ],
  },
};

// The API answers the report types as JSON.
type Row = FunnelRow;
interface ChannelsBody {
  site: string;
  model: string;
  from: number;
  to: number;
  currency: string | null;
  totals: Row;
  channels: ChannelRow[];
  journeys: { touches: number; orders: number }[];
  otherCurrencies: { currency: string; orders: number; revenue: number }[];
}

const counts = (r: Row): Counts => [
  r.visitors,
  r.optins,
  r.identified,
  r.purchasers,
  r.repeatPurchasers,
  r.orders,
  r.revenue,
];

describe.each(makeStores())('reports API on $name', (db: TestDb) => {
  let h: Harness;
  const get = (path: string, headers: Record<string, string> = admin) => h.req('GET', path, { headers });
  const channels = async (query: string) => {
    const res = await get(`/v1/reports/channels?site=${SITE}&${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as ChannelsBody;
  };

  beforeAll(async () => {
    h = await harness(db);
    h.app.route('/', reportsRoutes({ store: h.store, adminKey: ADMIN_KEY }));
    await load(h.store);
  });
  afterAll(() => db.cleanup());

  for (const model of ['first', 'last', 'linear'] as const) {
    it(`computes the funnel by channel and by source under the ${model}-touch model`, async () => {
      const body = await channels(`${RANGE}&model=${model}`);
      expect(body).toMatchObject({ site: SITE, model, from: T0, to: T0 + 10 * D, currency: 'EUR' });
      const want = EXPECTED[model];
      expect(counts(body.totals)).toEqual(want.totals);
      expect(
        body.channels.map((c) => [
          c.channel,
          counts(c),
          Object.fromEntries(c.sources.map((s) => [s.source, counts(s)])),
        ]),
      ).toEqual(want.channels);
      // Whatever the model, the channels share out the same people and the same money.
      const sum = (k: keyof Row) => body.channels.reduce((n, c) => n + (c[k] as number), 0);
      expect(sum('visitors')).toBeCloseTo(4, 9);
      expect(sum('revenue')).toBeCloseTo(170, 9);
    });
  }

  it('gives step rates, rates over visitors and revenue per 1,000 visitors', async () => {
    const body = await channels(`${RANGE}&model=linear`);
    // Totals: 4 visitors, 2 opt-ins, 1 identified, 2 purchasers, 2 repeat; 170 EUR.
    expect(body.totals.stepRates).toEqual({ optin: 0.5, identified: 0.5, purchase: 2, repeat: 1 });
    expect(body.totals.visitorRates).toEqual({ optin: 0.5, identified: 0.25, purchase: 0.5, repeat: 0.5 });
    expect(body.totals.revenuePer1000).toBe(42_500);
    const direct = body.channels.find((c) => c.channel === 'Direct')!;
    // 30 EUR over 1.25 visitors.
    expect(direct.revenuePer1000).toBe(24_000);
    expect(direct.stepRates.optin).toBe(0.2);
    const search = body.channels.find((c) => c.channel === 'Organic Search')!;
    expect(search.stepRates).toEqual({ optin: 1, identified: 0, purchase: null, repeat: null });
  });

  it('counts touches per purchasing journey and sets aside orders in another currency', async () => {
    const body = await channels(`${RANGE}&model=first`);
    // 4 touches each in the 30 days before; B-1: 1; B-2: 2 (facebook, then Direct).
    expect(body.journeys).toEqual([
      { touches: 1, orders: 1 },
      { touches: 2, orders: 1 },
      { touches: 4, orders: 2 },
    ]);
    expect(body.otherCurrencies).toEqual([{ currency: 'USD', orders: 1, revenue: 20 }]);
  });

  it('counts revenue in the currency asked for', async () => {
    const body = await channels(`${RANGE}&model=last&currency=usd`);
    expect(body.currency).toBe('USD');
    expect(body.totals.revenue).toBe(20);
    expect(body.totals.orders).toBe(4);
    expect(body.channels.find((c) => c.channel === 'Paid Social')!.revenue).toBe(20);
    expect(body.otherCurrencies).toEqual([{ currency: 'EUR', orders: 3, revenue: 170 }]);
  });

  it('accepts epoch milliseconds, and a range that leaves people out leaves them out', async () => {
    // Only the first 3 days: Alice (google at T0+1d, opted in at T0+2d, linked) and Bob (B-1).
    const body = await channels(`from=${T0}&to=${T0 + 3 * D}&model=last`);
    expect(counts(body.totals)).toEqual([2, 1, 1, 1, 0, 1, 50]);
    // Alice's journey has no order in these days: it ends at her opt-in, after the google touch.
    // Equal visitors: the channel with more revenue comes first.
    expect(body.channels.map((c) => [c.channel, c.visitors, c.revenue])).toEqual([
      ['Paid Social', 1, 50],
      ['Paid Search', 1, 0],
    ]);
  });

  it('reports variants and prompts', async () => {
    const res = await get(`/v1/reports/experiments?site=${SITE}&${RANGE}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      variants: unknown[];
      baseline: unknown;
      prompts: { prompt: string; total: unknown; devices: Record<string, unknown> }[];
    };
    // pin: Alice (first seen at T0+3d: her opt-in at T0+2d came before it, A-1 after) and Carol (opted in after).
    // fb: Bob, who bought after it. Baseline: Frank, the one visitor who got no variant.
    expect(body.variants).toEqual([
      { variant: 'pin', visitors: 2, optins: 1, purchasers: 1, optinRate: 0.5, purchaseRate: 0.5 },
      { variant: 'fb', visitors: 1, optins: 0, purchasers: 1, optinRate: 0, purchaseRate: 1 },
    ]);
    expect(body.baseline).toEqual({
      variant: null,
      visitors: 1,
      optins: 0,
      purchasers: 0,
      optinRate: 0,
      purchaseRate: 0,
    });
    // welcome: shown on Carol's desktop (submitted, opted in), Bob's mobile (dismissed) and Frank's
    // unknown device; Alice opted in through it on her mobile.
    expect(body.prompts).toEqual([
      {
        prompt: 'welcome',
        total: { shown: 3, dismissed: 1, submitted: 1, optins: 2, submitRate: 0.3333, dismissRate: 0.3333 },
        devices: {
          desktop: { shown: 1, dismissed: 0, submitted: 1, optins: 1, submitRate: 1, dismissRate: 0 },
          mobile: { shown: 1, dismissed: 1, submitted: 0, optins: 1, submitRate: 0, dismissRate: 1 },
          unknown: { shown: 1, dismissed: 0, submitted: 0, optins: 0, submitRate: 0, dismissRate: 0 },
        },
      },
    ]);
  });

  it('needs the admin key', async () => {
    for (const headers of [{}, bearer('wrong-key-0123456789')]) {
      const res = await get(`/v1/reports/channels?site=${SITE}`, headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('unauthorized');
    }
    expect((await get(`/v1/reports/experiments?site=${SITE}`, {})).status).toBe(401);
  });

  it('answers 403 when the server has no admin key', async () => {
    const app = createApp({ store: h.store, logger: false });
    app.route('/', reportsRoutes({ store: h.store }));
    const res = await app.request(`/v1/reports/channels?site=${SITE}`, { headers: admin });
    expect(res.status).toBe(403);
  });

  it('refuses bad queries with a 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['site=bad%20site', 'site'],
      [`model=middle`, 'model'],
      [`from=2024-02-30`, 'from'],
      [`from=yesterday`, 'from'],
      [`to=2024-1-5`, 'to'],
      [`currency=EURO`, 'currency'],
      [`from=2024-01-20&to=2024-01-10`, 'from'],
      [`from=2020-01-01&to=2024-01-01`, 'from'],
    ];
    for (const [query, field] of cases) {
      const q = query.startsWith('site=') ? query : `site=${SITE}&${query}`;
      const res = await get(`/v1/reports/channels?${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { field?: string }).field, q).toBe(field);
    }
    expect((await get('/v1/reports/experiments')).status).toBe(400);
  });

  it('defaults to the last 30 days and the last-touch model', async () => {
    const now = T0 + 10 * D;
    const app = createApp({ store: h.store, logger: false, adminKey: ADMIN_KEY, now: () => now });
    app.route('/', reportsRoutes({ store: h.store, adminKey: ADMIN_KEY, now: () => now }));
    const body = (await (
      await app.request(`/v1/reports/channels?site=${SITE}`, { headers: admin })
    ).json()) as ChannelsBody;
    expect(body).toMatchObject({ model: 'last', from: now - 30 * D, to: now });
    // From T0-20d: Dan's visit (T0-3d, a newsletter) now counts too.
    expect(body.totals.visitors).toBe(5);
    expect(body.channels.find((c) => c.channel === 'Email')!.visitors).toBe(2);
  });
});

describe('the reports in the OpenAPI document', () => {
  it('documents exactly the routes reportsRoutes serves', async () => {
    const db = sqliteDb();
    const store = await db.open();
    try {
      const served = reportsRoutes({ store }).routes.map((r) => `${r.method.toLowerCase()} ${r.path}`);
      const documented = Object.entries(reportsOpenApiPaths()).flatMap(([p, ops]) =>
        Object.keys(ops as object).map((m) => `${m} ${p}`),
      );
      expect(new Set(documented)).toEqual(new Set(served));
    } finally {
      await db.cleanup();
    }
  });
});
