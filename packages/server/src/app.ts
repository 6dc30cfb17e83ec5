import { Hono, type Context } from 'hono';
import type { SiteConfig } from '@cairn/schema';
import { HTTPException } from 'hono/http-exception';
import { ClientClosedRequest, HttpError } from './errors.js';
import { createKeyRing, requireKeyLength, type KeyRingOptions } from './keys/site-keys.js';
import type { AdminAuth } from './middleware/admin/index.js';
import { createLogger, silentLog, type Log } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createRateLimiter, type BucketOptions, type RateLimiter } from './rate-limit.js';
import type { LimitStore } from './shared-limits.js';
import { createSdkBundle } from './sdk/sdk-bundle.js';
import { createSdkChunks } from './sdk/sdk-chunks.js';
import { createSiteConfigs, emptyDefault, type DefaultConfig } from './config/site-configs.js';
import type { AppCtx, Env } from './context.js';
import type { Store } from './store/types.js';
import { StoreError } from './store/errors.js';
import { requestLog, routeLabel } from './middleware/request-log/index.js';
import { compress } from './middleware/compress/index.js';
import { ipRateLimit } from './middleware/ip-rate-limit/index.js';
import { siteCors } from './middleware/site-cors/index.js';
import { deviceRateLimit } from './middleware/device-rate-limit/index.js';
import { collectRoutes } from './routes/collect.js';
import { profileRoutes } from './routes/profile.js';
import { identifyRoutes } from './routes/identify.js';
import { logoutRoutes } from './routes/logout.js';
import { recoverRoutes } from './routes/recover.js';
import { MAX_LOGIN_TTL_SECONDS } from './identity/identity-token.js';
import { configRoutes } from './routes/config.js';
import { optinRoutes } from './routes/optins.js';
import { userRoutes } from './routes/users.js';
import { traitsRoutes } from './routes/traits.js';
import { orderRoutes } from './routes/orders.js';
import { sdkRoutes } from './routes/sdk.js';
import { metaRoutes } from './routes/meta.js';
import { reportsRoutes } from './routes/reports.js';
import { consoleRoutes } from './routes/console.js';
import { deliveryRoutes } from './routes/deliveries.js';

export interface AppDeps {
  store: Store;
  /** Enables PUT /v1/config and the privacy endpoints. */
  adminKey?: string;
  /** Shared with the storefront's backend, which signs identity tokens with it. */
  identitySecret?: string;
  /** CAIRN_BACKEND_KEY: the traits endpoints (/v1/users/:id/traits) of every site, nothing else. */
  backendKey?: string;
  /** CAIRN_WEBHOOK_SECRET: signs the trigger webhooks of sites without their own. */
  webhookSecret?: string;
  /** Each site's own keys: admin, identity, backend, webhook (a keys file, CAIRN_SITE_<SITE>_* variables). */
  siteKeys?: Pick<KeyRingOptions, 'sites' | 'envStems'>;
  /** Required as Bearer on GET /metrics when set; without it, /metrics is open. */
  metricsKey?: string;
  /** Browser origins allowed for every site, on top of each site config's `origins`. */
  origins?: string[];
  /** The config of a site with none stored; null answers 404. Default: the empty config. */
  defaultConfig?: DefaultConfig;
  /** A pino logger or anything with info/warn/error; `false` for none. Default: pino at info on stdout. */
  logger?: Log | false;
  now?: () => number;
  /** The console's static files; default: @cairn/console's public folder. */
  consoleDir?: string;
  /**
   * Per-IP and per-device token buckets, and per-IP failed admin (and metrics) keys; `false` turns
   * one off.
   */
  rateLimit?: { ip?: BucketOptions | false; device?: BucketOptions | false; adminFailures?: BucketOptions | false };
  /**
   * Where the limits above are counted: every instance on this store shares them (shared-limits.ts).
   * Default: this instance's memory. The caller closes it.
   */
  limitStore?: LimitStore;
  /** Take the client IP from X-Forwarded-For, as the one proxy in front appended it (behind a trusted proxy only). */
  trustProxy?: boolean;
  /** Server cookies (identity.serverCookie) on plain http without Secure, on any host: local development and tests only. */
  insecureCookies?: boolean;
  /** Login tokens whose exp is further ahead are refused; default 3600 (one hour). */
  maxLoginTtlSeconds?: number;
  /** Where the SDK bundle is; default: @cairn/sdk's dist/cairn.js. */
  sdkPath?: string;
  /** How long a site config is cached in memory (ms). */
  configTtlMs?: number;
  /**
   * Configs known at start (startServer passes the seeded ones): their origins pass CORS preflights
   * that name no site (POSTs without `?site=`) before any request has loaded them.
   */
  knownConfigs?: SiteConfig[];
  metrics?: Metrics;
}

export const DEFAULT_RATE_LIMITS = {
  ip: { perSecond: 50, burst: 500 },
  device: { perSecond: 5, burst: 50 },
  /** 20 wrong keys, then one every 10 s. */
  adminFailures: { perSecond: 0.1, burst: 20 },
} as const satisfies Record<string, BucketOptions>;

/** Errors the database raises when it is unreachable or busy: worth a retry, so 503 rather than 500. */
function unavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    /^(ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|CONNECT_TIMEOUT|CONNECTION_|SQLITE_BUSY|SQLITE_LOCKED|57P0|53300|08)/.test(
      code,
    )
  );
}

/** The client went away before its request arrived whole (nginx's 499): nobody reads the answer. */
function clientClosed(c: Context<Env>): boolean {
  const incoming = c.env?.incoming;
  return incoming !== undefined && !incoming.complete && (incoming.destroyed || incoming.socket?.destroyed === true);
}

export function createApp(deps: AppDeps): Hono<Env> {
  const now = deps.now ?? Date.now;
  const log: Log = deps.logger === false ? silentLog : (deps.logger ?? createLogger());
  const metrics = deps.metrics ?? createMetrics();
  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimit };
  const sdk = createSdkBundle(deps.sdkPath);
  const keys = createKeyRing({
    adminKey: deps.adminKey,
    identitySecret: deps.identitySecret,
    backendKey: deps.backendKey,
    webhookSecret: deps.webhookSecret,
    ...deps.siteKeys,
  });
  requireKeyLength('CAIRN_METRICS_KEY', deps.metricsKey);
  const trustProxy = deps.trustProxy ?? false;
  const limiter = (scope: string, bucket: BucketOptions): RateLimiter =>
    deps.limitStore ? deps.limitStore.limiter(scope, bucket) : createRateLimiter(bucket, now);
  const admin: AdminAuth = {
    keys,
    failures: limits.adminFailures ? limiter('admin_key', limits.adminFailures) : null,
    trustProxy,
    metrics,
  };
  const ctx: AppCtx = {
    store: deps.store,
    configs: createSiteConfigs(deps.store, now, deps.defaultConfig ?? emptyDefault, deps.configTtlMs),
    admin,
    metricsKey: deps.metricsKey || undefined,
    identitySecretFor: (site) => keys.identitySecretFor(site),
    webhookSecretFor: (site) => keys.webhookSecretFor(site),
    origins: new Set(deps.origins ?? []),
    log,
    metrics,
    now,
    maxLoginTtlSeconds: deps.maxLoginTtlSeconds ?? MAX_LOGIN_TTL_SECONDS,
    sdk,
    // The store's archive: the chunks other instances' builds shipped (startServer keeps this one's).
    sdkChunks: createSdkChunks(() => sdk.path(), deps.store, log),
    insecureCookies: deps.insecureCookies ?? false,
  };
  for (const c of deps.knownConfigs ?? []) for (const o of c.origins) ctx.configs.knownOrigins.add(o);

  const app = new Hono<Env>();
  app.use('*', requestLog(log, metrics));
  app.use('*', compress());
  // Before CORS: a client over its limit is refused without a database read (preflights pass uncounted).
  // The console's API shares the bucket: every admin route is under it.
  if (limits.ip) {
    const limitIp = ipRateLimit({
      limiter: limiter('ip', limits.ip),
      metrics,
      trustProxy,
      originKnown: (origin) => ctx.origins.has(origin) || ctx.configs.knownOrigins.has(origin),
    });
    app.use('/v1/*', limitIp);
    app.use('/console/api/*', limitIp);
  }
  app.use('/v1/*', siteCors(ctx));
  app.use('/v1/*', deviceRateLimit(limits.device ? limiter('device', limits.device) : null, metrics));

  app.route('/', collectRoutes(ctx));
  app.route('/', profileRoutes(ctx));
  app.route('/', identifyRoutes(ctx));
  app.route('/', logoutRoutes(ctx));
  app.route('/', recoverRoutes(ctx));
  app.route('/', configRoutes(ctx));
  app.route('/', optinRoutes(ctx));
  app.route('/', userRoutes(ctx));
  app.route('/', traitsRoutes(ctx));
  app.route('/', orderRoutes(ctx));
  app.route('/', sdkRoutes(ctx));
  app.route('/', metaRoutes(ctx));
  app.route('/', deliveryRoutes(ctx));
  app.route('/', reportsRoutes({ store: ctx.store, adminKey: ctx.admin, now }));
  app.route('/', consoleRoutes({ adminKey: ctx.admin, dir: deps.consoleDir, webhookSecretFor: ctx.webhookSecretFor }));

  app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json(err.body(), err.status, err.headers);
    if (err instanceof HTTPException && err.status < 500) {
      return c.json(
        { error: err.status === 413 ? 'too_large' : 'bad_request', message: err.message || 'bad request' },
        err.status,
      );
    }
    // Before the database check: a body cut short by the client fails with ECONNRESET too.
    if (err instanceof ClientClosedRequest || clientClosed(c)) {
      log.info({ route: routeLabel(c) }, 'client closed the request');
      return new Response(null, { status: 499 });
    }
    if (err instanceof StoreError && err.code === 'unknown_device') {
      return c.json({ error: 'unknown_device', message: 'unknown device' }, 404);
    }
    if (unavailable(err) || (err instanceof StoreError && err.code === 'unavailable')) {
      metrics.error('unavailable');
      // The message too: a StoreError('unavailable') wraps what failed (sdk/sdk-chunks.ts) and says it there.
      log.error(
        {
          route: routeLabel(c),
          code: (err as { code?: string }).code,
          err: String((err as Error)?.message).slice(0, 300),
        },
        'database unavailable',
      );
      // no-store: a cache in front (a CDN keeping errors a while) must not answer for the database later.
      return c.json({ error: 'unavailable', message: 'the database is unavailable; retry later' }, 503, {
        'Retry-After': '1',
        'Cache-Control': 'no-store',
      });
    }
    metrics.error('internal');
    log.error(
      { route: routeLabel(c), err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) },
      'unhandled error',
    );
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  });

  return app;
}
