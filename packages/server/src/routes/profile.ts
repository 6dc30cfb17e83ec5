import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { deviceIdSchema, siteIdSchema } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import type { Store } from '../store/types.js';
import { notModified, quote } from '../http-cache.js';
import { requireDeviceToken } from '../identity/device-auth.js';
import { requireOrigin } from '../middleware/site-cors/index.js';
import { bearer, parseQuery } from '../request.js';

export const deviceQuery = z.object({ site: siteIdSchema, deviceId: deviceIdSchema });

/** A strong ETag of the profile as sent: the same JSON, the same tag (sha-256, base64url, 22 characters). */
export function profileEtag(json: string): string {
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

/**
 * GET /v1/profile: the device's profile (the user's merged one once linked), for the holder of its
 * token. Revalidated on every use (private, no-cache): If-None-Match with the current ETag answers
 * 304 with no body, but only after the token check, so a stranger learns nothing from a 304.
 */
export function profileRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  const built = profileCache(PROFILE_CACHE_CHARS);
  app.get('/v1/profile', async (c) => {
    const q = parseQuery(c, deviceQuery);
    await requireOrigin(ctx, c, q.site);
    await requireDeviceToken(c, ctx, q.site, q.deviceId, bearer(c));
    const { json, etag } = await built.get(ctx.store, q.site, q.deviceId);
    const headers = { ETag: quote(etag), 'Cache-Control': 'private, no-cache' };
    if (notModified(c, etag)) return c.body(null, 304, headers);
    return c.body(json, 200, { ...headers, 'Content-Type': 'application/json' });
  });
  return app;
}

/** How much profile JSON one instance keeps (characters): a few hundred profiles of ~40 KB. */
export const PROFILE_CACHE_CHARS = 16 * 1024 * 1024;

interface BuiltProfile {
  version: string;
  json: string;
  etag: string;
}

/**
 * The profiles this instance built, with the version each was read at (Store.profileVersion).
 * Every use reads the current version from the database first, so a profile another instance
 * changed meanwhile is rebuilt, never served. Bounded by `maxChars` of JSON, least recently used out.
 */
export function profileCache(maxChars: number) {
  const entries = new Map<string, BuiltProfile>();
  let chars = 0;
  const drop = (key: string) => {
    const old = entries.get(key);
    if (!old) return;
    entries.delete(key);
    chars -= old.json.length;
  };
  return {
    async get(store: Store, site: string, deviceId: string): Promise<Pick<BuiltProfile, 'json' | 'etag'>> {
      const key = `${site}\n${deviceId}`;
      const kept = entries.get(key);
      if (kept && kept.version === (await store.profileVersion(site, deviceId))) {
        // Most recently used last: Map keeps insertion order.
        entries.delete(key);
        entries.set(key, kept);
        return kept;
      }
      const { profile, version } = await store.versionedProfile(site, deviceId);
      const json = JSON.stringify(profile);
      const fresh = { version, json, etag: profileEtag(json) };
      drop(key);
      if (json.length <= maxChars) {
        entries.set(key, fresh);
        chars += json.length;
        for (const oldest of entries.keys()) {
          if (chars <= maxChars) break;
          drop(oldest);
        }
      }
      return fresh;
    },
  };
}
