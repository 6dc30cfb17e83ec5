import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

// Treatment against holdout for one metric, with an interval a marketer may look at every day.
//
// The interval is an asymptotic confidence sequence for a difference of means: the normal-mixture
// boundary of Howard, Ramdas, McAuliffe & Sekhon (2021, "Time-uniform, nonparametric, nonasymptotic
// confidence sequences", eq. 14) with the variance estimated from the data, as in Waudby-Smith et
// al. (2021, "Time-uniform central limit theory and asymptotic confidence sequences"). It is the
// interval form of the mixture SPRT of Johari, Pekelis & Walsh (2017, "Always valid inference"),
// the basis of Optimizely's Stats Engine: the chance that it EVER misses the true lift, however
// often it is looked at, stays below alpha. A fixed-horizon interval (estimate ± 1.96 standard
// errors) only keeps that promise when it is read once, at a sample size chosen in advance.

export const ALPHA = 0.05;
/**
 * The effective number of people per arm at which the interval is tightest (the mixture's tuning;
 * fixed in advance, never chosen from the data). With a 10% holdout it is reached at about 5,600
 * visitors; the interval stays valid at every other size, only a little wider.
 */
export const TUNED_FOR_PEOPLE = 500;
/** Below this many people in either arm the verdict is "not enough data yet": the normal approximation needs some. */
export const MIN_PEOPLE_PER_ARM = 100;
/**
 * Below this many EXPECTED people with a non-zero value (buyers, opt-ins) in either arm, or this many
 * with a zero, the verdict is "not enough data yet". Expected under "no difference": the arm's
 * people × the pooled share of non-zero values, the classical rule for a two-by-two table's normal
 * (chi-square) approximation. A 10% holdout at a 1–3% purchase rate expects 0–3 buyers at the first
 * looks; its mean and variance are then mostly noise, and without this rule an A/A test called a
 * winner in 10–28% of simulated experiments (test/lift-simulation.test.ts). Expected, not observed,
 * counts: a prompt that brings opt-ins to 17% of the treated against none of 900 held out is "better",
 * not "not enough data".
 */
export const MIN_EVENTS_PER_ARM = 10;
/** The power the needed sample size is computed for. */
export const POWER = 0.8;
/** The default minimum detectable effect: a relative lift of 10%. */
export const DEFAULT_MDE = 0.1;

export type Verdict = 'not enough data yet' | 'better' | 'no detectable difference' | 'worse';

/** Running sums of one metric over one arm's people: enough for a mean and a variance. */
export interface ArmSums {
  people: number;
  sum: number;
  sumOfSquares: number;
  /** The people whose value is not 0 (buyers for revenue, successes for a rate). */
  nonZero: number;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface Comparison {
  /** The metric's mean per person in each arm; null without people. */
  treatment: number | null;
  holdout: number | null;
  /** treatment − holdout, with its always-valid 95% interval; null until both arms have a variance. */
  absolute: Interval | null;
  /** treatment / holdout − 1, its interval by Fieller's method; null too while the holdout's mean may be 0. */
  relative: Interval | null;
  verdict: Verdict;
  /**
   * The people each arm needs, at the arms' present split, for the interval to exclude 0 with 80%
   * chance when the true relative lift is the MDE; null when the holdout's mean or variance is 0.
   */
  neededPerArm: { treatment: number; holdout: number } | null;
}

export const emptySums = (): ArmSums => ({ people: 0, sum: 0, sumOfSquares: 0, nonZero: 0 });

/** Adds one person's value of the metric (0 or 1 for a rate). */
export function addPerson(sums: ArmSums, value: number): void {
  sums.people++;
  sums.sum += value;
  sums.sumOfSquares += value * value;
  if (value !== 0) sums.nonZero++;
}

const mean = (s: ArmSums) => (s.people > 0 ? s.sum / s.people : null);

/** The sample variance (n − 1); 0 below two people. */
function variance(s: ArmSums): number {
  if (s.people < 2) return 0;
  const m = s.sum / s.people;
  return Math.max(0, (s.sumOfSquares - s.people * m * m) / (s.people - 1));
}

/**
 * The pooled within-arm variance: both arms' squared deviations from their own means, over n − 2.
 * Under "no difference" both arms share one distribution, and this is its best estimate.
 */
function pooledVariance(a: ArmSums, b: ArmSums): number {
  const n = a.people + b.people;
  if (n < 3) return 0;
  return ((a.people - 1) * variance(a) + (b.people - 1) * variance(b)) / (n - 2);
}

/** The mixture's ρ² tuned for `TUNED_FOR_PEOPLE` (Howard et al. 2021, the closed-form approximation). */
function mixtureRho2(alpha: number): number {
  const l = 2 * Math.log(1 / alpha);
  return (l + Math.log(1 + l)) / TUNED_FOR_PEOPLE;
}

/**
 * The half-width of the always-valid (1 − alpha) interval of an estimate whose variance is
 * `estimateVariance` after `effectivePeople` people (n_T·n_C / (n_T + n_C) for two arms):
 * σ̂·sqrt(2(tρ² + 1)/(t²ρ²) · log(sqrt(tρ² + 1)/alpha)) with σ̂²/t the estimate's variance.
 */
export function sequentialRadius(estimateVariance: number, effectivePeople: number, alpha = ALPHA): number {
  if (!(effectivePeople > 0) || !(estimateVariance >= 0)) return Number.POSITIVE_INFINITY;
  const trho2 = effectivePeople * mixtureRho2(alpha);
  // σ̂² = V·t, so σ̂²·(tρ²+1)/(t²ρ²) = V·(tρ²+1)/(tρ²).
  return Math.sqrt(((estimateVariance * (trho2 + 1)) / trho2) * (Math.log(trho2 + 1) + 2 * Math.log(1 / alpha)));
}

const effective = (nT: number, nC: number) => (nT > 0 && nC > 0 ? (nT * nC) / (nT + nC) : 0);

/**
 * The treatment against the holdout for one metric. `mde`: the minimum relative lift worth
 * detecting; it sets the needed sample size and the no-difference band (±mde × the holdout's mean).
 */
export function compareArms(
  treatment: ArmSums,
  holdout: ArmSums,
  o: { mde?: number; alpha?: number; radius?: typeof sequentialRadius } = {},
): Comparison {
  const mde = o.mde ?? DEFAULT_MDE;
  const alpha = o.alpha ?? ALPHA;
  const radius = o.radius ?? sequentialRadius;
  const nT = treatment.people;
  const nC = holdout.people;
  const mT = mean(treatment);
  const mC = mean(holdout);
  // Each arm's variance, floored at the pooled one. A small arm with few buyers (a 10% holdout at a
  // 1% rate has 0–2) shows a variance near 0 by chance, and its own estimate would let the interval
  // carry only the other arm's noise. The floor is conservative, never anti-conservative: when the
  // arms truly differ in spread, the larger one keeps its own variance and the smaller is widened.
  const pooled = pooledVariance(treatment, holdout);
  const vT = Math.max(variance(treatment), pooled);
  const vC = Math.max(variance(holdout), pooled);
  const t = effective(nT, nC);
  const result: Comparison = {
    treatment: mT,
    holdout: mC,
    absolute: null,
    relative: null,
    verdict: 'not enough data yet',
    neededPerArm: neededPerArm(mC ?? 0, vC, nC / (nT + nC || 1), mde, alpha),
  };
  if (mT === null || mC === null || nT < 2 || nC < 2) return result;
  const estimateVariance = vT / nT + vC / nC;
  // No spread in either arm (nobody bought, in both): no interval can be told from the data yet.
  if (estimateVariance === 0) return result;
  const diff = mT - mC;
  const r = radius(estimateVariance, t, alpha);
  result.absolute = { estimate: diff, low: diff - r, high: diff + r };
  result.relative = relativeInterval(mT, mC, vT / nT, vC / nC, radius(1, t, alpha));
  if (enoughEvents(treatment, holdout)) result.verdict = verdict(result.absolute, mC, nT, nC, mde);
  return result;
}

/**
 * The relative lift mT/mC − 1 and its interval, by Fieller's method: the ratios q = 1 + lift for which
 * mT − q·mC is within the always-valid radius of 0, i.e. (mT − q·mC)² ≤ k²·(sT + q²·sC) with k the
 * radius per standard error. It is the same sequential test as the absolute interval's, so it
 * excludes 0 exactly when that one does, and it is lopsided as a ratio's should be. Null when the
 * holdout's mean is not told apart from 0 (the set would be unbounded).
 */
function relativeInterval(mT: number, mC: number, sT: number, sC: number, k: number): Interval | null {
  const a = mC * mC - k * k * sC;
  if (!(mC > 0) || !(a > 0) || !Number.isFinite(k)) return null;
  const spread = Math.sqrt(k * k * (sT * mC * mC + sC * mT * mT) - k ** 4 * sT * sC);
  return { estimate: mT / mC - 1, low: (mT * mC - spread) / a - 1, high: (mT * mC + spread) / a - 1 };
}

/** Each arm expects at least `MIN_EVENTS_PER_ARM` people with a non-zero value, and as many with a zero. */
function enoughEvents(a: ArmSums, b: ArmSums): boolean {
  const share = (a.nonZero + b.nonZero) / (a.people + b.people);
  const smaller = Math.min(a.people, b.people);
  return smaller * share >= MIN_EVENTS_PER_ARM && smaller * (1 - share) >= MIN_EVENTS_PER_ARM;
}

function verdict(absolute: Interval, holdoutMean: number, nT: number, nC: number, mde: number): Verdict {
  if (nT < MIN_PEOPLE_PER_ARM || nC < MIN_PEOPLE_PER_ARM) return 'not enough data yet';
  if (absolute.low > 0) return 'better';
  if (absolute.high < 0) return 'worse';
  // Both ends inside ±mde of the holdout's mean: any lift there is, is smaller than the one that matters.
  const band = mde * Math.abs(holdoutMean);
  if (band > 0 && absolute.low >= -band && absolute.high <= band) return 'no detectable difference';
  return 'not enough data yet';
}

/** The most people per arm the search below considers; beyond it the answer is null ("more than that"). */
const MAX_PEOPLE = 1e9;

/**
 * The people per arm for the always-valid interval to exclude 0 with `POWER` chance when the true
 * lift is `mde` × the holdout's mean, with both arms' variance taken as the holdout's and the arms
 * split as now (`holdoutShare` of the people in the holdout; an even split without data).
 */
export function neededPerArm(
  holdoutMean: number,
  holdoutVariance: number,
  holdoutShare: number,
  mde: number,
  alpha = ALPHA,
): { treatment: number; holdout: number } | null {
  const effect = Math.abs(mde * holdoutMean);
  if (!(effect > 0) || !(holdoutVariance > 0)) return null;
  const share = holdoutShare > 0 && holdoutShare < 1 ? holdoutShare : 0.5;
  const zPower = normalQuantile(POWER, 0, 1);
  const enough = (total: number) => {
    const nC = total * share;
    const nT = total - nC;
    const v = holdoutVariance / nT + holdoutVariance / nC;
    return sequentialRadius(v, effective(nT, nC), alpha) + zPower * Math.sqrt(v) <= effect;
  };
  if (!enough(MAX_PEOPLE)) return null;
  // The radius shrinks as people come: the smallest total that is enough, by bisection.
  let low = 2;
  let high = MAX_PEOPLE;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (enough(mid)) high = mid;
    else low = mid;
  }
  return { treatment: Math.ceil(high * (1 - share)), holdout: Math.ceil(high * share) };
}

/** The fixed-horizon half-width (z·standard error): valid for one look only. For comparison and tests. */
export function fixedHorizonRadius(estimateVariance: number, _effectivePeople: number, alpha = ALPHA): number {
  return normalQuantile(1 - alpha / 2, 0, 1) * Math.sqrt(estimateVariance);
}
