import { Hono } from 'hono';
import { validateSiteConfig, type ConfigIssue } from '@cairn/schema';
import { regexSafety } from '../config/regex-safety.js';
import type { AppCtx, Env } from '../context.js';
import { HttpError } from '../errors.js';
import { notModified, quote, unquote } from '../http-cache.js';
import { MAX_CONFIG_BYTES, configSizeIssue } from '../config/site-configs.js';
import { missingWebhookSecret } from '../keys/site-keys.js';
import { adminOnly, siteFromBody, siteFromQuery } from '../middleware/admin/index.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { checkQuerySite, parseQuery, readJson, siteQuery } from '../request.js';
import { publicConfig } from '../sdk/sdk-bundle.js';

/** How long browsers and CDNs may keep a site's config (and the SDK that embeds it). */
export const CONFIG_CACHE = 'public, max-age=60';

const PUBLIC_ETAG_SUFFIX = '.public';

/**
 * The ETag of the public copy (GET /v1/config without a key): the stored config's when the two are
 * the same, another when the public copy leaves triggers out. So a read of the public copy saved
 * back with If-Match (a script, a CDN that served the editor the public copy) is refused with 412
 * rather than dropping the triggers. A stored ETag (base64url, or "d-…") never holds a dot.
 */
export const publicEtag = (etag: string, config: { triggers?: readonly unknown[] }): string =>
  config.triggers?.length ? `${etag}${PUBLIC_ETAG_SUFFIX}` : etag;

/** 400 `invalid_config` naming the first problem's field, with every problem listed. */
function invalidConfig(issues: ConfigIssue[]): HttpError {
  const first = issues[0] ?? { path: '', message: 'invalid config' };
  const field = first.path === '(root)' ? undefined : first.path;
  return new HttpError(400, 'invalid_config', `${first.path}: ${first.message}`, field, issues.slice(0, 50));
}

/**
 * GET /v1/config (public, cached with ETag) and PUT /v1/config (admin, validated, regexes checked
 * for ReDoS, If-Match or If-None-Match: *). The public GET leaves the triggers out (webhook URLs and
 * audiences are the server's business); with an admin key for the site it serves the whole config,
 * uncached, for the editor to save back.
 */
export function configRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/v1/config', async (c) => {
    const { site } = parseQuery(c, siteQuery);
    c.set('site', site);
    const loaded = await ctx.configs.get(site);
    if (!loaded) throw new HttpError(404, 'unknown_site', `no config for site "${site}"`, 'site');
    if (c.req.header('authorization') !== undefined) {
      // An admin key (a wrong one is refused as on every admin route): the whole config, never cached.
      await adminOnly(ctx.admin, siteFromQuery)(c, async () => {});
      const headers = { ETag: quote(loaded.etag), 'Cache-Control': 'private, no-store', Vary: 'Authorization' };
      return c.json(loaded.config, 200, headers);
    }
    const etag = publicEtag(loaded.etag, loaded.config);
    const headers = { ETag: quote(etag), 'Cache-Control': CONFIG_CACHE, Vary: 'Authorization' };
    if (notModified(c, etag)) return c.body(null, 304, headers);
    return c.json(publicConfig(loaded.config), 200, headers);
  });

  // A site's own admin key saves that site's config only: the site is the body's.
  app.put('/v1/config', bodyLimit(MAX_CONFIG_BYTES), adminOnly(ctx.admin, siteFromBody), async (c) => {
    const input = await readJson(c);
    const r = validateSiteConfig(input);
    if (!r.ok) throw invalidConfig(r.issues);
    const tooLarge = configSizeIssue(r.config);
    if (tooLarge) throw invalidConfig([tooLarge]);
    const unsafe = await regexSafety.unsafeRegexes(r.config);
    if (unsafe.length) throw invalidConfig(unsafe);
    // A trigger's webhooks are signed: without the site's secret they could never be sent.
    if (r.config.triggers.length > 0 && !ctx.webhookSecretFor(r.config.site))
      throw invalidConfig([{ path: 'triggers', message: missingWebhookSecret(r.config.site) }]);
    const site = r.config.site;
    checkQuerySite(c, site);
    c.set('site', site);
    const ifMatch = c.req.header('if-match');
    const ifNoneMatch = c.req.header('if-none-match');
    // undefined: save over anything; a string: only over that ETag; null: only where none is stored.
    let expected: string | null | undefined;
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch.trim() !== '*' || ifMatch !== undefined)
        throw new HttpError(
          400,
          'invalid_request',
          'If-None-Match on PUT must be "*" (create only), without If-Match',
          'If-None-Match',
        );
      expected = null;
    } else if (ifMatch !== undefined) {
      const current = await ctx.configs.get(site);
      if (ifMatch.trim() === '*') {
        if (!current?.stored)
          throw new HttpError(412, 'precondition_failed', 'If-Match: * but the site has no stored config');
        expected = current.etag;
      } else {
        expected = unquote(ifMatch);
      }
    }
    const saved = await ctx.configs.put(site, r.config, expected);
    if (saved === 'conflict') {
      if (expected?.endsWith(PUBLIC_ETAG_SUFFIX))
        throw new HttpError(
          412,
          'precondition_failed',
          'If-Match is the ETag of the public copy, which leaves out the triggers: read the config with the admin key (GET /v1/config with Authorization) and save that',
        );
      throw new HttpError(
        412,
        'precondition_failed',
        expected === null
          ? 'If-None-Match: * but the site has a stored config already'
          : 'the config changed since you read it (If-Match does not match the current ETag)',
      );
    }
    return c.json({ site, etag: saved.etag, config: saved.config }, 200, {
      ETag: quote(saved.etag),
      'Cache-Control': 'no-store',
    });
  });
  return app;
}
