import { Hono } from 'hono';
import type { AppCtx, Env } from '../context.js';
import { keyOnly } from '../middleware/admin/index.js';
import { openApiDocument } from '../openapi.js';

/**
 * GET /healthz, GET /metrics, GET /v1/openapi.json. /metrics shows admin activity by route: with a
 * metrics key it wants it as Bearer (Prometheus' `authorization` / `bearer_token`), else it is open.
 */
export function metaRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  let doc: string | undefined;
  app.get('/v1/openapi.json', (c) => {
    doc ??= JSON.stringify(openApiDocument());
    return c.body(doc, 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'public, max-age=300',
    });
  });

  app.get('/healthz', async (c) => {
    try {
      await ctx.store.ping();
      return c.json({ ok: true, store: ctx.store.kind }, 200, { 'Cache-Control': 'no-store' });
    } catch {
      return c.json({ ok: false, store: ctx.store.kind }, 503, { 'Cache-Control': 'no-store' });
    }
  });

  app.get('/metrics', keyOnly(ctx.admin, ctx.metricsKey, 'metrics'), (c) =>
    c.body(ctx.metrics.render(), 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
      'Cache-Control': 'no-store',
    }),
  );
  return app;
}
