import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { AppCtx, Env } from '../context.js';
import { HttpError } from '../errors.js';
import { notModified, quote } from '../http-cache.js';
import { parseQuery, siteQuery } from '../request.js';
import { embedConfig } from '../sdk/sdk-bundle.js';
import { CONFIG_CACHE } from './config.js';

/** GET /v1/sdk.js?site=: the SDK bundle with the site's config embedded, so one script tag is enough. */
export function sdkRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/v1/sdk.js', async (c) => {
    const { site } = parseQuery(c, siteQuery);
    c.set('site', site);
    const bundle = ctx.sdk.read();
    if (!bundle) {
      throw new HttpError(503, 'sdk_unavailable', 'the SDK bundle is not built: run `pnpm --filter @cairn/sdk build`');
    }
    const loaded = await ctx.configs.get(site);
    if (!loaded) throw new HttpError(404, 'unknown_site', `no config for site "${site}"`, 'site');
    const etag = createHash('sha256').update(`${bundle.hash}:${loaded.etag}`).digest('base64url').slice(0, 22);
    const headers = {
      ETag: quote(etag),
      'Cache-Control': CONFIG_CACHE,
      'Content-Type': 'application/javascript; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
    };
    if (notModified(c, etag)) return c.body(null, 304, headers);
    return c.body(embedConfig(bundle.text, loaded.config), 200, headers);
  });
  return app;
}
