import { Hono } from 'hono';
import { recoverBodySchema, type RecoverResponse } from '@cairn/schema';
import type { AppCtx, C, Env } from '../context.js';
import { DEVICE_TOKEN_TTL_MS } from '../identity/device-auth.js';
import { hashToken } from '../identity/device-token.js';
import {
  hashSecret,
  newSecret,
  presentedSecret,
  refused,
  serverCookieOf,
  writeServerCookie,
  type ServerCookie,
} from '../identity/server-cookie.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { checkQuerySite, parse, parseQuery, readJson, siteQuery } from '../request.js';

// What the server-set cookie (identity/server-cookie.ts) proves, and to whom:
// - POST /v1/recover gives a device back only to a request carrying a secret the server issued and
//   still binds to it (HttpOnly: script can neither read nor forge it). It answers with the device
//   id, a fresh token the server made (the old one went with the wiped storage) and the profile,
//   and rotates the secret: a copy taken before is bound to nothing afterwards.
// - Without such a cookie it answers 204 and writes nothing: no device, no binding.
// - A revoked device (logout), an expired token (13 months unused) or an erased user's device
//   recovers nothing.
// - DELETE /v1/server-cookie (a denial, a reset) unbinds the secret presented and expires the cookie.

const noStore = { 'Cache-Control': 'no-store' };

export function recoverRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  /** Nothing to recover: a stale cookie is expired, and nothing is written. */
  const nothing = (c: C, cookie?: ServerCookie) => {
    if (cookie) writeServerCookie(c, ctx, cookie, null);
    return c.body(null, 204, noStore);
  };

  app.post('/v1/recover', bodyLimit(1024), async (c) => {
    const { site } = parse(recoverBodySchema, await readJson(c));
    checkQuerySite(c, site);
    await requireOrigin(ctx, c, site);
    const cookie = await serverCookieOf(ctx, site);
    if (!cookie) return nothing(c);
    const secret = presentedSecret(c, cookie);
    if (secret === undefined) return nothing(c);
    if (refused(c)) return nothing(c, cookie);
    const now = ctx.now();
    const secretHash = hashSecret(secret);
    const deviceId = await ctx.store.serverCookieDevice(site, secretHash);
    const device = deviceId === null ? null : await ctx.store.getDevice(site, deviceId);
    if (
      deviceId === null ||
      !device ||
      device.revokedAt !== null ||
      now - (device.lastSeenAt ?? device.createdAt) > DEVICE_TOKEN_TTL_MS
    )
      return nothing(c, cookie);
    await c.var.limitDevice(site, deviceId);
    const deviceToken = newSecret();
    const next = newSecret();
    if (
      !(await ctx.store.rotateServerCookie(site, deviceId, secretHash, hashSecret(next), hashToken(deviceToken), now))
    )
      return nothing(c, cookie);
    const res: RecoverResponse = { deviceId, deviceToken, profile: await ctx.store.profile(site, deviceId) };
    writeServerCookie(c, ctx, cookie, next);
    return c.json(res, 200, noStore);
  });

  app.delete('/v1/server-cookie', async (c) => {
    const { site } = parseQuery(c, siteQuery);
    await requireOrigin(ctx, c, site);
    const cookie = await serverCookieOf(ctx, site);
    if (!cookie) return nothing(c);
    const secret = presentedSecret(c, cookie);
    if (secret !== undefined) await ctx.store.unbindServerCookie(site, hashSecret(secret));
    return nothing(c, cookie);
  });
  return app;
}
