import type { Hono } from 'hono';
import { createHash } from 'node:crypto';
import { HttpError } from '../errors.js';
import { parseQuery } from '../request.js';
import { embedConfig } from '../sdk-bundle.js';
import { quote } from '../site-configs.js';
import type { AppCtx, Env } from '../context.js';
import { CONFIG_CACHE, notModified, siteQuery } from './config.js';

/** GET /v1/sdk.js?site=: the SDK bundle with the site's config embedded, so one script tag is enough. */
export function sdkRoutes(app: Hono<Env>, ctx: AppCtx): void {
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
}
