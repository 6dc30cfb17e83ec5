import { Hono } from 'hono';
import { orderConfirmBodySchema, type OrderConfirmResponse } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import { HttpError, unauthorized } from '../errors.js';
import { verifyOrder } from '../identity/order-token.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { checkQuerySite, parse, readJson } from '../request.js';

/**
 * POST /v1/orders/confirm: the shop's backend confirms an order with a token signed with the
 * site's identity secret. Idempotent: the same confirmation again is a no-op; a different one for
 * an order already confirmed is refused (409), so a confirmed value cannot be rewritten.
 */
export function orderRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/orders/confirm', bodyLimit(8 * 1024), async (c) => {
    const body = parse(orderConfirmBodySchema, await readJson(c));
    checkQuerySite(c, body.site);
    await requireOrigin(ctx, c, body.site);
    const secret = ctx.identitySecretFor(body.site);
    if (!secret)
      throw unauthorized('order confirmation needs an identity secret for this site: set CAIRN_IDENTITY_SECRET');
    const v = verifyOrder(body.token, { secret, site: body.site, now: ctx.now() });
    if (!v.ok) {
      ctx.log.warn({ event: 'order_confirm_refused', reason: v.reason, site: body.site }, 'order token refused');
      throw new HttpError(401, 'invalid_order_token', `the order token is invalid: ${v.detail}`, 'token');
    }
    const { order, value, currency, device } = v.claims;
    const result = await ctx.store.confirmOrder(body.site, {
      orderId: order,
      value,
      currency,
      deviceId: device ?? null,
      confirmedAt: ctx.now(),
    });
    if (result === 'conflict') {
      throw new HttpError(
        409,
        'order_confirmed',
        `order "${order}" was confirmed already with another value, currency or device; a confirmation is never rewritten`,
        'token',
      );
    }
    const res: OrderConfirmResponse = { orderId: order, status: result };
    return c.json(res, 200, { 'Cache-Control': 'no-store' });
  });
  return app;
}
