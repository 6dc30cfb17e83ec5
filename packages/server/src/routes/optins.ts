import type { Hono } from 'hono';
import { optinBodySchema } from '@cairn/schema';
import { bearer, parse, readJson } from '../request.js';
import { checkQuerySite, claimDevice, requireOrigin, type AppCtx, type Env } from '../context.js';
import { limit } from './collect.js';

/**
 * POST /v1/optins: an email opt-in with its consent proof. Idempotent by `id`: 201 the first time,
 * 200 after. A device the server knows needs its token: an opt-in ends up in the (merged) profile
 * and the export, so nobody else may write one for it.
 */
export function optinRoutes(app: Hono<Env>, ctx: AppCtx): void {
  app.post('/v1/optins', limit(16 * 1024), async (c) => {
    const body = parse(optinBodySchema, await readJson(c));
    checkQuerySite(c, body.site);
    await requireOrigin(ctx, c, body.site);
    await claimDevice(ctx, body.site, body.deviceId, bearer(c));
    const r = await ctx.store.addOptin(body);
    return c.json({ id: body.id, status: r }, r === 'created' ? 201 : 200, { 'Cache-Control': 'no-store' });
  });
}
