import { Hono } from 'hono';
import { collectBodySchema, LIMITS, type CollectResponse } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import { claimDevice, presentedToken } from '../identity/device-auth.js';
import { bindOnCollect } from '../identity/server-cookie.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { checkQuerySite, parse, readJson } from '../request.js';
import { noteEvents } from '../triggers/episodes.js';

/** POST /v1/collect: one device's batch, stored in one transaction, idempotent by event id. */
export function collectRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/collect', bodyLimit(LIMITS.batchBytes), async (c) => {
    const body = parse(collectBodySchema, await readJson(c));
    checkQuerySite(c, body.site);
    await requireOrigin(ctx, c, body.site);
    const kind = body.events.find((e) => e.device)?.device;
    // Claimed, the device exists (adopted now if it was never seen), and this is its token hash.
    const tokenHash = await claimDevice(c, ctx, body.site, body.deviceId, presentedToken(c, body.deviceToken), kind);
    const r = await ctx.store.ingest(body.site, body.deviceId, body.events, tokenHash, kind);
    ctx.metrics.events(r.accepted, r.duplicates);
    if (r.orderConflicts) ctx.metrics.orderConflicts(r.orderConflicts);
    // The person's trigger episodes (nothing when the site has none); never fails the collect.
    await noteEvents(ctx, body.site, body.deviceId, body.events, ctx.now());
    // The server-set cookie rides on this answer: never a request of its own.
    await bindOnCollect(c, ctx, body.site, body.deviceId);
    const res: CollectResponse = { accepted: r.accepted, duplicates: r.duplicates };
    return c.json(res, 202, { 'Cache-Control': 'no-store' });
  });
  return app;
}
