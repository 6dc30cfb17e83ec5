import { Hono } from 'hono';
import { identifyBodySchema, type IdentifyResponse } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import { HttpError, unauthorized } from '../errors.js';
import { claimDevice } from '../identity/device-auth.js';
import { verifyIdentity } from '../identity/identity-token.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { bearer, checkQuerySite, parse, readJson } from '../request.js';

/** POST /v1/identify: links a device to the user a signed login token names, and answers the merged profile. */
export function identifyRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/identify', bodyLimit(8 * 1024), async (c) => {
    const body = parse(identifyBodySchema, await readJson(c));
    checkQuerySite(c, body.site);
    await requireOrigin(ctx, c, body.site);
    const secret = ctx.identitySecretFor(body.site);
    if (!secret) throw unauthorized('identity is not enabled on this server: set CAIRN_IDENTITY_SECRET');
    const v = verifyIdentity(body.token, {
      secret,
      site: body.site,
      userId: body.userId,
      now: ctx.now(),
    });
    if (!v.ok) {
      ctx.log.warn({ event: 'identify_refused', reason: v.reason, site: body.site }, 'identity token refused');
      throw new HttpError(
        401,
        'invalid_identity',
        `the identity token is invalid (${v.reason.replace('_', ' ')})`,
        'token',
      );
    }

    const { made } = await claimDevice(c, ctx.store, body.site, body.deviceId, bearer(c), {
      create: { kind: body.device },
    });
    const linked = await ctx.store.link(body.site, body.deviceId, body.userId, ctx.now());
    if (linked === 'conflict') {
      throw new HttpError(
        409,
        'device_linked',
        'this device is linked to another user: start a fresh device and identify again',
      );
    }
    const res: IdentifyResponse = { profile: await ctx.store.profile(body.site, body.deviceId) };
    if (made) res.deviceToken = made;
    return c.json(res, 200, { 'Cache-Control': 'private, no-store' });
  });
  return app;
}
