import { Hono } from 'hono';
import { identifyBodySchema, type IdentifyResponse } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import { HttpError, unauthorized } from '../errors.js';
import { claimDevice, revokeDeviceToken } from '../identity/device-auth.js';
import { hashToken } from '../identity/device-token.js';
import { verifyIdentity, type VerifyFailure } from '../identity/identity-token.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { bearer, checkQuerySite, parse, readJson } from '../request.js';

/** Why a login token is refused, as the 401 says it. */
const REFUSALS: Record<VerifyFailure | 'used', string> = {
  malformed: 'malformed',
  signature: 'bad signature',
  expired: 'expired',
  too_long: 'its exp is too far ahead',
  wrong_site: 'wrong site',
  wrong_user: 'wrong user',
  wrong_device: 'it is for another device',
  used: 'it linked another device already: a login token links one device',
};

/** Used logins are kept this long past their expiry: instances whose clocks differ a little still refuse a replay. */
const PRUNE_MARGIN_SECONDS = 600;

/**
 * POST /v1/identify: links a device to the user a signed login token names, and answers the merged
 * profile. A login token links one device, once: the same device presenting it again is a no-op,
 * another device gets 401. `previous`, the device this browser logged out of while the logout could
 * not reach the server, is revoked once the new one is linked.
 */
export function identifyRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/identify', bodyLimit(8 * 1024), async (c) => {
    const body = parse(identifyBodySchema, await readJson(c));
    checkQuerySite(c, body.site);
    await requireOrigin(ctx, c, body.site);
    const secret = ctx.identitySecretFor(body.site);
    if (!secret) throw unauthorized('identity is not enabled on this server: set CAIRN_IDENTITY_SECRET');
    const refuse = (reason: VerifyFailure | 'used') => {
      ctx.log.warn({ event: 'identify_refused', reason, site: body.site }, 'identity token refused');
      return new HttpError(401, 'invalid_identity', `the identity token is invalid (${REFUSALS[reason]})`, 'token');
    };
    const now = ctx.now();
    const v = verifyIdentity(body.token, {
      secret,
      site: body.site,
      userId: body.userId,
      deviceId: body.deviceId,
      maxTtlSeconds: ctx.maxLoginTtlSeconds,
      now,
    });
    if (!v.ok) throw refuse(v.reason);

    const login = { tokenHash: hashToken(body.token), exp: v.claims.exp };
    // Checked before the device is claimed, which may adopt a device never seen: a replay makes
    // nothing. The link below decides for good (two devices racing both pass here).
    const usedBy = await ctx.store.loginUsedBy(body.site, login.tokenHash);
    if (usedBy !== null && usedBy !== body.deviceId) throw refuse('used');
    await claimDevice(c, ctx, body.site, body.deviceId, bearer(c), body.device);
    const linked = await ctx.store.link(body.site, body.deviceId, body.userId, now, login);
    if (linked === 'login_used') throw refuse('used');
    if (linked === 'conflict') {
      throw new HttpError(
        409,
        'device_linked',
        'this device is linked to another user: start a fresh device and identify again',
      );
    }
    if (body.previous && body.previous.deviceId !== body.deviceId)
      await revokeDeviceToken(c, ctx, body.site, body.previous.deviceId, body.previous.token, true);
    // Opportunistic: a used login is worth keeping only until it expires.
    await ctx.store.pruneUsedLogins(Math.floor(now / 1000) - PRUNE_MARGIN_SECONDS).catch((err: unknown) => {
      ctx.log.warn({ event: 'prune_failed', err: String(err) }, 'used logins not pruned');
    });
    const res: IdentifyResponse = { profile: await ctx.store.profile(body.site, body.deviceId) };
    return c.json(res, 200, { 'Cache-Control': 'private, no-store' });
  });
  return app;
}
