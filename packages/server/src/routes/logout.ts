import { Hono } from 'hono';
import { logoutBodySchema, type LogoutResponse } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import { presentedToken, revokeDeviceToken } from '../identity/device-auth.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { checkQuerySite, parse, readJson } from '../request.js';

/**
 * POST /v1/logout: revokes the device's token, for its holder (Bearer, or `deviceToken` in the body
 * of a beacon). From then on the device reads and writes nothing: every request with that token is
 * refused as a wrong token is. Its link to the user stays, for the reports and an erasure, but it
 * can no longer see the user's profile. Idempotent. With `reason: 'denied'` (the visitor refused
 * consent) the device is also recorded as refused, for the triggers.
 */
export function logoutRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/logout', bodyLimit(4 * 1024), async (c) => {
    const body = parse(logoutBodySchema, await readJson(c));
    checkQuerySite(c, body.site);
    await requireOrigin(ctx, c, body.site);
    await revokeDeviceToken(c, ctx, body.site, body.deviceId, presentedToken(c, body.deviceToken));
    // A refusal of consent: recorded on the device (no trigger fires for its person from now on), and
    // every episode of that person not yet delivered is cancelled ('denied').
    if (body.reason === 'denied') await ctx.store.denyDevice(body.site, body.deviceId, ctx.now());
    const res: LogoutResponse = { revoked: true };
    return c.json(res, 200, { 'Cache-Control': 'no-store' });
  });
  return app;
}
