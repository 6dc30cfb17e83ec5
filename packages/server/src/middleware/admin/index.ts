import type { MiddlewareHandler } from 'hono';
import type { C, Env } from '../../context.js';
import { HttpError } from '../../errors.js';
import { safeEqual } from '../../identity/device-token.js';
import { createKeyRing, type AdminScope, type KeyRing } from '../../keys/site-keys.js';
import type { Metrics } from '../../metrics.js';
import type { RateLimiter } from '../../rate-limit.js';
import { bearer, readJson } from '../../request.js';
import { clientIp } from '../ip-rate-limit/index.js';

// Admin routes: an admin key as "Authorization: Bearer <key>", compared in constant time. The global
// key reaches every site, a site's key its own site only. Each client address has a small allowance
// of failed keys: once it is spent, every admin request from that address gets 429, the right key
// included, so that a guess cannot be told right from wrong until the allowance comes back.

export interface AdminAuth {
  keys: KeyRing;
  /** Failed keys per client address; null when they are not limited. */
  failures: RateLimiter | null;
  /** Take the client address from X-Forwarded-For, as the IP rate limit does. */
  trustProxy: boolean;
  metrics?: Metrics | undefined;
}

/**
 * Where an admin route finds the site it reads or changes: its id; undefined when the request names
 * none (a site's key is then refused); null for a route that reads and changes no site's data.
 */
export type SiteOf = (c: C) => string | null | undefined | Promise<string | null | undefined>;

/** `?site=`, for the GET and DELETE routes. */
export const siteFromQuery: SiteOf = (c) => c.req.query('site');

/** The `site` of a JSON body (read once; the handler's readJson gets the same text). */
export const siteFromBody: SiteOf = async (c) => {
  const body = (await readJson(c)) as { site?: unknown };
  return typeof body.site === 'string' ? body.site : undefined;
};

/** A lone global key, without a failure limit: for route modules mounted on their own (tests). */
function asAuth(auth: AdminAuth | string | undefined): AdminAuth {
  if (typeof auth === 'object') return auth;
  return { keys: createKeyRing({ adminKey: auth }), failures: null, trustProxy: false };
}

/** 429 while the client's allowance of failed keys is spent, before any key is compared. */
export async function checkAllowance(auth: AdminAuth, c: C): Promise<string> {
  const ip = clientIp(c, auth.trustProxy);
  const wait = (await auth.failures?.peek(ip)) ?? 0;
  if (wait > 0) {
    auth.metrics?.rateLimited('admin_key');
    throw new HttpError(
      429,
      'rate_limited',
      'too many wrong keys from this address; retry later',
      undefined,
      undefined,
      { 'Retry-After': String(wait) },
    );
  }
  return ip;
}

/** The presented key; a missing or malformed one counts as a failure, as a wrong one does. */
export async function presentedKey(auth: AdminAuth, c: C, ip: string): Promise<string> {
  let key: string | null = null;
  try {
    key = bearer(c);
  } catch {}
  if (key === null) {
    await auth.failures?.take(ip);
    throw new HttpError(401, 'unauthorized', 'admin key required as "Authorization: Bearer <key>"');
  }
  return key;
}

export function adminOnly(authOrKey: AdminAuth | string | undefined, siteOf: SiteOf): MiddlewareHandler<Env> {
  const auth = asAuth(authOrKey);
  return async (c, next) => {
    if (!auth.keys.adminEnabled)
      throw new HttpError(403, 'admin_disabled', 'admin endpoints are disabled: set CAIRN_ADMIN_KEY');
    const ip = await checkAllowance(auth, c);
    const scope: AdminScope | null = auth.keys.adminScope(await presentedKey(auth, c, ip));
    if (scope === null) {
      await auth.failures?.take(ip);
      throw new HttpError(401, 'unauthorized', 'admin key required as "Authorization: Bearer <key>"');
    }
    if (scope.kind === 'site') {
      const site = await siteOf(c);
      if (site !== null && (site === undefined || !scope.covers(site)))
        throw new HttpError(
          403,
          'forbidden_site',
          "this admin key is another site's: name its own site, or use the global admin key",
          'site',
        );
    }
    await next();
  };
}

/**
 * One fixed key as "Authorization: Bearer <key>" (the metrics key, as Prometheus sends it), under the
 * same allowance of failed keys as the admin routes. No key configured: the route is open.
 */
export function keyOnly(auth: AdminAuth, key: string | undefined, realm: string): MiddlewareHandler<Env> {
  return async (c, next) => {
    if (key) {
      const ip = await checkAllowance(auth, c);
      let presented: string | null = null;
      try {
        presented = bearer(c);
      } catch {}
      if (presented === null || !safeEqual(presented, key)) {
        await auth.failures?.take(ip);
        throw new HttpError(
          401,
          'unauthorized',
          `${realm} key required as "Authorization: Bearer <key>"`,
          undefined,
          undefined,
          {
            'WWW-Authenticate': `Bearer realm="${realm}"`,
          },
        );
      }
    }
    await next();
  };
}
