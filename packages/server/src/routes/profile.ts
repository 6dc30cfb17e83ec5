import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { deviceIdSchema, siteIdSchema } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import { notModified, quote } from '../http-cache.js';
import { requireDeviceToken } from '../identity/device-auth.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { bearer, parseQuery } from '../request.js';

export const deviceQuery = z.object({ site: siteIdSchema, deviceId: deviceIdSchema });

/** A strong ETag of the profile as sent: the same JSON, the same tag (sha-256, base64url, 22 characters). */
export function profileEtag(json: string): string {
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

/**
 * GET /v1/profile: the device's profile (the user's merged one once linked), for the holder of its
 * token. Revalidated on every use (private, no-cache): If-None-Match with the current ETag answers
 * 304 with no body, but only after the token check, so a stranger learns nothing from a 304.
 */
export function profileRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/v1/profile', async (c) => {
    const q = parseQuery(c, deviceQuery);
    await requireOrigin(ctx, c, q.site);
    await requireDeviceToken(c, ctx, q.site, q.deviceId, bearer(c));
    const json = JSON.stringify(await ctx.store.profile(q.site, q.deviceId));
    const etag = profileEtag(json);
    const headers = { ETag: quote(etag), 'Cache-Control': 'private, no-cache' };
    if (notModified(c, etag)) return c.body(null, 304, headers);
    return c.body(json, 200, { ...headers, 'Content-Type': 'application/json' });
  });
  return app;
}
