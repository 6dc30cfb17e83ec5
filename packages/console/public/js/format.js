// Number formatting for the tables and charts. Linear attribution gives fractional counts.

const counts = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const small = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });
const pct = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 });

export const count = (n) => (n > 0 && n < 1 ? small : counts).format(n);
export const rate = (r) => (r === null || r === undefined ? '–' : pct.format(r));

export function money(n, currency) {
  if (n === null || n === undefined) return '–';
  try {
    if (currency && /^[A-Z]{3}$/.test(currency))
      return new Intl.NumberFormat('en', {
        style: 'currency',
        currency,
        maximumFractionDigits: n >= 100 ? 0 : 2,
      }).format(n);
  } catch {}
  return counts.format(n);
}

/** YYYY-MM-DD (UTC) of a time, as the reports API reads dates. */
export const day = (t) => new Date(t).toISOString().slice(0, 10);
