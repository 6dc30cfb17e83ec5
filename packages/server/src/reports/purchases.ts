import { MAX_ORDER_VALUE, orderIdOf } from '../store/order-id.js';
import type { ReportOrderClaim, ReportRows } from '../store/types.js';
import type { People } from './people.js';

// Purchases as the reports count them: one per order, whatever the number of times it was sent
// (a reloaded thank-you page, two tabs, a retried beacon), and for one person only.
//
// An order belongs to the person who reported it first in the server's receive order (or, when
// the shop's backend confirmed it naming a device, to that device's person). The client's `at`
// places the order in time but never decides whose it is: otherwise anyone could post an order id
// with an earlier time and take the order over. Later claims by the same person are duplicates;
// claims by anyone else are ignored and counted as conflicting.

export interface Purchase {
  /** The event the order is counted from; `confirmation:<orderId>` when only a confirmation places it. */
  id: string;
  /** The order id; `event:<id>` for a purchase sent without one (it cannot be deduplicated). */
  orderId: string;
  deviceId: string;
  at: number;
  /** Non-negative; 0 when the event carried no usable value. The backend's when confirmed. */
  value: number;
  /** ISO 4217 code, upper case; '(none)' when missing or malformed. The backend's when confirmed. */
  currency: string;
  /** Whether the shop's backend confirmed it (POST /v1/orders/confirm). */
  confirmed: boolean;
  /** Claims of the order by other people than the one it is counted for: ignored. */
  conflictingClaims: number;
}

export const NO_CURRENCY = '(none)';

const usableValue = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= MAX_ORDER_VALUE ? v : 0;
const usableCurrency = (c: unknown) =>
  typeof c === 'string' && /^[A-Za-z]{3}$/.test(c) ? c.toUpperCase() : NO_CURRENCY;

/**
 * Every order of `rows`, ordered by time then id: each order claimed by `rows.orderClaims` or
 * confirmed, and each purchase event without an order id (counted on its own). Claims decide by
 * receive order (`seq`); `who` says which person each device belongs to.
 */
export function purchases(
  rows: Pick<ReportRows, 'events' | 'orderClaims' | 'orderConfirmations'>,
  who: People,
): Purchase[] {
  const out: Purchase[] = [];
  for (const e of rows.events) {
    if (e.type !== 'purchase' || orderIdOf(e.props.orderId) !== null) continue;
    out.push({
      id: e.id,
      orderId: `event:${e.id}`,
      deviceId: e.deviceId,
      at: e.at,
      value: usableValue(e.props.value),
      currency: usableCurrency(e.props.currency),
      confirmed: false,
      conflictingClaims: 0,
    });
  }

  const claimsOf = new Map<string, ReportOrderClaim[]>();
  for (const c of [...rows.orderClaims].sort((a, b) => a.seq - b.seq)) {
    const list = claimsOf.get(c.orderId);
    if (list) list.push(c);
    else claimsOf.set(c.orderId, [c]);
  }
  const confirmations = new Map(rows.orderConfirmations.map((c) => [c.orderId, c]));
  for (const orderId of new Set([...claimsOf.keys(), ...confirmations.keys()])) {
    const claims = claimsOf.get(orderId) ?? [];
    const confirmation = confirmations.get(orderId);
    // Confirmed without a device and never reported by a browser: nobody to credit it to.
    const ownerDevice = confirmation?.deviceId ?? claims[0]?.deviceId;
    if (ownerDevice === undefined) continue;
    const owner = who.of(ownerDevice).key;
    const own = claims.filter((c) => who.of(c.deviceId).key === owner);
    const first = own[0];
    out.push({
      id: first?.id ?? `confirmation:${orderId}`,
      orderId,
      deviceId: first?.deviceId ?? ownerDevice,
      at: first?.at ?? confirmation?.confirmedAt ?? 0,
      value: confirmation ? confirmation.value : usableValue(first?.props.value),
      currency: confirmation ? confirmation.currency : usableCurrency(first?.props.currency),
      confirmed: confirmation !== undefined,
      conflictingClaims: claims.length - own.length,
    });
  }
  return out.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The orders a report counts: all of them, or with confirmation required, the confirmed ones only. */
export function countedOrders(all: readonly Purchase[], confirmationRequired: boolean): Purchase[] {
  return confirmationRequired ? all.filter((p) => p.confirmed) : [...all];
}
