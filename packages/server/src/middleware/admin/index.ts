import type { MiddlewareHandler } from 'hono';
import type { Env } from '../../context.js';
import { HttpError } from '../../errors.js';
import { safeEqual } from '../../identity/device-token.js';
import { bearer } from '../../request.js';

/**
 * Admin routes: the admin key as "Authorization: Bearer <key>", compared in constant time.
 * 403 when the server has no key configured (the admin endpoints are off), 401 when it is missing or wrong.
 */
export function adminOnly(adminKey: string | undefined): MiddlewareHandler<Env> {
  return async (c, next) => {
    if (!adminKey) throw new HttpError(403, 'admin_disabled', 'admin endpoints are disabled: set CAIRN_ADMIN_KEY');
    const key = bearer(c);
    if (key === null || !safeEqual(key, adminKey))
      throw new HttpError(401, 'unauthorized', 'admin key required as "Authorization: Bearer <key>"');
    await next();
  };
}
