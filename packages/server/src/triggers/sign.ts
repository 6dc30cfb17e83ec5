import { createHmac, timingSafeEqual } from 'node:crypto';

// Webhook signatures, as Stripe's: `Cairn-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
// The timestamp is signed with the body, so a captured request cannot be replayed after the tolerance.

export const SIGNATURE_HEADER = 'Cairn-Signature';

const hmac = (body: string, secret: string, t: number) =>
  createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');

/** The `Cairn-Signature` value for `body` (the exact bytes sent) at `t` (unix seconds). */
export function signWebhook(body: string, secret: string, t: number): string {
  return `t=${t},v1=${hmac(body, secret, t)}`;
}

export interface VerifyOptions {
  /** How far `t` may be from now, in seconds, either way. Default 300. */
  toleranceSeconds?: number;
  /** Unix seconds; default the clock. */
  now?: number;
}

export type VerifyResult = { ok: true; t: number } | { ok: false; reason: 'malformed' | 'timestamp' | 'signature' };

/**
 * Checks a `Cairn-Signature` header against the raw body. Several `v1=` are accepted (a signer in
 * the middle of a secret rotation sends one per secret); each is compared in constant time.
 */
export function verifyWebhook(
  body: string,
  header: string | null | undefined,
  secret: string,
  options: VerifyOptions = {},
): VerifyResult {
  if (!header) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return { ok: false, reason: 'timestamp' };
  const expected = Buffer.from(hmac(body, secret, t), 'hex');
  let match = false;
  // Every candidate is compared, so the time taken does not say which one matched.
  for (const s of signatures) if (timingSafeEqual(expected, Buffer.from(s, 'hex'))) match = true;
  return match ? { ok: true, t } : { ok: false, reason: 'signature' };
}
