// Token buckets in memory, per instance: each key (an IP, a device) holds up to `burst` tokens,
// refilled at `perSecond`. Several instances each keep their own buckets, unless the limits are
// shared (shared-limits.ts: Redis or PostgreSQL), whose answers come asynchronously.

export interface BucketOptions {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests allowed at once before the rate applies. */
  burst: number;
}

export interface RateLimiter {
  /** Takes one token: 0 when allowed, else the seconds to wait before retrying (async when shared). */
  take(key: string): number | Promise<number>;
  /** Like take, without taking: 0 when a token is there, else the seconds to wait. */
  peek(key: string): number | Promise<number>;
}

/** The memory buckets, whose answers are immediate. */
export interface MemoryRateLimiter extends RateLimiter {
  take(key: string): number;
  peek(key: string): number;
}

/** Beyond this many keys the least recently touched are forgotten, so memory stays bounded. */
const MAX_KEYS = 100_000;

export function createRateLimiter(
  { perSecond, burst }: BucketOptions,
  now: () => number = Date.now,
): MemoryRateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const tokensAt = (b: { tokens: number; at: number } | undefined, t: number) =>
    b ? Math.min(burst, b.tokens + (Math.max(0, t - b.at) / 1000) * perSecond) : burst;
  const wait = (tokens: number) => Math.max(1, Math.ceil((1 - tokens) / perSecond));
  return {
    peek(key) {
      const tokens = tokensAt(buckets.get(key), now());
      return tokens >= 1 ? 0 : wait(tokens);
    },
    take(key) {
      const t = now();
      const b = buckets.get(key);
      const tokens = tokensAt(b, t);
      if (b) {
        buckets.delete(key); // re-inserted below: Map order is recency
      } else if (buckets.size >= MAX_KEYS) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
      if (tokens >= 1) {
        buckets.set(key, { tokens: tokens - 1, at: t });
        return 0;
      }
      buckets.set(key, { tokens, at: t });
      return wait(tokens);
    },
  };
}
