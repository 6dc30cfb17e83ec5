import type { DeviceKind } from '@cairn/schema';
import type { AppCtx, C } from '../context.js';
import { HttpError, unauthorized } from '../errors.js';
import { bearer } from '../request.js';
import type { DeviceRecord } from '../store/types.js';
import { hashToken, MIN_CLIENT_TOKEN, tokenMatches } from './device-token.js';

// Who may act for a device: the holder of its token, and nobody else. Every route about one device
// goes through here: the writes (collect, identify, opt-ins) with claimDevice, the profile with
// requireDeviceToken, the logout with revokeDeviceToken.
//
// A token is good while it matches, is not revoked (logout) and was used in the last 13 months.
// Only a request that proved itself is counted against the device's rate limit
// (`c.var.limitDevice`), so a stranger's refused requests use none of its allowance.

const DAY_MS = 86_400_000;
/** A device's token expires after this long unused: 13 months, as the SDK's id cookie does. */
export const DEVICE_TOKEN_TTL_MS = 396 * DAY_MS;

const tokenRequired = () => unauthorized('the device token is required as "Authorization: Bearer <token>"');
/** Wrong, revoked, expired, or an unknown device on a read: one answer, which tells nothing about which. */
const wrongToken = () => unauthorized('wrong device token');

/**
 * The device token a request presents: the Bearer one, else the body's `deviceToken` (sendBeacon,
 * which cannot set headers). Both present must agree, or which one the client meant is unknowable.
 */
export function presentedToken(c: C, inBody: string | undefined): string | null {
  const header = bearer(c);
  if (header !== null && inBody !== undefined && header !== inBody) {
    throw new HttpError(
      400,
      'invalid_request',
      'deviceToken: differs from the Authorization Bearer token; send one, or the same in both',
      'deviceToken',
    );
  }
  return header ?? inBody ?? null;
}

const lastUse = (device: DeviceRecord) => device.lastSeenAt ?? device.createdAt;

/** `token` is the device's, and still good. Constant time in the token (tokenMatches). */
function holds(device: DeviceRecord, token: string, now: number): boolean {
  return (
    tokenMatches(token, device.tokenHash) && device.revokedAt === null && now - lastUse(device) <= DEVICE_TOKEN_TTL_MS
  );
}

/** Counts the proven request against the device's limit, and records the use at most once a day. */
async function used(c: C, ctx: AppCtx, device: DeviceRecord, now: number): Promise<void> {
  await c.var.limitDevice(device.site, device.deviceId);
  if (now - lastUse(device) >= DAY_MS) await ctx.store.touchDevice(device.site, device.deviceId, now);
}

/**
 * A write about a device: a device the server knows needs its token; one it has not seen is
 * adopted with the token its client presents (32 characters or more; the SDK makes one with each
 * device id), of `kind`. Made by a concurrent first request meanwhile, that one's token decides.
 * Resolves to the device's token hash.
 */
export async function claimDevice(
  c: C,
  ctx: AppCtx,
  site: string,
  deviceId: string,
  token: string | null,
  kind?: DeviceKind,
): Promise<string> {
  if (token === null) throw tokenRequired();
  const now = ctx.now();
  const device = await ctx.store.getDevice(site, deviceId);
  if (device) {
    if (!holds(device, token, now)) throw wrongToken();
    await used(c, ctx, device, now);
    return device.tokenHash;
  }
  if (token.length < MIN_CLIENT_TOKEN)
    throw unauthorized(
      `a device the server has not seen needs its own token of ${MIN_CLIENT_TOKEN} characters or more, as "Authorization: Bearer <token>"`,
    );
  const tokenHash = hashToken(token);
  await c.var.limitDevice(site, deviceId);
  if (await ctx.store.ensureDevice(site, deviceId, tokenHash, kind)) return tokenHash;
  const made = await ctx.store.getDevice(site, deviceId);
  if (!made || !holds(made, token, now)) throw wrongToken();
  return made.tokenHash;
}

/** GET /v1/profile's rule: a token is required, and an unknown device answers as a wrong token does. */
export async function requireDeviceToken(
  c: C,
  ctx: AppCtx,
  site: string,
  deviceId: string,
  token: string | null,
): Promise<DeviceRecord> {
  if (token === null) throw tokenRequired();
  const now = ctx.now();
  const device = await ctx.store.getDevice(site, deviceId);
  if (!device || !holds(device, token, now)) throw wrongToken();
  await used(c, ctx, device, now);
  return device;
}

/**
 * Logout: revokes the device's token, for its holder. Idempotent: the token of a device revoked
 * already (or expired) still proves who asks, and the answer is the same. A device never seen is
 * recorded as revoked (a client token, 32 characters or more), so that a late request carrying the
 * token cannot adopt it afterwards. Throws 401 as a wrong token does (unless `quiet`: then
 * resolves to false).
 */
export async function revokeDeviceToken(
  c: C,
  ctx: AppCtx,
  site: string,
  deviceId: string,
  token: string | null,
  quiet = false,
): Promise<boolean> {
  const refuse = () => {
    if (quiet) return false;
    throw token === null ? tokenRequired() : wrongToken();
  };
  if (token === null) return refuse();
  const device = await ctx.store.getDevice(site, deviceId);
  if (device ? !tokenMatches(token, device.tokenHash) : token.length < MIN_CLIENT_TOKEN) return refuse();
  if (!quiet) await c.var.limitDevice(site, deviceId);
  // Matched on the hash in the same transaction: a concurrent first request with another token wins or loses whole.
  if (!(await ctx.store.revokeDevice(site, deviceId, hashToken(token), ctx.now()))) return refuse();
  return true;
}
