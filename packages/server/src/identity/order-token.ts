import { BAD_CHARS } from '../request.js';
import { MAX_ORDER_VALUE, orderIdOf } from '../store/order-id.js';
import { openClaims, signClaims } from './identity-token.js';

// Signed proof that the shop's backend took an order, for sites that require confirmed orders:
// the login tokens' scheme (identity-token.ts) over the JSON
// `{"site":…,"order":…,"value":…,"currency":…,"exp":<epoch seconds>}`, and optionally
// `"device":<the cairn_id cookie of the browser that ordered>` to say whose order it is.
// The reports then count the order with this value and currency, not the ones the browser sent.

export interface SignOrderOptions {
  secret: string;
  site: string;
  orderId: string;
  /** The order's value, ≥ 0, in `currency`. */
  value: number;
  /** ISO 4217, e.g. EUR. */
  currency: string;
  /** The device that placed the order (the `cairn_id` cookie the checkout request carried). */
  deviceId?: string;
  ttlSeconds?: number;
  /** Epoch milliseconds; defaults to Date.now(). */
  now?: number;
}

export interface OrderClaims {
  site: string;
  order: string;
  value: number;
  currency: string;
  /** Expiry, epoch seconds. */
  exp: number;
  device?: string;
}

export type VerifyOrderFailure = 'malformed' | 'signature' | 'expired' | 'wrong_site';
export type VerifyOrderResult =
  | { ok: true; claims: OrderClaims }
  | { ok: false; reason: VerifyOrderFailure; detail: string };

const CURRENCY = /^[A-Za-z]{3}$/;
const DEVICE_ID = /^[A-Za-z0-9_-]{8,64}$/;

export function signOrder({
  secret,
  site,
  orderId,
  value,
  currency,
  deviceId,
  ttlSeconds = 600,
  now = Date.now(),
}: SignOrderOptions): string {
  if (!secret) throw new TypeError('signOrder: a secret is required');
  if (!site) throw new TypeError('signOrder: a site is required');
  const order = orderIdOf(orderId);
  if (order === null || order !== orderId)
    throw new TypeError('signOrder: orderId must be 1 to 200 characters, not padded with spaces');
  if (!Number.isFinite(value) || value < 0 || value > MAX_ORDER_VALUE)
    throw new TypeError(`signOrder: value must be a number from 0 to ${MAX_ORDER_VALUE}`);
  if (!CURRENCY.test(currency)) throw new TypeError('signOrder: currency must be a 3-letter ISO 4217 code');
  if (deviceId !== undefined && !DEVICE_ID.test(deviceId))
    throw new TypeError('signOrder: deviceId must be a Cairn device id (8 to 64 letters, digits, "-" or "_")');
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0)
    throw new TypeError('signOrder: ttlSeconds must be a positive number');
  const claims: OrderClaims = {
    site,
    order,
    value,
    currency: currency.toUpperCase(),
    exp: Math.floor(now / 1000 + ttlSeconds),
  };
  if (deviceId !== undefined) claims.device = deviceId;
  return signClaims(claims, secret);
}

/** Checks the signature in constant time, then the claims, expiry and site. Never throws on bad input. */
export function verifyOrder(
  token: unknown,
  { secret, site, now = Date.now() }: { secret: string; site: string; now?: number },
): VerifyOrderResult {
  const opened = openClaims(token, secret);
  if (!opened.ok)
    return {
      ok: false,
      reason: opened.reason,
      detail: opened.reason === 'signature' ? 'the signature does not match' : 'not a signed token',
    };
  const c = opened.claims as Record<string, unknown> | null;
  const bad = (detail: string): VerifyOrderResult => ({ ok: false, reason: 'malformed', detail });
  if (c === null || typeof c !== 'object' || Array.isArray(c)) return bad('the payload is not a JSON object');
  if (typeof c.site !== 'string') return bad('"site" must be a string');
  const order = orderIdOf(c.order);
  if (typeof c.order !== 'string' || order === null) return bad('"order" must be a non-empty string');
  if (BAD_CHARS.test(c.order)) return bad('"order": NUL and unpaired surrogate characters are not allowed');
  if (typeof c.value !== 'number' || !Number.isFinite(c.value) || c.value < 0 || c.value > MAX_ORDER_VALUE)
    return bad(`"value" must be a number from 0 to ${MAX_ORDER_VALUE}`);
  if (typeof c.currency !== 'string' || !CURRENCY.test(c.currency))
    return bad('"currency" must be a 3-letter ISO 4217 code');
  if (typeof c.exp !== 'number' || !Number.isFinite(c.exp)) return bad('"exp" must be epoch seconds');
  if (c.device !== undefined && (typeof c.device !== 'string' || !DEVICE_ID.test(c.device)))
    return bad('"device" must be a Cairn device id');
  if (c.exp * 1000 <= now) return { ok: false, reason: 'expired', detail: 'it has expired' };
  if (c.site !== site) return { ok: false, reason: 'wrong_site', detail: `it is for another site than "${site}"` };
  const claims: OrderClaims = {
    site: c.site,
    order,
    value: c.value,
    currency: c.currency.toUpperCase(),
    exp: c.exp,
  };
  if (typeof c.device === 'string') claims.device = c.device;
  return { ok: true, claims };
}
