import type { Hono } from 'hono';
import { z } from 'zod';
import { deviceIdSchema, siteIdSchema } from '@cairn/schema';
import { unauthorized } from '../errors.js';
import { bearer, parseQuery } from '../request.js';
import { tokenMatches } from '../tokens.js';
import { limitDevice, requireOrigin, type AppCtx, type Env } from '../context.js';

export const deviceQuery = z.object({ site: siteIdSchema, deviceId: deviceIdSchema });

/** GET /v1/profile: the device's profile (the user's merged one once linked), for the holder of its token. */
export function profileRoutes(app: Hono<Env>, ctx: AppCtx): void {
  app.get('/v1/profile', async (c) => {
    const q = parseQuery(c, deviceQuery);
    await requireOrigin(ctx, c, q.site);
    const token = bearer(c);
    if (token === null) throw unauthorized('the device token is required as "Authorization: Bearer <token>"');
    const device = await ctx.store.getDevice(q.site, q.deviceId);
    // Unknown device and wrong token answer alike, so the answer tells nothing about which devices exist.
    if (!device || !tokenMatches(token, device.tokenHash)) throw unauthorized('wrong device token');
    limitDevice(ctx, q.site, q.deviceId);
    const profile = await ctx.store.profile(q.site, q.deviceId);
    return c.json(profile, 200, { 'Cache-Control': 'private, no-store' });
  });
}
