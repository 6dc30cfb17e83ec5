// Treatment against holdout on simulated experiments with a seeded PRNG: the always-valid intervals
// cover the true lift, looking 10 times at an A/A test calls a winner in at most 5% of experiments,
// and a strong lift is found. Then the arm counting on simulated rows (merges, crossovers, previews,
// outcomes before exposure), and one experiment end to end through the store (SQLite and
// PostgreSQL) and GET /v1/reports/experiments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CairnEvent } from '@cairn/schema';
import { assignArms, liftReport, people, type LiftReport } from '../src/reports/index.js';
import {
  addPerson,
  compareArms,
  emptySums,
  fixedHorizonRadius,
  sequentialRadius,
  type ArmSums,
  type Comparison,
} from '../src/reports/sequential.js';
import type { ReportDevice, ReportEvent, ReportOptin, ReportRows } from '../src/store/types.js';
import { makeStores, type TestDb } from './helpers/db.js';
import { admin, harness, type Harness } from './helpers/http.js';
import { prng } from './helpers/report-seed.js';

/** A standard normal draw (Box–Muller) from the seeded uniforms. */
const gaussian = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

interface Scenario {
  /** Purchase rate in each arm. */
  holdoutRate: number;
  treatmentRate: number;
  /** Share of people held out. */
  holdoutShare: number;
  people: number;
  looks: number;
}

/** An order's value: log-normal, mean exp(3.5 + 0.5²/2) ≈ 37.5. */
const ORDER_MU = 3.5;
const ORDER_SIGMA = 0.5;
const MEAN_ORDER = Math.exp(ORDER_MU + ORDER_SIGMA ** 2 / 2);

/**
 * One simulated experiment: people arrive one by one, each held out with `holdoutShare`, buying with
 * their arm's rate; the report is read `looks` times at even intervals. Returns each look's
 * comparison of the purchase rate and of revenue per visitor.
 */
function runExperiment(
  s: Scenario,
  random: () => number,
  radius?: typeof fixedHorizonRadius,
): { purchase: Comparison[]; revenue: Comparison[] } {
  const purchase: Record<'treatment' | 'holdout', ArmSums> = { treatment: emptySums(), holdout: emptySums() };
  const revenue: Record<'treatment' | 'holdout', ArmSums> = { treatment: emptySums(), holdout: emptySums() };
  const out = { purchase: [] as Comparison[], revenue: [] as Comparison[] };
  const every = s.people / s.looks;
  for (let i = 1; i <= s.people; i++) {
    const arm = random() < s.holdoutShare ? 'holdout' : 'treatment';
    const bought = random() < (arm === 'holdout' ? s.holdoutRate : s.treatmentRate);
    addPerson(purchase[arm], bought ? 1 : 0);
    addPerson(revenue[arm], bought ? Math.exp(ORDER_MU + ORDER_SIGMA * gaussian(random)) : 0);
    if (i % every === 0) {
      const o = radius ? { radius } : {};
      out.purchase.push(compareArms(purchase.treatment, purchase.holdout, o));
      out.revenue.push(compareArms(revenue.treatment, revenue.holdout, o));
    }
  }
  return out;
}

const EXPERIMENTS = 400;
const liftOf = (r: LiftReport, id: string) => r.variants.find((v) => v.id === id);
const covers = (c: Comparison, truth: number, which: 'absolute' | 'relative') => {
  const i = c[which];
  return i !== null && i.low <= truth && truth <= i.high;
};
const called = (c: Comparison) => c.verdict === 'better' || c.verdict === 'worse';

describe('always-valid lift intervals on simulated experiments', () => {
  it('cover a known true lift at every one of 10 looks in at least 93% of 400 experiments', () => {
    const random = prng(20_261_207);
    const s: Scenario = { holdoutRate: 0.1, treatmentRate: 0.12, holdoutShare: 0.3, people: 4_000, looks: 10 };
    const truth = s.treatmentRate - s.holdoutRate;
    const relativeTruth = s.treatmentRate / s.holdoutRate - 1;
    let absolute = 0;
    let relative = 0;
    let revenue = 0;
    let boundedAtTheEnd = 0;
    for (let x = 0; x < EXPERIMENTS; x++) {
      const r = runExperiment(s, random);
      if (r.purchase.every((c) => covers(c, truth, 'absolute'))) absolute++;
      // No relative interval yet means an unbounded one (the holdout's mean may still be 0): it covers.
      if (r.purchase.every((c) => c.relative === null || covers(c, relativeTruth, 'relative'))) relative++;
      if (r.purchase.at(-1)!.relative !== null) boundedAtTheEnd++;
      if (r.revenue.every((c) => covers(c, truth * MEAN_ORDER, 'absolute'))) revenue++;
    }
    expect(absolute / EXPERIMENTS).toBeGreaterThanOrEqual(0.93);
    expect(relative / EXPERIMENTS).toBeGreaterThanOrEqual(0.93);
    expect(revenue / EXPERIMENTS).toBeGreaterThanOrEqual(0.93);
    expect(boundedAtTheEnd).toBe(EXPERIMENTS);
  });

  it('gives a relative interval that excludes 0 exactly when the absolute one does', () => {
    const random = prng(1234);
    let compared = 0;
    for (let x = 0; x < 100; x++) {
      const lift = [0, 0.01, 0.02, 0.04][x % 4]!;
      const r = runExperiment(
        { holdoutRate: 0.1, treatmentRate: 0.1 + lift, holdoutShare: 0.4, people: 3_000, looks: 5 },
        random,
      );
      for (const c of r.purchase) {
        if (!c.relative || !c.absolute) continue;
        compared++;
        expect(c.relative.low > 0).toBe(c.absolute.low > 0);
        expect(c.relative.high < 0).toBe(c.absolute.high < 0);
        expect(c.relative.low).toBeLessThanOrEqual(c.relative.estimate);
        expect(c.relative.high).toBeGreaterThanOrEqual(c.relative.estimate);
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('with no true lift, looked at 10 times, says better or worse in at most 5% of 400 experiments', () => {
    const s: Scenario = { holdoutRate: 0.1, treatmentRate: 0.1, holdoutShare: 0.5, people: 4_000, looks: 10 };
    const falseCalls = (radius?: typeof fixedHorizonRadius) => {
      const random = prng(7);
      let purchase = 0;
      let revenue = 0;
      for (let x = 0; x < EXPERIMENTS; x++) {
        const r = runExperiment(s, random, radius);
        if (r.purchase.some(called)) purchase++;
        if (r.revenue.some(called)) revenue++;
      }
      return { purchase: purchase / EXPERIMENTS, revenue: revenue / EXPERIMENTS };
    };
    const sequential = falseCalls();
    expect(sequential.purchase).toBeLessThanOrEqual(0.05);
    expect(sequential.revenue).toBeLessThanOrEqual(0.05);
    // The same peeking with a fixed-horizon interval (estimate ± 1.96 standard errors, right for one
    // look only) calls a winner far more often: the scenario is one where peeking does harm.
    const fixed = falseCalls(fixedHorizonRadius);
    expect(fixed.purchase).toBeGreaterThan(0.1);
  });

  // The default 10% holdout at a 1–3% purchase rate: the holdout has few buyers (often 0–2 at the
  // first looks), so an arm's own variance is ~0 and used to let the interval carry only the
  // treatment's noise (e.g. 900 treated with 16 buyers against 100 held out with none: "better").
  it.each([
    { holdoutRate: 0.01, people: 2_000 },
    { holdoutRate: 0.01, people: 10_000 },
    { holdoutRate: 0.02, people: 10_000 },
    { holdoutRate: 0.03, people: 10_000 },
  ])(
    'with no true lift at a $holdoutRate rate, a 10% holdout and $people people, 10 looks call a winner in at most 5%',
    ({ holdoutRate, people }) => {
      const random = prng(Math.round(holdoutRate * 1e4) + people);
      const s: Scenario = { holdoutRate, treatmentRate: holdoutRate, holdoutShare: 0.1, people, looks: 10 };
      let purchase = 0;
      let revenue = 0;
      for (let x = 0; x < EXPERIMENTS; x++) {
        const r = runExperiment(s, random);
        if (r.purchase.some(called)) purchase++;
        if (r.revenue.some(called)) revenue++;
      }
      expect(purchase / EXPERIMENTS).toBeLessThanOrEqual(0.05);
      expect(revenue / EXPERIMENTS).toBeLessThanOrEqual(0.05);
    },
  );

  it('gives no verdict while an arm expects fewer than 10 buyers, and no arm a variance of 0', () => {
    // 900 treated with 16 buyers against 100 held out with none.
    const treatment = { people: 900, sum: 16, sumOfSquares: 16, nonZero: 16 };
    const holdout = { people: 100, sum: 0, sumOfSquares: 0, nonZero: 0 };
    const c = compareArms(treatment, holdout);
    expect(c.verdict).toBe('not enough data yet');
    // The holdout's variance is floored at the pooled one: the interval is not the treatment's alone.
    const treatmentAlone = sequentialRadius(((16 / 900) * (1 - 16 / 900)) / 900, (900 * 100) / 1000);
    expect(c.absolute!.high - c.absolute!.estimate).toBeGreaterThan(2 * treatmentAlone);
    // Buyers expected in the holdout under "no difference": 100 × the pooled share. A verdict from 10
    // on (100 buyers of 1,000), whatever the holdout's own count: 0 of 100 against 100 of 900 is better.
    const none = { people: 100, sum: 0, sumOfSquares: 0, nonZero: 0 };
    const nine = compareArms({ people: 900, sum: 99, sumOfSquares: 99, nonZero: 99 }, none);
    const ten = compareArms({ people: 900, sum: 100, sumOfSquares: 100, nonZero: 100 }, none);
    expect(nine.verdict).toBe('not enough data yet');
    expect(ten.verdict).toBe('better');
  });

  it('finds a strong true lift, and sizes the sample for the MDE', () => {
    const random = prng(99);
    const s: Scenario = { holdoutRate: 0.1, treatmentRate: 0.2, holdoutShare: 0.5, people: 2_000, looks: 1 };
    let better = 0;
    let worse = 0;
    for (let x = 0; x < 100; x++) {
      const last = runExperiment(s, random).purchase.at(-1)!;
      if (last.verdict === 'better') better++;
      if (last.verdict === 'worse') worse++;
    }
    expect(better).toBeGreaterThanOrEqual(95);
    expect(worse).toBe(0);

    // With the sample the report says a 30% lift needs, a 30% lift is found in about 80% of experiments
    // (a little less: the size assumes the holdout's variance in both arms, and 13% varies more than 10%).
    const sized = compareArms(
      { people: 1000, sum: 100, sumOfSquares: 100, nonZero: 100 },
      { people: 1000, sum: 100, sumOfSquares: 100, nonZero: 100 },
      { mde: 0.3 },
    ).neededPerArm!;
    expect(sized.holdout).toBe(sized.treatment);
    const planned: Scenario = {
      holdoutRate: 0.1,
      treatmentRate: 0.13,
      holdoutShare: 0.5,
      people: sized.holdout * 2,
      looks: 1,
    };
    let found = 0;
    for (let x = 0; x < EXPERIMENTS; x++)
      if (runExperiment(planned, random).purchase.at(-1)!.verdict === 'better') found++;
    expect(found / EXPERIMENTS).toBeGreaterThan(0.65);
    expect(found / EXPERIMENTS).toBeLessThan(0.9);
  });

  it('says no detectable difference once the interval fits in ±MDE, and not enough data before', () => {
    const random = prng(3);
    const r = runExperiment(
      { holdoutRate: 0.3, treatmentRate: 0.3, holdoutShare: 0.5, people: 40_000, looks: 200 },
      random,
    );
    expect(r.purchase[0]!.verdict).toBe('not enough data yet');
    expect(r.purchase.at(-1)!.verdict).toBe('no detectable difference');
  });
});

// ——— The arm counting, on simulated rows ———

const site = { from: 1_000, to: 10_000_000 };
let n = 0;
const ev = (deviceId: string, type: string, at: number, props: Record<string, unknown> = {}): ReportEvent => ({
  id: `e${(++n).toString().padStart(9, '0')}`,
  deviceId,
  type,
  at,
  device: null,
  props,
});

describe('arm counting on simulated rows', () => {
  it('counts each person once in the arm of their first exposure, from that moment on', () => {
    const random = prng(11);
    const devices: ReportDevice[] = [];
    const events: ReportEvent[] = [];
    const optins: ReportOptin[] = [];
    const orderClaims: ReportRows['orderClaims'] = [];
    let seq = 0;
    const expected = { treatment: 0, holdout: 0, crossovers: 0, treatmentBuyers: 0, holdoutBuyers: 0 };
    for (let p = 0; p < 3_000; p++) {
      const arm = random() < 0.2 ? 'holdout' : 'treatment';
      const at = site.from + 1_000 + Math.floor(random() * 1_000_000);
      const merged = random() < 0.1;
      const dev = `d${p}`;
      devices.push({
        deviceId: dev,
        kind: 'desktop',
        userId: merged ? `u${p}` : null,
        linkedAt: merged ? at + 5 : null,
      });
      events.push(ev(dev, arm === 'holdout' ? 'variant_held' : 'variant_applied', at, { variant: 'v' }));
      expected[arm]++;
      if (merged) {
        // Their second device, exposed later in the other arm before the login merged them: a crossover.
        const second = `d${p}b`;
        devices.push({ deviceId: second, kind: 'mobile', userId: `u${p}`, linkedAt: at + 5 });
        events.push(ev(second, arm === 'holdout' ? 'variant_applied' : 'variant_held', at + 2, { variant: 'v' }));
        expected.crossovers++;
      }
      // A purchase before the exposure never counts; one after it does.
      if (random() < 0.3) {
        const after = random() < 0.5;
        const orderAt = after ? at + 10 : at - 10;
        orderClaims.push({
          id: `o${p}`,
          orderId: `O-${p}`,
          deviceId: dev,
          at: orderAt,
          seq: ++seq,
          props: { value: 10, currency: 'EUR' },
        });
        if (after) expected[arm === 'holdout' ? 'holdoutBuyers' : 'treatmentBuyers']++;
      }
      if (random() < 0.1) optins.push({ id: `x${p}`, deviceId: dev, at: at + 1, promptId: null });
      // A preview never counts, whoever's device it is on.
      if (random() < 0.05) events.push(ev(`preview${p}`, 'variant_applied', at, { variant: 'v', preview: true }));
    }
    const rows: ReportRows = { devices, events, optins, orderClaims, orderConfirmations: [] };
    const who = people(devices);
    const [arms] = assignArms(events, who, site);
    expect(arms!.crossovers).toBe(expected.crossovers);
    const report = liftReport(rows, who, { ...site, confirmationRequired: false, mde: 0.1 });
    const v = report.variants[0]!;
    expect(v.id).toBe('v');
    expect(v.visitors).toEqual({ treatment: expected.treatment, holdout: expected.holdout });
    expect(v.crossovers).toBe(expected.crossovers);
    const purchase = v.metrics.purchaseRate;
    expect(purchase.treatment).toBeCloseTo(expected.treatmentBuyers / expected.treatment, 12);
    expect(purchase.holdout).toBeCloseTo(expected.holdoutBuyers / expected.holdout, 12);
    expect(v.metrics.revenuePerVisitor.treatment).toBeCloseTo((10 * expected.treatmentBuyers) / expected.treatment, 9);
    // Every merged person logged in after their first exposure: identified from it.
    expect(
      v.metrics.identifiedRate.treatment! * expected.treatment + v.metrics.identifiedRate.holdout! * expected.holdout,
    ).toBe(expected.crossovers);
    expect(report.currency).toBe('EUR');
    expect(liftOf(report, 'v')).toBe(v);
  });
});

// ——— End to end: SQLite, the HTTP report ———

describe.each(makeStores())('lift through the $name store and GET /v1/reports/experiments', (db: TestDb) => {
  const SITE = 'lift-shop';
  const T0 = Date.UTC(2024, 0, 11);
  const RANGE = 'from=2024-01-11&to=2024-01-20';
  let h: Harness;

  beforeAll(async () => {
    h = await harness(db);
    const random = prng(5);
    // 'strong' doubles the purchase rate; 'flat' changes nothing. The prompt costs nothing either.
    const rates = { strong: [0.1, 0.25], flat: [0.15, 0.15] } as const;
    let e = 0;
    const id = () => `sim-${(++e).toString().padStart(8, '0')}`;
    for (let p = 0; p < 1_600; p++) {
      const variant = p % 2 === 0 ? 'strong' : 'flat';
      const held = random() < 0.5;
      const at = T0 + Math.floor(random() * 8 * 86_400_000);
      const bought = random() < rates[variant][held ? 0 : 1];
      const events = [
        {
          id: id(),
          type: held ? 'variant_held' : 'variant_applied',
          at,
          variant,
          ...(held ? {} : { slots: ['hero-title'] }),
        },
        { id: id(), type: random() < 0.5 ? 'prompt_held' : 'prompt_shown', at: at + 1, prompt: 'welcome' },
        ...(bought
          ? [{ id: id(), type: 'purchase', at: at + 60_000, orderId: `S-${p}`, value: 40, currency: 'EUR' }]
          : []),
      ] as CairnEvent[];
      await h.store.ingest(SITE, `device-${p}`, events, `hash-${p}`, 'desktop');
    }
  });
  afterAll(async () => {
    await db.cleanup();
  });

  const get = async (query: string) =>
    h.req('GET', `/v1/reports/experiments?site=${SITE}&${query}`, { headers: admin });

  it('finds the strong variant better, and neither better nor worse for the flat one', async () => {
    const res = await get(RANGE);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { lift: LiftReport };
    expect(body.lift.variants.map((v) => v.id).sort()).toEqual(['flat', 'strong']);
    const strong = liftOf(body.lift, 'strong')!;
    const flat = liftOf(body.lift, 'flat')!;
    expect(strong.visitors.treatment + strong.visitors.holdout).toBe(800);
    expect(strong.metrics.purchaseRate.verdict).toBe('better');
    expect(strong.metrics.revenuePerVisitor.verdict).toBe('better');
    expect(strong.metrics.purchaseRate.absolute!.low).toBeGreaterThan(0);
    expect(['not enough data yet', 'no detectable difference']).toContain(flat.metrics.purchaseRate.verdict);
    expect(flat.metrics.purchaseRate.neededPerArm!.holdout).toBeGreaterThan(0);
    const prompt = body.lift.prompts[0]!;
    expect(prompt.id).toBe('welcome');
    expect(prompt.visitors.treatment + prompt.visitors.holdout).toBe(1_600);
    expect(['not enough data yet', 'no detectable difference']).toContain(prompt.metrics.purchaseRate.verdict);
  });

  it('takes the MDE as a query parameter, and refuses a bad one naming the field', async () => {
    const small = (await (await get(`${RANGE}&mde=0.05`)).json()) as { lift: LiftReport };
    const large = (await (await get(`${RANGE}&mde=0.5`)).json()) as { lift: LiftReport };
    expect(small.lift.mde).toBe(0.05);
    const need = (r: { lift: LiftReport }) => liftOf(r.lift, 'flat')!.metrics.purchaseRate.neededPerArm!.holdout;
    expect(need(small)).toBeGreaterThan(need(large) * 50);
    for (const bad of ['0', '2', 'ten', '-0.1', '']) {
      const res = await get(`${RANGE}&mde=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { field?: string }).field, bad).toBe('mde');
    }
  });
});
