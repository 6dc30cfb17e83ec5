import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { collectBodySchema, LIMITS, type CollectResponse } from '@cairn/schema';
import { HttpError, unauthorized } from '../errors.js';
import { bearer, parse, readJson } from '../request.js';
import { hashToken, tokenForNewDevice, tokenMatches } from '../tokens.js';
import { checkQuerySite, limitDevice, requireOrigin, type AppCtx, type Env } from '../context.js';
import type { DeviceRecord } from '../store/types.js';

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
    const token = bearer(c);
    const kind = body.events.find((e) => e.device)?.device;
    // The token is the device's read key. Writing to an anonymous device needs none (a client whose first
    // answer was lost can still deliver), but a wrong one is refused, and a linked device needs its own.
    const refused = (d: DeviceRecord) => (token !== null ? !tokenMatches(token, d.tokenHash) : d.userId !== null);
    const device = await ctx.store.getDevice(body.site, body.deviceId);
    if (device && refused(device)) throw unauthorized('this device needs its device token as "Authorization: Bearer <token>"');
    // Limited once the caller may write here: a stranger's refused requests use none of the device's allowance.
    limitDevice(ctx, body.site, body.deviceId);
    // A device seen for the first time is made before its events go in, keeping the token its client
    // presents, else a new one. Made by a concurrent first request meanwhile: that one's token decides.
    const fresh = tokenForNewDevice(token);
    let made: string | undefined;
    if (!device) {
      if (await ctx.store.ensureDevice(body.site, body.deviceId, hashToken(fresh.token), kind)) made = fresh.made ? fresh.token : undefined;
      else {
        const now = await ctx.store.getDevice(body.site, body.deviceId);
        if (!now || refused(now)) throw unauthorized('this device needs its device token as "Authorization: Bearer <token>"');
      }
    }
    const r = await ctx.store.ingest(body.site, body.deviceId, body.events, hashToken(fresh.token), kind);
    ctx.metrics.events(r.accepted, r.duplicates);
    const res: CollectResponse = { accepted: r.accepted, duplicates: r.duplicates };
    if (made) res.deviceToken = made;
    return c.json(res, 202, { 'Cache-Control': 'no-store' });
  });
}
