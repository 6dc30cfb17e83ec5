import { Hono } from 'hono';
import { collectBodySchema, LIMITS, type CollectResponse } from '@cairn/schema';
import type { AppCtx, C, Env } from '../context.js';
import { HttpError } from '../errors.js';
import { claimDevice } from '../identity/device-auth.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { bearer, checkQuerySite, parse, readJson } from '../request.js';

/**
 * The device token of a collect: the Bearer one, else the body's `deviceToken` (sendBeacon, which
 * cannot set headers). Both present must agree, or which one the client meant is unknowable.
 */
function collectToken(c: C, inBody: string | undefined): string | null {
  const header = bearer(c);
  if (header !== null && inBody !== undefined && header !== inBody) {
    throw new HttpError(
      400,
      'invalid_request',
      'deviceToken: differs from the Authorization Bearer token; send one, or the same in both',
      'deviceToken',
    );
  }
  return header ?? inBody ?? null;
}

/** POST /v1/collect: one device's batch, stored in one transaction, idempotent by event id. */
export function collectRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.post('/v1/collect', bodyLimit(LIMITS.batchBytes), async (c) => {
    const body = parse(collectBodySchema, await readJson(c));
    checkQuerySite(c, body.site);
    await requireOrigin(ctx, c, body.site);
    const kind = body.events.find((e) => e.device)?.device;
    // Claimed with `create`, the device exists, and this is its token hash.
    const { tokenHash, made } = await claimDevice(
      c,
      ctx.store,
      body.site,
      body.deviceId,
      collectToken(c, body.deviceToken),
      { open: true, create: { kind } },
    );
    const r = await ctx.store.ingest(body.site, body.deviceId, body.events, tokenHash!, kind);
    ctx.metrics.events(r.accepted, r.duplicates);
    if (r.orderConflicts) ctx.metrics.orderConflicts(r.orderConflicts);
    const res: CollectResponse = { accepted: r.accepted, duplicates: r.duplicates };
    if (made) res.deviceToken = made;
    return c.json(res, 202, { 'Cache-Control': 'no-store' });
  });
  return app;
}
