import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import postgres, { type Sql } from 'postgres';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Log } from './log.js';
import type { Metrics } from './metrics.js';
import { createRateLimiter, type BucketOptions, type RateLimiter } from './rate-limit.js';

// Rate limits every instance shares, kept in Redis or PostgreSQL by rate-limiter-flexible, so that N
// instances allow the configured rate, not N times it.
//
// rate-limiter-flexible counts in fixed windows, not token buckets: a bucket of `burst` tokens
// refilled at `perSecond` becomes `burst` requests per window of `burst / perSecond` seconds. The
// long-run rate and the burst are the same; across a window's edge a client can send up to twice
// the burst.
//
// When the store fails or is slow, the limit fails open: the request is decided by this instance's
// own memory buckets (the limits as they were before sharing), never answered 5xx. Each failure
// counts in cairn_rate_limit_store_errors_total; a warning is logged at most once a minute.

export type SharedLimitsConfig =
  | { kind: 'redis'; url: string; keyPrefix?: string }
  | { kind: 'postgres'; databaseUrl: string; pgSchema?: string; keyPrefix?: string };

export interface SharedLimitsOptions {
  log: Log;
  metrics: Metrics;
  /** How long a decision may wait for the store before this instance decides alone. Default 250 ms. */
  timeoutMs?: number;
  now?: () => number;
}

/** Makes limiters on one shared store (one connection for all of them). */
export interface LimitStore {
  readonly kind: 'redis' | 'postgres';
  limiter(scope: string, bucket: BucketOptions): RateLimiter;
  close(): Promise<void>;
}

/** Default wait for the store: beyond it a request goes on under the local limit. */
export const DEFAULT_LIMIT_TIMEOUT_MS = 250;
const WARN_EVERY_MS = 60_000;
const REST_AFTER_FAILURE_MS = 1_000;
const TABLE = 'cairn_rate_limits';

/** The fixed window that stands for a token bucket: `burst` requests per `burst / perSecond` seconds. */
export function windowOf({ perSecond, burst }: BucketOptions): { points: number; duration: number } {
  const points = Math.max(1, Math.floor(burst));
  return { points, duration: Math.max(1, Math.round(points / perSecond)) };
}

/** Keys are hashed: fixed length, no NUL (PostgreSQL refuses it), and no client address stored in clear. */
const storedKey = (key: string) => createHash('sha256').update(key).digest('base64url');

class StoreTimeout extends Error {
  constructor(ms: number) {
    super(`no answer from the rate-limit store within ${ms} ms`);
  }
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new StoreTimeout(ms)), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Seconds to wait, at least 1, from a refusal. */
const waitOf = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/**
 * The store's health, shared by its limiters. Every failure counts in the metric; one warning a
 * minute at most says how many it stands for. After a failure the store is left alone for a second
 * (each request decided locally, and counted): a store that hangs costs one timeout a second, not
 * one a request.
 */
function storeHealth(kind: string, log: Log, metrics: Metrics, now: () => number) {
  let lastWarnAt = Number.NEGATIVE_INFINITY;
  let unreported = 0;
  let restingUntil = Number.NEGATIVE_INFINITY;
  const counted = (scope: string, err: unknown, request = true) => {
    if (request) metrics.rateLimitStoreError(scope);
    unreported++;
    const t = now();
    if (t - lastWarnAt < WARN_EVERY_MS) return;
    log.warn(
      {
        store: kind,
        scope,
        failures: unreported,
        err: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : String(err),
      },
      'rate-limit store unavailable: limiting per instance until it answers',
    );
    lastWarnAt = t;
    unreported = 0;
  };
  return {
    failed(scope: string, err: unknown) {
      restingUntil = now() + REST_AFTER_FAILURE_MS;
      counted(scope, err);
    },
    /** A failure of the connection itself, no request's: logged (within the same allowance), not counted. */
    connectionFailed(err: unknown) {
      counted('connection', err, false);
    },
    /** True while the store rests after a failure; the request counts as one more failure. */
    resting(scope: string): boolean {
      if (now() >= restingUntil) return false;
      counted(scope, 'resting after a failure');
      return true;
    },
  };
}
type StoreHealth = ReturnType<typeof storeHealth>;

/** A shared limiter that falls back to this instance's memory buckets when the store fails. */
function insured(
  scope: string,
  shared: RateLimiterAbstract,
  points: number,
  local: RateLimiter,
  timeoutMs: number,
  health: StoreHealth,
  ready: () => Promise<void>,
): RateLimiter {
  return {
    async take(key) {
      if (health.resting(scope)) return local.take(key);
      try {
        await within(
          ready().then(() => shared.consume(storedKey(key))),
          timeoutMs,
        );
        return 0;
      } catch (e) {
        if (e instanceof RateLimiterRes) return waitOf(e);
        health.failed(scope, e);
        return local.take(key);
      }
    },
    async peek(key) {
      if (health.resting(scope)) return local.peek(key);
      try {
        const res = await within(
          ready().then(() => shared.get(storedKey(key))),
          timeoutMs,
        );
        return res !== null && res.consumedPoints >= points ? waitOf(res) : 0;
      } catch (e) {
        health.failed(scope, e);
        return local.peek(key);
      }
    },
  };
}

/**
 * postgres.js behind the `pg` Pool interface rate-limiter-flexible calls (`query({ text, values })`
 * resolving to `{ rows, rowCount }`), so the limits use the driver the store uses.
 */
function pgPoolShim(sql: Sql) {
  return {
    async query(q: { text: string; values?: unknown[] }) {
      const rows = await sql.unsafe(q.text, (q.values ?? []) as postgres.ParameterOrJSON<never>[]);
      return { rows: [...rows], rowCount: rows.count };
    },
  };
}

export function openLimitStore(config: SharedLimitsConfig, opts: SharedLimitsOptions): LimitStore {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LIMIT_TIMEOUT_MS;
  const health = storeHealth(config.kind, opts.log, opts.metrics, now);
  const keyPrefix = config.keyPrefix ?? 'cairn';

  if (config.kind === 'redis') {
    const redis = new Redis(config.url, {
      // Fail at once while disconnected rather than queue: the request goes on under the local limit.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: timeoutMs,
      connectTimeout: 2_000,
      // Reconnects forever, backing off to 2 s: the shared limit comes back when Redis does.
      retryStrategy: (times) => Math.min(times * 100, 2_000),
    });
    // ioredis emits every failed (re)connection; the reporter keeps the log to one line a minute.
    redis.on('error', (e: unknown) => health.connectionFailed(e));
    // Requests at start wait for the first connection (within the timeout), so that none is counted
    // locally while Redis is merely not connected yet; after that, not ready means fail at once.
    const firstAttempt = new Promise<void>((settled) => {
      redis.once('ready', () => settled());
      redis.once('error', () => settled());
      redis.once('end', () => settled());
    });
    return {
      kind: 'redis',
      limiter(scope, bucket) {
        const shared = new RateLimiterRedis({
          storeClient: redis,
          rejectIfRedisNotReady: true,
          keyPrefix: `${keyPrefix}:${scope}`,
          ...windowOf(bucket),
        });
        const local = createRateLimiter(bucket, now);
        return insured(scope, shared, windowOf(bucket).points, local, timeoutMs, health, () => firstAttempt);
      },
      async close() {
        redis.disconnect();
      },
    };
  }

  const sql = postgres(config.databaseUrl, {
    max: 4,
    connect_timeout: 5,
    onnotice: () => undefined,
    ...(config.pgSchema ? { connection: { search_path: config.pgSchema } } : {}),
  });
  const pool = pgPoolShim(sql);
  // The table is made on first use, and again after a failure: a database down at start does not
  // stop the server, and the shared limit begins once it answers.
  let table: Promise<void> | undefined;
  const ready = () =>
    (table ??= sql
      .unsafe(
        `CREATE TABLE IF NOT EXISTS ${TABLE} (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`,
      )
      .then(
        () => undefined,
        (e: unknown) => {
          table = undefined;
          throw e;
        },
      ));
  return {
    kind: 'postgres',
    limiter(scope, bucket) {
      const shared = new RateLimiterPostgres({
        storeClient: pool,
        storeType: 'pool',
        tableName: TABLE,
        tableCreated: true,
        keyPrefix: `${keyPrefix}:${scope}`,
        ...windowOf(bucket),
      });
      const local = createRateLimiter(bucket, now);
      return insured(scope, shared, windowOf(bucket).points, local, timeoutMs, health, ready);
    },
    async close() {
      await sql.end({ timeout: 1 });
    },
  };
}
