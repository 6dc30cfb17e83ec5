import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { DeviceKind } from '@cairn/schema';
import type { DeviceRecord, Store } from './store/types.js';
import type { SiteConfigs } from './site-configs.js';
import type { Log } from './log.js';
import type { Metrics } from './metrics.js';
import type { SdkBundle } from './sdk-bundle.js';
import type { RateLimiter } from './rate-limit.js';
import { HttpError, unauthorized } from './errors.js';
import { bearer } from './request.js';
import { hashToken, safeEqual, tokenForNewDevice, tokenMatches } from './tokens.js';

// What every route module shares: the dependencies, and the checks several routes make.

export type Env = {
  Bindings: { incoming?: IncomingMessage };
  Variables: { site?: string };
};
export type C = Context<Env>;

export interface AppCtx {
  store: Store;
  configs: SiteConfigs;
  adminKey: string | undefined;
  identitySecret: string | undefined;
  /** Origins allowed for every site (the --origins list). */
  origins: Set<string>;
  log: Log;
  metrics: Metrics;
  now: () => number;
  sdk: SdkBundle;
  deviceLimiter: RateLimiter | null;
}

/** Whether a browser origin may call the API for this site (or, site unknown, for any site this instance knows). */
export async function originAllowed(ctx: AppCtx, origin: string, site: string | undefined): Promise<boolean> {
  if (ctx.origins.has(origin)) return true;
  if (!site) return ctx.configs.knownOrigins.has(origin);
  const loaded = await ctx.configs.get(site);
  return loaded?.config.origins.includes(origin) ?? false;
}

/** Data endpoints refuse browsers from origins the site has not configured: nothing is read or written. */
export async function requireOrigin(ctx: AppCtx, c: C, site: string): Promise<void> {
  c.set('site', site);
  const origin = c.req.header('origin');
  if (origin === undefined || (await originAllowed(ctx, origin, site))) return;
  throw new HttpError(403, 'origin_not_allowed', `this origin is not allowed for site "${site}"; add it to the site config's "origins"`);
}

/** A `?site=` on a request whose body names its site must agree with it. */
export function checkQuerySite(c: C, site: string): void {
  const q = c.req.query('site');
  if (q !== undefined && q !== site) throw new HttpError(400, 'invalid_request', 'site: the query and the body name different sites', 'site');
}

/**
 * The device check of the routes that act for one device (collect, identify, opt-ins): the token is
 * the device's key, so a device the server knows needs its own; `open` lets a token-less request write
 * to an anonymous one (collect: a client whose first answer was lost can still deliver). Only then is
 * the request counted against the device's rate limit, so a stranger's refused requests use none of
 * its allowance. With `create`, a device seen for the first time is made now, keeping the token its
 * client presents, else a new one (`made`, for the answer); made by a concurrent first request
 * meanwhile, that one's token decides. Resolves to the device's token hash (unless an unknown device
 * was not to be made).
 */
export async function claimDevice(
  ctx: AppCtx,
  site: string,
  deviceId: string,
  token: string | null,
  o: { open?: boolean; create?: { kind?: DeviceKind | undefined } } = {},
): Promise<{ tokenHash?: string; made?: string }> {
  const refused = (d: DeviceRecord) => (token === null ? !o.open || d.userId !== null : !tokenMatches(token, d.tokenHash));
  const no = () => unauthorized('this device needs its device token as "Authorization: Bearer <token>"');
  const device = await ctx.store.getDevice(site, deviceId);
  if (device && refused(device)) throw no();
  limitDevice(ctx, site, deviceId);
  if (device || !o.create) return { tokenHash: device?.tokenHash };
  const fresh = tokenForNewDevice(token);
  const tokenHash = hashToken(fresh.token);
  if (await ctx.store.ensureDevice(site, deviceId, tokenHash, o.create.kind)) return fresh.made ? { tokenHash, made: fresh.token } : { tokenHash };
  const now = await ctx.store.getDevice(site, deviceId);
  if (!now || refused(now)) throw no();
  return { tokenHash: now.tokenHash };
}

export function limitDevice(ctx: AppCtx, site: string, deviceId: string): void {
  const wait = ctx.deviceLimiter?.take(`${site}\u0000${deviceId}`) ?? 0;
  if (wait > 0) {
    ctx.metrics.rateLimited('device');
    throw new HttpError(429, 'rate_limited', 'too many requests from this device; retry later', undefined, undefined, { 'Retry-After': String(wait) });
  }
}

export function requireAdmin(ctx: AppCtx, c: C): void {
  requireAdminKey(c, ctx.adminKey);
}

/** The admin key as Bearer, compared in constant time; 403 when the server has none configured. */
export function requireAdminKey(c: C, adminKey: string | undefined): void {
  if (!adminKey) throw new HttpError(403, 'admin_disabled', 'admin endpoints are disabled: set CAIRN_ADMIN_KEY');
  const key = bearer(c);
  if (key === null || !safeEqual(key, adminKey)) throw new HttpError(401, 'unauthorized', 'admin key required as "Authorization: Bearer <key>"');
}
