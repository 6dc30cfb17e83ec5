import { Hono } from 'hono';
import { recoverBodySchema, type RecoverResponse } from '@cairn/schema';
import type { AppCtx, C, Env } from '../context.js';
import { DEVICE_TOKEN_TTL_MS } from '../identity/device-auth.js';
import { hashToken } from '../identity/device-token.js';
import {
  cookieJar,
  hashSecret,
  newSecret,
  presentedSecret,
  refused,
  requestCookies,
  SERVER_COOKIE_MAX_AGE,
  serverCookieOf,
  writeServerCookie,
} from '../identity/server-cookie.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { checkQuerySite, parse, parseQuery, readJson, siteQuery } from '../request.js';

// What the server-set cookie (identity/server-cookie.ts) proves, and to whom:
// - POST /v1/recover gives a device back only to a request carrying a secret the server issued and
//   still binds to it (HttpOnly: script can neither read nor forge it). It answers with the device
//   id, a fresh token the server made (the old one went with the wiped storage) and the profile,
//   and rotates the secret: a copy taken before is bound to nothing afterwards. The new cookie
//   lasts what the binding has left of its 13 months: a recovery never extends it.
// - Without such a cookie it answers 204 and writes nothing: no device, no binding, no Set-Cookie.
//   Never an expiry either: of two tabs recovering with one cookie, the loser's 204 must not delete
//   the cookie the winner just got; a cookie bound to nothing recovers nothing, and the next collect
//   replaces it.
// - The cookie's name twice in the request (one planted on a parent domain by a sibling subdomain's
//   script): 204, nothing trusted, nothing rotated or expired.
// - A revoked device (logout), an expired token (13 months unused) or an erased user's device
//   recovers nothing.
// - DELETE /v1/server-cookie (a denial, a reset) unbinds the secret presented and expires the cookie.

const noStore = { 'Cache-Control': 'no-store' };

export function recoverRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  /** Nothing to recover: nothing is written. */
  const nothing = (c: C) => c.body(null, 204, noStore);

  app.post('/v1/recover', bodyLimit(1024), async (c) => {
    const { site } = parse(recoverBodySchema, await readJson(c));
    checkQuerySite(c, site);
    await requireOrigin(ctx, c, site);
    const cookie = await serverCookieOf(ctx, site);
    const jar = cookie && cookieJar(c, ctx, cookie);
    if (!jar || refused(c)) return nothing(c);
    const { secret } = presentedSecret(c, jar);
    if (secret === undefined) return nothing(c);
    const now = ctx.now();
    const secretHash = hashSecret(secret);
    const binding = await ctx.store.serverCookieDevice(site, secretHash);
    const device = binding === null ? null : await ctx.store.getDevice(site, binding.deviceId);
    const maxAge = binding === null ? 0 : Math.floor((binding.boundAt - now) / 1000) + SERVER_COOKIE_MAX_AGE;
    if (
      binding === null ||
      !device ||
      device.revokedAt !== null ||
      now - (device.lastSeenAt ?? device.createdAt) > DEVICE_TOKEN_TTL_MS ||
      maxAge <= 0
    )
      return nothing(c);
    const { deviceId } = binding;
    await c.var.limitDevice(site, deviceId);
    const deviceToken = newSecret();
    const next = newSecret();
    if (
      !(await ctx.store.rotateServerCookie(site, deviceId, secretHash, hashSecret(next), hashToken(deviceToken), now))
    )
      return nothing(c);
    const res: RecoverResponse = { deviceId, deviceToken, profile: await ctx.store.profile(site, deviceId) };
    writeServerCookie(c, jar, next, maxAge);
    return c.json(res, 200, noStore);
  });

  app.delete('/v1/server-cookie', async (c) => {
    const { site } = parseQuery(c, siteQuery);
    await requireOrigin(ctx, c, site);
    const cookie = await serverCookieOf(ctx, site);
    const jar = cookie && cookieJar(c, ctx, cookie);
    if (!jar) return nothing(c);
    // Every value of the name is unbound: a tossed one with the visitor's among them is not a reason to keep it.
    for (const value of requestCookies(c, jar.name).slice(0, 4))
      await ctx.store.unbindServerCookie(site, hashSecret(value));
    writeServerCookie(c, jar, null);
    return nothing(c);
  });
  return app;
}
