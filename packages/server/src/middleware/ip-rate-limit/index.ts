import type { MiddlewareHandler } from 'hono';
import type { C, Env } from '../../context.js';
import { HttpError } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import type { RateLimiter } from '../../rate-limit.js';
import { EXPOSED_HEADERS } from '../site-cors/index.js';

export interface IpRateLimitOptions {
  limiter: RateLimiter;
  metrics: Metrics;
  /** Take the client IP from X-Forwarded-For, as the one proxy in front appended it. */
  trustProxy: boolean;
  /**
   * Whether a browser origin may read the 429 (CORS), from what is in memory only: a refused client
   * must not cost a database read. Without it, the 429 has no CORS headers.
   */
  originKnown?: (origin: string) => boolean;
}

/**
 * The client's address. Behind a trusted proxy, the last X-Forwarded-For entry: the one that proxy
 * appended. Entries before it come from the client, which can write anything there.
 */
export function clientIp(c: C, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return c.env?.incoming?.socket?.remoteAddress ?? 'local';
}

/**
 * One token per request from each client address; 429 with Retry-After once its bucket is empty.
 * Preflights are not counted: a browser sends them on its own, and they read nothing.
 */
export function ipRateLimit({ limiter, metrics, trustProxy, originKnown }: IpRateLimitOptions): MiddlewareHandler<Env> {
  return async (c, next) => {
    if (c.req.method !== 'OPTIONS') {
      const wait = await limiter.take(clientIp(c, trustProxy));
      if (wait > 0) {
        metrics.rateLimited('ip');
        const origin = c.req.header('origin');
        // A browser that cannot read the 429 sees a network error, and cannot honour Retry-After.
        const cors: Record<string, string> =
          origin !== undefined && originKnown?.(origin)
            ? {
                'Access-Control-Allow-Origin': origin,
                // Collect, recover and the cookie's DELETE are credentialed: without it the browser hides the 429.
                'Access-Control-Allow-Credentials': 'true',
                'Access-Control-Expose-Headers': EXPOSED_HEADERS,
                Vary: 'Origin',
              }
            : {};
        throw new HttpError(
          429,
          'rate_limited',
          'too many requests from this address; retry later',
          undefined,
          undefined,
          { 'Retry-After': String(wait), ...cors },
        );
      }
    }
    await next();
  };
}
