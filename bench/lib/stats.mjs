// Small statistics over samples. Quantiles interpolate linearly between order statistics
// (type 7, as in R and numpy), so a median of an even count is the mean of the middle two.

/** @param {number[]} xs @param {number} q in [0, 1] */
export function quantile(xs, q) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const pos = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** @param {number[]} xs */
export const median = (xs) => quantile(xs, 0.5);

/** Median and interquartile range of a sample. @param {number[]} xs */
export function summary(xs) {
  return {
    n: xs.filter((x) => Number.isFinite(x)).length,
    median: median(xs),
    p25: quantile(xs, 0.25),
    p75: quantile(xs, 0.75),
    min: quantile(xs, 0),
    max: quantile(xs, 1),
  };
}

/** Formats a number with a fixed count of decimals, or "–" when it is not a number. */
export function fmt(x, digits = 1) {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

/** "median (p25–p75)" of a summary. */
export function fmtSpread(s, digits = 1) {
  return `${fmt(s.median, digits)} (${fmt(s.p25, digits)}–${fmt(s.p75, digits)})`;
}

/** Formats a count with thousands separators. */
export function fmtInt(x) {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–';
}

/** Formats bytes as KB (1024) with one decimal. */
export function fmtKB(bytes) {
  return Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KB` : '–';
}

/** Formats bytes as KB below 1 MB, else MB. */
export function fmtBytes(bytes) {
  return Number.isFinite(bytes) && bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : fmtKB(bytes);
}

/** a / b formatted as "12.3×", or "–" when it cannot be computed. */
export function ratio(a, b, digits = 1) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(digits)}×` : '–';
}

/** The standard normal distribution function (Abramowitz and Stegun 7.1.26, error under 1.5e-7). */
export function normalCdf(z) {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Wilcoxon signed-rank test on pairs (a[i], b[i]): whether b tends to differ from a, pair by pair, so
 * that what a pair shares (the machine's load at that moment) cancels out. Two-sided p from the normal
 * approximation, ties and continuity corrected; zero differences are dropped. Pairs with a missing
 * value are left out.
 * @param {number[]} a @param {number[]} b
 */
export function wilcoxonSignedRank(a, b) {
  const d = a.map((x, i) => b[i] - x).filter((x) => Number.isFinite(x) && x !== 0);
  const n = d.length;
  if (!n) return { w: NaN, z: 0, p: a.some(Number.isFinite) ? 1 : NaN, n };
  const abs = d.map((v) => ({ v: Math.abs(v), pos: v > 0 })).sort((p, q) => p.v - q.v);
  let w = 0;
  let ties = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && abs[j + 1].v === abs[i].v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (abs[k].pos) w += rank;
    const t = j - i + 1;
    ties += t * t * t - t;
    i = j + 1;
  }
  const mu = (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - ties / 48);
  const z = sigma > 0 ? Math.max(0, Math.abs(w - mu) - 0.5) / sigma : 0;
  return { w, z, p: Math.min(1, 2 * (1 - normalCdf(z))), n };
}
