import { Hono } from 'hono';
import { z } from 'zod';
import { deviceIdSchema, siteIdSchema } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import { requireDeviceToken } from '../identity/device-auth.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { bearer, parseQuery } from '../request.js';

export const deviceQuery = z.object({ site: siteIdSchema, deviceId: deviceIdSchema });

/** GET /v1/profile: the device's profile (the user's merged one once linked), for the holder of its token. */
export function profileRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/v1/profile', async (c) => {
    const q = parseQuery(c, deviceQuery);
    await requireOrigin(ctx, c, q.site);
    await requireDeviceToken(c, ctx.store, q.site, q.deviceId, bearer(c));
    const profile = await ctx.store.profile(q.site, q.deviceId);
    return c.json(profile, 200, { 'Cache-Control': 'private, no-store' });
  });
  return app;
}
