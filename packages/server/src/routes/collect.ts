import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { collectBodySchema, LIMITS, type CollectResponse } from '@cairn/schema';
import { HttpError } from '../errors.js';
import { bearer, parse, readJson } from '../request.js';
import { checkQuerySite, claimDevice, requireOrigin, type AppCtx, type Env } from '../context.js';

export const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new HttpError(413, 'too_large', `the request body exceeds ${maxSize} bytes`);
    },
  });

/** POST /v1/collect: one device's batch, stored in one transaction, idempotent by event id. */
export function collectRoutes(app: Hono<Env>, ctx: AppCtx): void {
  app.post('/v1/collect', limit(LIMITS.batchBytes), async (c) => {
    const body = parse(collectBodySchema, await readJson(c));
    checkQuerySite(c, body.site);
    await requireOrigin(ctx, c, body.site);
    const kind = body.events.find((e) => e.device)?.device;
    // Claimed with `create`, the device exists, and this is its token hash.
    const { tokenHash, made } = await claimDevice(ctx, body.site, body.deviceId, bearer(c), { open: true, create: { kind } });
    const r = await ctx.store.ingest(body.site, body.deviceId, body.events, tokenHash!, kind);
    ctx.metrics.events(r.accepted, r.duplicates);
    const res: CollectResponse = { accepted: r.accepted, duplicates: r.duplicates };
    if (made) res.deviceToken = made;
    return c.json(res, 202, { 'Cache-Control': 'no-store' });
  });
}
