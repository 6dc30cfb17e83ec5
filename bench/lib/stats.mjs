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
  return { n: xs.filter((x) => Number.isFinite(x)).length, median: median(xs), p25: quantile(xs, 0.25), p75: quantile(xs, 0.75), min: quantile(xs, 0), max: quantile(xs, 1) };
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
