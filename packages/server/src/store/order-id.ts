// The order a purchase event names, as stored in events.order_id and counted by the reports.
// Migration 3 fills the column for older rows with the same rule written in SQL (ASCII whitespace
// trimmed, at most 200 characters), so the two must stay in step.

/**
 * The largest order value counted. Any browser can report a purchase: without a bound, one of 1e308
 * makes every sum Infinity and the whole revenue report null. 1e12 is past any real order, in any
 * currency, and far from overflow in any sum.
 */
export const MAX_ORDER_VALUE = 1e12;

/** The longest order id kept, in characters (code points, as SQL's substr and left count them). */
export const ORDER_ID_MAX = 200;

const EDGE_SPACE = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;

/** The normalised order id of a purchase's `orderId` prop, or null when it names none. */
export function orderIdOf(value: unknown): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value !== 'string') return null;
  const trimmed = value.replace(EDGE_SPACE, '');
  if (!trimmed) return null;
  return trimmed.length > ORDER_ID_MAX ? Array.from(trimmed).slice(0, ORDER_ID_MAX).join('') : trimmed;
}
