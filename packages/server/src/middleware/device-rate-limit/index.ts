import type { MiddlewareHandler } from 'hono';
import type { Env, LimitDevice } from '../../context.js';
import { HttpError } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import type { RateLimiter } from '../../rate-limit.js';

/**
 * The per-device limit, as `c.var.limitDevice(site, deviceId)`. It cannot be taken before the
 * handler: the device is named in the body or query, and it is counted only once its token has
 * been checked (identity/device-auth), so a stranger's refused requests use none of its allowance.
 * With no limiter (turned off), every request passes.
 */
export function deviceRateLimit(limiter: RateLimiter | null, metrics: Metrics): MiddlewareHandler<Env> {
  const limitDevice: LimitDevice = async (site, deviceId) => {
    const wait = (await limiter?.take(`${site}\u0000${deviceId}`)) ?? 0;
    if (wait > 0) {
      metrics.rateLimited('device');
      throw new HttpError(
        429,
        'rate_limited',
        'too many requests from this device; retry later',
        undefined,
        undefined,
        { 'Retry-After': String(wait) },
      );
    }
  };
  return async (c, next) => {
    c.set('limitDevice', limitDevice);
    await next();
  };
}
