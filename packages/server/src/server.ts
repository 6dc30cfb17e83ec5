import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { validateSiteConfig, type SiteConfig, type SiteConfigInput } from '@cairn/schema';
import { createApp, type AppDeps } from './app.js';
import { regexSafety } from './config/regex-safety.js';
import { configSizeIssue, createSiteConfigs, emptyDefault } from './config/site-configs.js';
import { StartupError } from './errors.js';
import {
  createKeyRing,
  loadKeysFile,
  missingWebhookSecret,
  requireKeyLength,
  type KeyRingOptions,
} from './keys/site-keys.js';
import { createLogger, silentLog, type Log, type LogLevel } from './log.js';
import { createMetrics } from './metrics.js';
import { openLimitStore, type LimitStore } from './shared-limits.js';
import { startRetention, type Retention } from './retention.js';
import { resolveSdkPath } from './sdk/sdk-bundle.js';
import { startSdkArchive, type SdkArchive } from './sdk/sdk-chunks.js';
import { openStore } from './store/index.js';
import type { Store } from './store/types.js';
import type { BucketOptions } from './rate-limit.js';
import { evaluateDue } from './triggers/episodes.js';
import { startDelivery, type Delivery } from './triggers/runner.js';

// Starts the HTTP server on a store: loopback by default, with header and request timeouts so slow
// clients cannot hold connections open.

export interface StartOptions {
  /** 0 picks a free port. Default 8787. */
  port?: number;
  host?: string;
  /** SQLite file; default ./.cairn/cairn.db. Ignored when databaseUrl is set. */
  db?: string;
  databaseUrl?: string;
  /** PostgreSQL schema to use (tests run each suite in a fresh one). */
  pgSchema?: string;
  /** A site-config file (one config or an array), or config objects, seeded into the store at start. */
  config?: string | SiteConfigInput | SiteConfigInput[];
  /** The global admin key (CAIRN_ADMIN_KEY): every site. At least 32 characters, as every key here. */
  adminKey?: string;
  /** The global identity secret (CAIRN_IDENTITY_SECRET): sites without their own. */
  identitySecret?: string;
  /** CAIRN_BACKEND_KEY: the store's backend sets CRM traits (/v1/users/:id/traits) of every site with it, nothing else. */
  backendKey?: string;
  /** CAIRN_WEBHOOK_SECRET: signs the trigger webhooks of sites without their own. */
  webhookSecret?: string;
  /** A keys file: `{ "<site>": { "adminKey", "identitySecret", "backendKey", "webhookSecret" } }`. */
  keysFile?: string;
  /** Each site's own keys, by site id (over the keys file's) and by CAIRN_SITE_<SITE>_* name (siteKeysFromEnv). */
  siteKeys?: Pick<KeyRingOptions, 'sites' | 'envStems'>;
  /** Required as Bearer on GET /metrics when set (CAIRN_METRICS_KEY); without it, /metrics is open. */
  metricsKey?: string;
  origins?: string[];
  logLevel?: LogLevel;
  logger?: Log | false;
  rateLimit?: { ip?: BucketOptions | false; device?: BucketOptions | false; adminFailures?: BucketOptions | false };
  trustProxy?: boolean;
  /** Server cookies without Secure on plain http (CAIRN_INSECURE_COOKIES=1): local development and tests only. */
  insecureCookies?: boolean;
  /**
   * Where rate limits are counted (CAIRN_RATE_LIMIT_STORE): `memory`, per instance; `redis`, shared
   * through redisUrl; `postgres`, shared through databaseUrl. Default: redis when redisUrl is set,
   * else memory (a PostgreSQL limit costs a write per request, so it is asked for by name).
   */
  rateLimitStore?: 'memory' | 'redis' | 'postgres';
  /** Redis for shared rate limits (CAIRN_REDIS_URL), e.g. redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Prefix of the shared limits' keys (default "cairn"): apart for deployments sharing one Redis. */
  rateLimitKeyPrefix?: string;
  /** How long a request waits for the shared limit store before this instance decides alone (default 250 ms). */
  rateLimitTimeoutMs?: number;
  /** Login tokens whose exp is further ahead are refused; default 3600. */
  maxLoginTtlSeconds?: number;
  /**
   * Deletes events older than this many days (CAIRN_RETENTION_DAYS), in batches, soon after start
   * and then hourly (retention.ts). Default: kept forever.
   */
  retentionDays?: number;
  sdkPath?: string;
  /** Server timeouts in ms. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** How often due trigger episodes are evaluated and due deliveries polled, ms (default 5000). */
  triggerPollMs?: number;
  /** A webhook POST is aborted after this long, ms (default 10000). */
  webhookTimeoutMs?: number;
  /** A delivery is retried for this long after its first attempt, ms (default 24 h); then 'failed'. */
  deliveryWindowMs?: number;
  /** Tests: the first retry's backoff ceiling, ms (default 30 s), and the jitter's random source. */
  webhookBackoff?: { baseMs?: number; capMs?: number; random?: () => number };
  /** Webhook deliveries off: no runner (tools that only read the database). Default on. */
  triggers?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
}

export { StartupError };

const redactUrl = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/** Reads and validates site configs; every problem is reported with its location. */
export function loadSiteConfigs(source: string | SiteConfigInput | SiteConfigInput[]): SiteConfig[] {
  let input: unknown = source;
  let where = 'config';
  if (typeof source === 'string') {
    where = source;
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (e) {
      throw new StartupError(
        `cannot read config ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    try {
      input = JSON.parse(text);
    } catch (e) {
      throw new StartupError(`${source}: not valid JSON (${(e as Error).message})`);
    }
  }
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) throw new StartupError(`${where}: no site config in it`);
  return list.map((item, i) => {
    const r = validateSiteConfig(item);
    const tooLarge = r.ok ? configSizeIssue(r.config) : null;
    if (r.ok && !tooLarge) return r.config;
    const at = list.length > 1 ? `${i}.` : '';
    const issues = (r.ok ? [tooLarge as { path: string; message: string }] : r.issues).map(
      (x) => `${at}${x.path}: ${x.message}`,
    );
    throw new StartupError(
      `${where}: invalid site config: ${issues.slice(0, 5).join('; ')}${issues.length > 5 ? ` (+${issues.length - 5} more)` : ''}`,
    );
  });
}

/**
 * Refuses configs whose regex conditions are open to ReDoS (or cannot be shown safe), as PUT
 * /v1/config would: the --config file must not seed what the API refuses.
 */
export async function checkConfigRegexes(configs: SiteConfig[], where = 'config'): Promise<void> {
  const lines: string[] = [];
  for (const [i, config] of configs.entries()) {
    for (const issue of await regexSafety.unsafeRegexes(config))
      lines.push(`${configs.length > 1 ? `${i}.` : ''}${issue.path}: ${issue.message}`);
  }
  if (lines.length)
    throw new StartupError(
      `${where}: invalid site config: ${lines.slice(0, 5).join('; ')}${lines.length > 5 ? ` (+${lines.length - 5} more)` : ''}`,
    );
}

async function seed(store: Store, configs: SiteConfig[]): Promise<void> {
  for (const config of configs) {
    const current = await store.getConfig(config.site);
    // Unchanged configs are left alone, so their ETag (and every cache) survives a restart.
    if (current && JSON.stringify(current.config) === JSON.stringify(config)) continue;
    const r = await store.putConfig(config.site, config);
    if (r === 'conflict') throw new StartupError(`could not seed the config of site ${config.site}`);
  }
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  // Keys first: a short one stops the start before anything is opened.
  const siteKeys = {
    sites: { ...(opts.keysFile ? loadKeysFile(opts.keysFile) : {}), ...opts.siteKeys?.sites },
    envStems: { ...opts.siteKeys?.envStems },
  };
  const keyRing = createKeyRing({
    adminKey: opts.adminKey,
    identitySecret: opts.identitySecret,
    backendKey: opts.backendKey,
    webhookSecret: opts.webhookSecret,
    ...siteKeys,
  });
  requireKeyLength('CAIRN_METRICS_KEY', opts.metricsKey);
  const limitKind = opts.rateLimitStore ?? (opts.redisUrl ? 'redis' : 'memory');
  if (limitKind === 'redis' && !opts.redisUrl)
    throw new StartupError('shared rate limits in Redis need CAIRN_REDIS_URL, e.g. redis://127.0.0.1:6379');
  if (limitKind === 'postgres' && !opts.databaseUrl)
    throw new StartupError('shared rate limits in PostgreSQL need DATABASE_URL (the store on PostgreSQL)');
  const configs = opts.config !== undefined ? loadSiteConfigs(opts.config) : [];
  await checkConfigRegexes(configs, typeof opts.config === 'string' ? opts.config : 'config');
  // A seeded config is saved as PUT /v1/config saves one: triggers need a secret to sign with.
  for (const c of configs)
    if (c.triggers.length > 0 && !keyRing.webhookSecretFor(c.site))
      throw new StartupError(missingWebhookSecret(c.site));
  let store: Store;
  const where = opts.databaseUrl
    ? `PostgreSQL at ${redactUrl(opts.databaseUrl)}`
    : `SQLite at ${opts.db ?? './.cairn/cairn.db'}`;
  try {
    if (opts.databaseUrl) {
      store = await openStore({ databaseUrl: opts.databaseUrl, ...(opts.pgSchema ? { pgSchema: opts.pgSchema } : {}) });
    } else {
      const sqlitePath = resolve(opts.db ?? './.cairn/cairn.db');
      mkdirSync(dirname(sqlitePath), { recursive: true });
      store = await openStore({ sqlitePath });
    }
  } catch (e) {
    throw new StartupError(`cannot open the database (${where}): ${oneLine(e)}`);
  }
  try {
    await seed(store, configs); // openStore has applied the migrations
  } catch (e) {
    await store.close().catch(() => {});
    if (e instanceof StartupError) throw e;
    throw new StartupError(`cannot prepare the database (${where}): ${oneLine(e)}`);
  }

  const logger = opts.logger ?? createLogger(opts.logLevel ?? 'info');
  const metrics = createMetrics();
  const keyPrefix = opts.rateLimitKeyPrefix ? { keyPrefix: opts.rateLimitKeyPrefix } : {};
  // Opened without waiting for an answer: a limit store that is down limits per instance, and the start goes on.
  const limitStore: LimitStore | undefined =
    limitKind === 'memory'
      ? undefined
      : openLimitStore(
          limitKind === 'redis'
            ? { kind: 'redis', url: opts.redisUrl as string, ...keyPrefix }
            : {
                kind: 'postgres',
                databaseUrl: opts.databaseUrl as string,
                ...(opts.pgSchema ? { pgSchema: opts.pgSchema } : {}),
                ...keyPrefix,
              },
          {
            log: logger === false ? silentLog : logger,
            metrics,
            ...(opts.rateLimitTimeoutMs !== undefined ? { timeoutMs: opts.rateLimitTimeoutMs } : {}),
          },
        );
  const deps: AppDeps = {
    store,
    logger,
    metrics,
    ...(limitStore ? { limitStore } : {}),
    knownConfigs: configs,
    ...(opts.adminKey ? { adminKey: opts.adminKey } : {}),
    ...(opts.identitySecret ? { identitySecret: opts.identitySecret } : {}),
    ...(opts.backendKey ? { backendKey: opts.backendKey } : {}),
    ...(opts.webhookSecret ? { webhookSecret: opts.webhookSecret } : {}),
    siteKeys,
    ...(opts.metricsKey ? { metricsKey: opts.metricsKey } : {}),
    ...(opts.origins ? { origins: opts.origins } : {}),
    ...(opts.rateLimit ? { rateLimit: opts.rateLimit } : {}),
    ...(opts.trustProxy ? { trustProxy: true } : {}),
    ...(opts.insecureCookies ? { insecureCookies: true } : {}),
    ...(opts.maxLoginTtlSeconds !== undefined ? { maxLoginTtlSeconds: opts.maxLoginTtlSeconds } : {}),
    ...(opts.sdkPath ? { sdkPath: opts.sdkPath } : {}),
  };
  const app = createApp(deps);
  const host = opts.host ?? '127.0.0.1';

  let server: Server;
  try {
    server = await new Promise<Server>((ok, fail) => {
      const s = serve({
        fetch: app.fetch,
        port: opts.port ?? 8787,
        hostname: host,
        serverOptions: {
          headersTimeout: opts.headersTimeoutMs ?? 10_000,
          requestTimeout: opts.requestTimeoutMs ?? 30_000,
          keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
          // How often the timeouts above are enforced (Node's default is every 30 s).
          connectionsCheckingInterval: 1_000,
        },
      }) as Server;
      s.once('error', fail);
      s.once('listening', () => {
        s.off('error', fail);
        ok(s);
      });
    });
  } catch (e) {
    await limitStore?.close().catch(() => {});
    await store.close().catch(() => {});
    throw new StartupError(`cannot listen on ${host}:${opts.port ?? 8787}: ${oneLine(e)}`);
  }
  // Connections are also reaped when they go quiet, whatever the phase.
  server.timeout = opts.requestTimeoutMs ?? 30_000;

  const port = (server.address() as AddressInfo).port;
  // This build's chunks into the database, for the other instances (and this one's successors) to
  // serve: after the current tick, never awaited here; a failure is a warning (sdk/sdk-chunks.ts).
  const archive: SdkArchive = startSdkArchive({
    store,
    sdkPath: () => opts.sdkPath ?? resolveSdkPath(),
    log: logger === false ? silentLog : logger,
  });
  let delivery: Delivery | undefined;
  const deliveryLog = logger === false ? silentLog : logger;
  if (opts.triggers !== false) {
    try {
      delivery = await startDelivery({
        store,
        secretFor: (site) => keyRing.webhookSecretFor(site),
        // Configs read afresh each tick: a trigger removed or changed applies at the next evaluation.
        evaluate: (at, limit) =>
          evaluateDue(
            {
              store,
              configs: createSiteConfigs(store, Date.now, emptyDefault),
              log: deliveryLog,
              cancelled: () => metrics.webhookDelivery('cancelled'),
            },
            at,
            limit,
          ),
        log: deliveryLog,
        metrics,
        ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
        ...(opts.pgSchema ? { pgSchema: opts.pgSchema } : {}),
        ...(opts.triggerPollMs !== undefined ? { pollMs: opts.triggerPollMs } : {}),
        ...(opts.webhookTimeoutMs !== undefined ? { timeoutMs: opts.webhookTimeoutMs } : {}),
        ...(opts.deliveryWindowMs !== undefined ? { windowMs: opts.deliveryWindowMs } : {}),
        ...(opts.webhookBackoff ? { backoff: opts.webhookBackoff } : {}),
      });
    } catch (e) {
      await new Promise<void>((ok) => server.close(() => ok()));
      await archive.stop();
      await limitStore?.close().catch(() => {});
      await store.close().catch(() => {});
      throw new StartupError(`cannot start webhook delivery (${where}): ${oneLine(e)}`);
    }
  }
  const retention: Retention | undefined =
    opts.retentionDays !== undefined && opts.retentionDays > 0
      ? startRetention({ store, days: opts.retentionDays, log: logger === false ? silentLog : logger })
      : undefined;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    store,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((ok) => {
          server.close(() => ok());
          server.closeAllConnections();
        });
        // Before the store closes: attempts in flight record their outcome.
        await delivery?.stop();
        await retention?.stop();
        await archive.stop();
        await limitStore?.close();
        await store.close();
      })()),
  };
}

export function oneLine(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = e.message.split('\n')[0] ?? '';
    return code && /^[A-Z0-9_]+$/.test(code) && !msg.includes(code) ? `${code} ${msg}`.trim() : msg || code || e.name;
  }
  return String(e);
}
