import { Hono } from 'hono';
import { optinBodySchema } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import { claimDevice } from '../identity/device-auth.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { bearer, checkQuerySite, parse, readJson } from '../request.js';

/**
 * POST /v1/optins: an email opt-in with its consent proof. Idempotent by `id`: 201 the first time,
 * 200 after. It needs the device's token, as every write does: an opt-in ends up in the (merged)
 * profile and the export, so nobody else may write one for it. A device never seen is adopted with
 * the token its client presents, so nobody can file consent for a device id before its owner.
 */
export function optinRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/optins', bodyLimit(16 * 1024), async (c) => {
    const body = parse(optinBodySchema, await readJson(c));
    checkQuerySite(c, body.site);
    await requireOrigin(ctx, c, body.site);
    await claimDevice(c, ctx, body.site, body.deviceId, bearer(c));
    const r = await ctx.store.addOptin(body);
    return c.json({ id: body.id, status: r }, r === 'created' ? 201 : 200, { 'Cache-Control': 'no-store' });
  });
  return app;
}
