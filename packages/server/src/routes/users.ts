import { Hono } from 'hono';
import { z } from 'zod';
import type { AppCtx, Env } from '../context.js';
import { HttpError } from '../errors.js';
import { adminOnly, siteFromQuery } from '../middleware/admin/index.js';
import { BAD_CHARS, parse, parseQuery, siteQuery } from '../request.js';

// As POST /v1/identify takes it; a path parameter is checked for the characters a body may not hold either.
const userId = z
  .string()
  .min(1)
  .max(128)
  .refine((v) => !BAD_CHARS.test(v), 'NUL and unpaired surrogate characters are not allowed');

/**
 * Privacy endpoints (admin): export everything held about a user, and erase it. The admin check is
 * on each route rather than on `/v1/users/*`, so another method there still answers 404.
 */
export function userRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  const admin = adminOnly(ctx.admin, siteFromQuery);

  app.get('/v1/users/:id/export', admin, async (c) => {
    const { site } = parseQuery(c, siteQuery);
    const id = parse(userId, c.req.param('id'), 'id');
    const data = await ctx.store.exportUser(site, id);
    if (!data) throw new HttpError(404, 'unknown_user', 'no such user for this site', 'id');
    return c.json(data, 200, { 'Cache-Control': 'no-store' });
  });

  app.delete('/v1/users/:id', admin, async (c) => {
    const { site } = parseQuery(c, siteQuery);
    const id = parse(userId, c.req.param('id'), 'id');
    if (!(await ctx.store.deleteUser(site, id)))
      throw new HttpError(404, 'unknown_user', 'no such user for this site', 'id');
    // The rows are gone (committed); now their bytes, as far as the database can. Whatever happens
    // here, the erasure stands: a failure is logged, and the next checkpoint or (auto)vacuum retries.
    try {
      const r = await ctx.store.reclaimErased();
      if (!r.complete) ctx.log.warn({ event: 'erasure_reclaim_incomplete', site, detail: r.detail }, r.detail);
    } catch (e) {
      ctx.log.warn(
        { event: 'erasure_reclaim_failed', site, err: e instanceof Error ? e.message : String(e) },
        'reclaiming the erased rows failed',
      );
    }
    return c.json({ deleted: true }, 200, { 'Cache-Control': 'no-store' });
  });
  return app;
}
