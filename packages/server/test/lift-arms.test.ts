// The lift report's arms do not depend on the range read: each person's arm is their first exposure
// over all time (Store.reportExposures), as the profile's; outcomes count inside the range only.
// And the non-causal "no variant" baseline leaves out the people held out of a variant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CairnEvent } from '@cairn/schema';
import { experimentsReport, type LiftReport } from '../src/reports/index.js';
import type { ReportEvent, ReportRows } from '../src/store/types.js';
import { makeStores, type TestDb } from './helpers/db.js';
import { admin, harness, type Harness } from './helpers/http.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 2, 1);

describe.each(makeStores())('arms over all time on the $name store', (db: TestDb) => {
  const SITE = 'arms-shop';
  let h: Harness;
  let seq = 0;
  const id = () => `arm-${(++seq).toString().padStart(8, '0')}`;
  const send = (device: string, events: Omit<CairnEvent, 'id'>[]) =>
    h.store.ingest(SITE, device, events.map((e) => ({ ...e, id: id() })) as CairnEvent[], `hash-${device}`, 'desktop');

  beforeAll(async () => {
    h = await harness(db);
    // Ann: held out on her laptop on day 0 (and bought on day 1), treated on her phone on day 10
    // (and bought on day 11); she logged in on both on day 10, so they are one person.
    await send('laptop-ann1', [
      { type: 'variant_held', at: T0, variant: 'v' },
      { type: 'purchase', at: T0 + DAY, orderId: 'A-1', value: 10, currency: 'EUR' },
    ] as Omit<CairnEvent, 'id'>[]);
    await send('phone-ann01', [
      { type: 'variant_applied', at: T0 + 10 * DAY, variant: 'v', slots: ['hero-title'] },
      { type: 'variant_applied', at: T0 + 10 * DAY + 5, variant: 'v', slots: ['hero-title'] },
      { type: 'purchase', at: T0 + 11 * DAY, orderId: 'A-2', value: 30, currency: 'EUR' },
    ] as Omit<CairnEvent, 'id'>[]);
    await h.store.link(SITE, 'laptop-ann1', 'ann', T0 + 10 * DAY);
    await h.store.link(SITE, 'phone-ann01', 'ann', T0 + 10 * DAY);
    // Bob: treated on day 0 only (never seen in the later range); a preview on day 12 is no exposure.
    await send('laptop-bob1', [
      { type: 'variant_applied', at: T0, variant: 'v', slots: ['hero-title'] },
      { type: 'variant_applied', at: T0 + 12 * DAY, variant: 'v', preview: true, slots: ['hero-title'] },
    ] as Omit<CairnEvent, 'id'>[]);
    // Cy: held out on day 2, back on day 12 (held again): a held-out visitor, not in the baseline.
    await send('laptop-cy01', [
      { type: 'variant_held', at: T0 + 2 * DAY, variant: 'v' },
      { type: 'variant_held', at: T0 + 12 * DAY, variant: 'v' },
      { type: 'page', at: T0 + 12 * DAY + 1, path: '/' },
    ] as Omit<CairnEvent, 'id'>[]);
    // Dee: no variant at all: the baseline.
    await send('laptop-dee1', [{ type: 'page', at: T0 + 12 * DAY, path: '/' }] as Omit<CairnEvent, 'id'>[]);
  });
  afterAll(async () => {
    await db.cleanup();
  });

  it('reads each exposed person’s first exposures over all time, per device, type and variant', async () => {
    const late = await h.store.reportExposures(SITE, T0 + 5 * DAY, T0 + 20 * DAY);
    const seen = late.events.map((e) => [e.deviceId, e.type, e.at]);
    // Ann's laptop is read though it has no exposure in the range (her phone does); the phone's
    // second exposure is not its first; Bob's only exposure in the range is a preview: not read.
    expect(seen).toEqual([
      ['laptop-ann1', 'variant_held', T0],
      ['laptop-cy01', 'variant_held', T0 + 2 * DAY],
      ['phone-ann01', 'variant_applied', T0 + 10 * DAY],
    ]);
    expect(late.devices.map((d) => [d.deviceId, d.userId])).toEqual([
      ['laptop-ann1', 'ann'],
      ['laptop-cy01', null],
      ['phone-ann01', 'ann'],
    ]);
    expect(late.events[0]!.props.variant).toBe('v');
  });

  const lift = async (from: string) => {
    const res = await h.req('GET', `/v1/reports/experiments?site=${SITE}&from=${from}&to=2024-03-20`, {
      headers: admin,
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { lift: LiftReport; baseline: { visitors: number } };
  };

  it('keeps a person in the arm of their first exposure whatever the range, counting outcomes inside it', async () => {
    const all = (await lift('2024-03-01')).lift.variants[0]!;
    const late = (await lift('2024-03-06')).lift.variants[0]!;
    // Ann is held out in both (with one crossover), never treated because the range starts later.
    expect(all.visitors).toEqual({ treatment: 1, holdout: 2 });
    expect(all.crossovers).toBe(1);
    expect(late.visitors).toEqual({ treatment: 0, holdout: 2 });
    expect(late.crossovers).toBe(1);
    // Revenue: both of Ann's orders in the full range, only the day-11 one in the later range.
    expect(all.metrics.revenuePerVisitor.holdout).toBe(40 / 2);
    expect(late.metrics.revenuePerVisitor.holdout).toBe(30 / 2);
  });

  it('leaves the held out out of the "no variant" baseline', async () => {
    const { baseline } = await lift('2024-03-06');
    // Dee, and Bob (a preview is no exposure); not Cy, held out of the variant in the range.
    expect(baseline.visitors).toBe(2);
  });
});

describe('the "no variant" baseline', () => {
  const ev = (deviceId: string, type: string, at: number, props: Record<string, unknown> = {}): ReportEvent => ({
    id: `${deviceId}-${type}-${at}`,
    deviceId,
    type,
    at,
    device: null,
    props,
  });
  it('counts no one held out of a variant, and still counts a preview’s device', () => {
    const events = [
      ev('held-00001', 'variant_held', 10, { variant: 'v' }),
      ev('held-00001', 'page', 11),
      ev('plain-0001', 'page', 12),
      ev('preview-01', 'variant_held', 13, { variant: 'v', preview: true }),
      ev('treated-01', 'variant_applied', 14, { variant: 'v' }),
    ];
    const rows: ReportRows = { devices: [], events, optins: [], orderClaims: [], orderConfirmations: [] };
    const report = experimentsReport(rows, { from: 0, to: 100 });
    expect(report.baseline.visitors).toBe(2);
    expect(report.variants.map((v) => [v.variant, v.visitors])).toEqual([['v', 1]]);
  });
});
