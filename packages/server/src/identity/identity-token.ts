import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Signed proof of login: `base64url(payload).base64url(HMAC-SHA256(secret, base64url(payload)))`,
// where payload is the JSON `{"site":…,"user":…,"exp":<epoch seconds>}`, optionally with
// `"device":<device id>` to make it good for that device only. Any language can sign it:
// base64url-encode the JSON, HMAC that string with the shared secret, base64url the digest, join with ".".

export interface SignIdentityOptions {
  userId: string;
  secret: string;
  site: string;
  ttlSeconds?: number;
  /** Epoch milliseconds; defaults to Date.now(). */
  now?: number;
  /** The device the login is for (the SDK's `cairn_id` cookie): then it links that device only. */
  deviceId?: string;
}

export interface IdentityClaims {
  site: string;
  user: string;
  /** Expiry, epoch seconds. */
  exp: number;
  /** The one device it may link, when the backend named it. */
  device?: string;
  /**
   * Random, from signIdentity: a login token links one device, and two signed for one user in the
   * same second would otherwise be the same token.
   */
  nonce?: string;
}

export type VerifyFailure =
  | 'malformed'
  | 'signature'
  | 'expired'
  | 'too_long'
  | 'wrong_site'
  | 'wrong_user'
  | 'wrong_device';

/** The longest a login token may be valid for, by default: a token for later is a token to replay. */
export const MAX_LOGIN_TTL_SECONDS = 3600;
export type VerifyResult = { ok: true; claims: IdentityClaims } | { ok: false; reason: VerifyFailure };

export interface VerifyIdentityOptions {
  secret: string;
  site: string;
  /** When given, the token must be for this user. */
  userId?: string;
  /** The device presenting it: a token naming another device is refused. */
  deviceId?: string;
  /** An `exp` further ahead than this is refused (`too_long`). Default MAX_LOGIN_TTL_SECONDS. */
  maxTtlSeconds?: number;
  now?: number;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload, 'utf8').digest();
}

export function signIdentity({
  userId,
  secret,
  site,
  ttlSeconds = 600,
  now = Date.now(),
  deviceId,
}: SignIdentityOptions): string {
  if (!secret) throw new TypeError('signIdentity: a secret is required');
  if (!userId) throw new TypeError('signIdentity: a userId is required');
  if (!site) throw new TypeError('signIdentity: a site is required');
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0)
    throw new TypeError('signIdentity: ttlSeconds must be a positive number');
  if (deviceId !== undefined && !deviceId) throw new TypeError('signIdentity: deviceId, when given, must not be empty');
  const claims: IdentityClaims = { site, user: userId, exp: Math.floor(now / 1000 + ttlSeconds) };
  if (deviceId !== undefined) claims.device = deviceId;
  claims.nonce = randomBytes(9).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** Checks the signature in constant time, then expiry, site and user. Never throws on bad input. */
export function verifyIdentity(
  token: string,
  { secret, site, userId, deviceId, maxTtlSeconds = MAX_LOGIN_TTL_SECONDS, now = Date.now() }: VerifyIdentityOptions,
): VerifyResult {
  const opened = openClaims(token, secret);
  if (!opened.ok) return opened;
  const { claims } = opened;
  if (!isClaims(claims)) return { ok: false, reason: 'malformed' };
  if (claims.exp * 1000 <= now) return { ok: false, reason: 'expired' };
  if (claims.exp * 1000 > now + maxTtlSeconds * 1000) return { ok: false, reason: 'too_long' };
  if (claims.site !== site) return { ok: false, reason: 'wrong_site' };
  if (userId !== undefined && claims.user !== userId) return { ok: false, reason: 'wrong_user' };
  if (deviceId !== undefined && claims.device !== undefined && claims.device !== deviceId)
    return { ok: false, reason: 'wrong_device' };
  return { ok: true, claims };
}

function isClaims(v: unknown): v is IdentityClaims {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.site === 'string' &&
    typeof o.user === 'string' &&
    typeof o.exp === 'number' &&
    Number.isFinite(o.exp) &&
    (o.device === undefined || typeof o.device === 'string')
  );
}

// The signing scheme on its own, for other signed tokens (identity/order-token.ts): the same
// format, so a backend that signs logins signs them with the code it has.

/** `base64url(JSON of claims).base64url(HMAC-SHA256(secret, that first part))`. */
export function signClaims(claims: object, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

export type OpenedClaims = { ok: true; claims: unknown } | { ok: false; reason: 'malformed' | 'signature' };

/** A token's JSON payload once its signature checks out (compared in constant time). Never throws. */
export function openClaims(token: unknown, secret: string): OpenedClaims {
  if (!secret || typeof token !== 'string' || token.length > 2000) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  const [payload, sig] = parts;
  if (parts.length !== 2 || !payload || !sig || !B64URL.test(payload) || !B64URL.test(sig))
    return { ok: false, reason: 'malformed' };
  const given = Buffer.from(sig, 'base64url');
  const expected = mac(secret, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  // The last base64url character of a 32-byte MAC carries 2 unused bits: four spellings decode to
  // the same bytes. Only the canonical one is accepted, so one signed token is one string, and
  // single use (keyed on the token's hash) cannot be dodged by respelling it.
  if (given.toString('base64url') !== sig) return { ok: false, reason: 'malformed' };
  // Only a correctly signed payload is parsed.
  try {
    return { ok: true, claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}
