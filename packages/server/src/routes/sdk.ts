import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { AppCtx, Env } from '../context.js';
import { HttpError } from '../errors.js';
import { notModified, quote } from '../http-cache.js';
import { parseQuery, siteQuery } from '../request.js';
import { embedConfig } from '../sdk/sdk-bundle.js';
import { CONFIG_CACHE } from './config.js';

// Timing-Allow-Origin: the scripts are public, and a store measures what they cost its pages
// (Resource Timing's sizes of a cross-origin script read 0 without it).
const JAVASCRIPT = {
  'Content-Type': 'application/javascript; charset=utf-8',
  'X-Content-Type-Options': 'nosniff',
  'Timing-Allow-Origin': '*',
};
/** A chunk's name holds its content hash: a new build is a new URL, so a copy can be kept for good. */
export const CHUNK_CACHE = 'public, max-age=31536000, immutable';

/**
 * On the SDK's 404s and 503s: another instance may archive that chunk a moment later, the site's
 * config be saved or the SDK built, so no cache (a CDN keeping errors a while) may keep the refusal.
 * The database's 503 (app.ts) has it too.
 */
const NOT_KEPT = { 'Cache-Control': 'no-store' };

const unbuilt = (headers?: Record<string, string>) =>
  new HttpError(
    503,
    'sdk_unavailable',
    'the SDK bundle is not built: run `pnpm --filter @cairn/sdk build`',
    undefined,
    undefined,
    headers,
  );

/**
 * GET /v1/sdk.js?site=: the SDK's head with the site's config embedded, so one script tag is enough;
 * GET /v1/cairn-<name>.<hash>.js: the parts it loads after, from beside it.
 */
export function sdkRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/v1/sdk.js', async (c) => {
    const { site } = parseQuery(c, siteQuery);
    c.set('site', site);
    const bundle = ctx.sdk.read();
    if (!bundle) throw unbuilt(NOT_KEPT);
    const loaded = await ctx.configs.get(site);
    if (!loaded) throw new HttpError(404, 'unknown_site', `no config for site "${site}"`, 'site', undefined, NOT_KEPT);
    // The head's text names its chunks by their hashed names, so a rebuilt chunk changes bundle.hash too.
    const etag = createHash('sha256').update(`${bundle.hash}:${loaded.etag}`).digest('base64url').slice(0, 22);
    const headers = { ...JAVASCRIPT, ETag: quote(etag), 'Cache-Control': CONFIG_CACHE };
    if (notModified(c, etag)) return c.body(null, 304, headers);
    return c.body(embedConfig(bundle.text, loaded.config), 200, headers);
  });

  // Routing only: the pattern cannot hold the hash's length bounds (Hono's path syntax reads `{`);
  // sdkChunks.read() serves nothing but CHUNK_NAME.
  app.get('/v1/:file{cairn-[a-z0-9-]+\\.[0-9a-f]+\\.js}', async (c) => {
    const name = c.req.param('file');
    const chunk = await ctx.sdkChunks.read(name);
    if (chunk === 'unbuilt') throw unbuilt(NOT_KEPT);
    if (!chunk) throw new HttpError(404, 'not_found', `no SDK chunk named ${name}`, undefined, undefined, NOT_KEPT);
    const headers = {
      ...JAVASCRIPT,
      ETag: quote(chunk.etag),
      'Cache-Control': CHUNK_CACHE,
      // A classic script needs no CORS, but a storefront isolated with COEP loads only resources that opt in.
      'Cross-Origin-Resource-Policy': 'cross-origin',
    };
    if (notModified(c, chunk.etag)) return c.body(null, 304, headers);
    return c.body(chunk.bytes, 200, headers);
  });
  return app;
}
