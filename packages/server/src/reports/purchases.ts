import type { ReportEvent } from '../store/types.js';

// Purchases as the reports count them: one per order, whatever the number of times it was sent
// (a reloaded thank-you page, two tabs, a retried beacon).

export interface Purchase {
  /** The event that first carried the order. */
  id: string;
  /** The order id; `event:<id>` for a purchase sent without one (it cannot be deduplicated). */
  orderId: string;
  deviceId: string;
  at: number;
  /** Non-negative; 0 when the event carried no usable value. */
  value: number;
  /** ISO 4217 code, upper case; '(none)' when missing or malformed. */
  currency: string;
}

export const NO_CURRENCY = '(none)';

function orderIdOf(v: unknown): string | null {
  if (typeof v === 'string' && v.trim()) return v.trim().slice(0, 200);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** The purchases among `events` (ordered by time, then id), deduplicated by orderId: the first one seen wins. */
export function purchases(events: readonly ReportEvent[]): Purchase[] {
  const seen = new Set<string>();
  const out: Purchase[] = [];
  for (const e of events) {
    if (e.type !== 'purchase') continue;
    const orderId = orderIdOf(e.props.orderId) ?? `event:${e.id}`;
    if (seen.has(orderId)) continue;
    seen.add(orderId);
    const v = e.props.value;
    const c = e.props.currency;
    out.push({
      id: e.id,
      orderId,
      deviceId: e.deviceId,
      at: e.at,
      value: typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0,
      currency: typeof c === 'string' && /^[A-Za-z]{3}$/.test(c) ? c.toUpperCase() : NO_CURRENCY,
    });
  }
  return out;
}
