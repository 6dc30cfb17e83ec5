#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { validateSiteConfig } from '@cairn/schema';
import { MAX_LOGIN_TTL_SECONDS, signIdentity } from './identity/identity-token.js';
import { oneLine, startServer, StartupError } from './server.js';
import { regexSafety } from './config/regex-safety.js';
import { configSizeIssue } from './config/site-configs.js';
import { siteKeysFromEnv } from './keys/site-keys.js';
import { createLogger, type LogLevel } from './log.js';
import { DEFAULT_RATE_LIMITS } from './app.js';

// cairn-server: start the sync server, sign a test identity token, or validate a site config.
// Every failure is one line on stderr and a non-zero exit, never a stack trace.

const HELP = `Usage:
  cairn-server [options]                              start the sync server
  cairn-server sign --user <id> --site <site> [--ttl <seconds>] [--device <id>] [--secret <s>]
                                                      print a signed identity token (for testing)
  cairn-server config validate <file>                 check a site-config file (schema, and regexes for ReDoS)

Server options (flag, else environment variable, else default):
  --port <n>           CAIRN_SERVER_PORT    8787 (0 picks a free port)
  --host <addr>        CAIRN_SERVER_HOST    127.0.0.1 (loopback only; 0.0.0.0 to expose)
  --db <file>                               ./.cairn/cairn.db (SQLite, created if missing)
                       DATABASE_URL         use PostgreSQL instead, e.g. postgres://user@host/db
  --pg-schema <name>   CAIRN_PG_SCHEMA      PostgreSQL schema (default: the connection's)
  --config <file>                           site config(s) to validate and seed at start
  --origins <a,b>      CAIRN_ORIGINS        browser origins allowed for every site (CORS)
                       CAIRN_ADMIN_KEY      the admin key for every site: config, users, reports, console
                       CAIRN_IDENTITY_SECRET  shared with the storefront backend that signs logins
                       CAIRN_BACKEND_KEY    for the store's backend: the CRM traits endpoints of every site, nothing else
                       CAIRN_WEBHOOK_SECRET signs the trigger webhooks (a site with triggers needs one)
                       CAIRN_SITE_<SITE>_ADMIN_KEY, _IDENTITY_SECRET, _BACKEND_KEY, _WEBHOOK_SECRET
                                            one site's own keys; <SITE> is the site id upper-cased,
                                            other characters than A-Z and 0-9 as _ (my-shop: MY_SHOP)
  --keys <file>        CAIRN_KEYS_FILE      per-site keys: { "<site>": { "adminKey", "identitySecret",
                                            "backendKey", "webhookSecret" } }
                       CAIRN_METRICS_KEY    required as "Authorization: Bearer" on /metrics (else open)
                                            every key and secret: 32 characters or more, 9 different
  --rate-ip <n>        CAIRN_RATE_IP        requests/s per IP, bursts of 10x (${DEFAULT_RATE_LIMITS.ip.perSecond}; 0 = off)
  --rate-device <n>    CAIRN_RATE_DEVICE    requests/s per device, bursts of 10x (${DEFAULT_RATE_LIMITS.device.perSecond}; 0 = off)
  --trust-proxy        CAIRN_TRUST_PROXY=1  take the client IP from X-Forwarded-For (its last entry)
  --insecure-cookies   CAIRN_INSECURE_COOKIES=1
                                            server cookies without Secure on plain http (local development, tests only)
  --rate-limit-store <s>  CAIRN_RATE_LIMIT_STORE
                                            where limits are counted: memory (this instance), redis
                                            (CAIRN_REDIS_URL) or postgres (DATABASE_URL), shared by every
                                            instance; default redis when CAIRN_REDIS_URL is set, else memory
                       CAIRN_REDIS_URL      Redis for limits shared by every instance, e.g. redis://127.0.0.1:6379
  --retention-days <n> CAIRN_RETENTION_DAYS delete events older than n days, hourly in batches (0 = keep all)
  --max-login-ttl <s>  CAIRN_MAX_LOGIN_TTL  refuse login tokens whose exp is further ahead (${MAX_LOGIN_TTL_SECONDS})
  --trigger-poll-ms <n>  CAIRN_TRIGGER_POLL_MS
                                            how often due trigger episodes and webhook retries run (5000)
  --webhook-timeout-ms <n>  CAIRN_WEBHOOK_TIMEOUT_MS
                                            a webhook POST with no answer by then is a failed attempt (10000)
  --delivery-window-ms <n>  CAIRN_DELIVERY_WINDOW_MS
                                            a webhook is retried this long after its first attempt (86400000)
  --log-level <l>      CAIRN_LOG_LEVEL      info (fatal, error, warn, info, debug, silent)
  -h, --help
`;

class UsageError extends Error {}

function fail(message: string, code = 1): never {
  process.stderr.write(`cairn-server: ${message.split('\n')[0]}\n`);
  process.exit(code);
}

function int(name: string, value: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max)
    throw new UsageError(`${name} must be an integer from 0 to ${max}, got "${value}"`);
  return Number(value);
}

function rate(name: string, value: string | undefined, fallback: number) {
  if (value === undefined || value === '') return { perSecond: fallback, burst: fallback * 10 };
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || value.trim() === '')
    throw new UsageError(`${name} must be a number of requests per second (0 = off), got "${value}"`);
  return n === 0 ? false : { perSecond: n, burst: Math.max(1, n * 10) };
}

/** Seconds, at least 1: a login token must be usable for a moment. */
function loginTtl(name: string, value: string | undefined): number {
  const seconds = int(name, value, MAX_LOGIN_TTL_SECONDS);
  if (seconds === 0) throw new UsageError(`${name} must be at least 1 second`);
  return seconds;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LIMIT_STORES = ['memory', 'redis', 'postgres'];

async function serveCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      'pg-schema': { type: 'string' },
      config: { type: 'string' },
      keys: { type: 'string' },
      origins: { type: 'string' },
      'rate-ip': { type: 'string' },
      'rate-device': { type: 'string' },
      'trust-proxy': { type: 'boolean' },
      'insecure-cookies': { type: 'boolean' },
      'rate-limit-store': { type: 'string' },
      'retention-days': { type: 'string' },
      'max-login-ttl': { type: 'string' },
      'log-level': { type: 'string' },
      'trigger-poll-ms': { type: 'string' },
      'webhook-timeout-ms': { type: 'string' },
      'delivery-window-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length && positionals[0] !== 'serve')
    throw new UsageError(`unknown command "${positionals[0]}"; run cairn-server --help`);
  const env = process.env;
  const port = int('--port', values.port ?? env.CAIRN_SERVER_PORT, 8787, 65535);
  const logLevel = values['log-level'] ?? env.CAIRN_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  const originsText = values.origins ?? env.CAIRN_ORIGINS ?? '';
  const origins = originsText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const o of origins) {
    let ok = false;
    try {
      const u = new URL(o);
      ok = /^https?:$/.test(u.protocol) && u.origin === o;
    } catch {}
    if (!ok)
      throw new UsageError(
        `--origins: "${o}" is not an origin like https://shop.example (scheme, host, optional port, no path)`,
      );
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  const keysFile = values.keys ?? env.CAIRN_KEYS_FILE;
  const pgSchema = values['pg-schema'] ?? env.CAIRN_PG_SCHEMA;
  const limitStore = values['rate-limit-store'] ?? env.CAIRN_RATE_LIMIT_STORE ?? '';
  if (limitStore !== '' && !LIMIT_STORES.includes(limitStore))
    throw new UsageError(`--rate-limit-store must be one of ${LIMIT_STORES.join(', ')}, got "${limitStore}"`);
  const redisUrl = env.CAIRN_REDIS_URL || undefined;
  const retentionDays = int('--retention-days', values['retention-days'] ?? env.CAIRN_RETENTION_DAYS, 0, 36_500);
  const logger = createLogger(logLevel as LogLevel);
  const positive = (name: string, value: string | undefined, fallback: number, max: number) => {
    const n = int(name, value, fallback, max);
    if (n === 0) throw new UsageError(`${name} must be at least 1`);
    return n;
  };
  const triggerPollMs = positive(
    '--trigger-poll-ms',
    values['trigger-poll-ms'] ?? env.CAIRN_TRIGGER_POLL_MS,
    5000,
    3_600_000,
  );
  const webhookTimeoutMs = positive(
    '--webhook-timeout-ms',
    values['webhook-timeout-ms'] ?? env.CAIRN_WEBHOOK_TIMEOUT_MS,
    10_000,
    300_000,
  );
  const deliveryWindowMs = positive(
    '--delivery-window-ms',
    values['delivery-window-ms'] ?? env.CAIRN_DELIVERY_WINDOW_MS,
    86_400_000,
    30 * 86_400_000,
  );

  const running = await startServer({
    port,
    host: values.host ?? env.CAIRN_SERVER_HOST ?? '127.0.0.1',
    ...(values.db ? { db: values.db } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(pgSchema ? { pgSchema } : {}),
    ...(values.config ? { config: values.config } : {}),
    ...(env.CAIRN_ADMIN_KEY ? { adminKey: env.CAIRN_ADMIN_KEY } : {}),
    ...(env.CAIRN_IDENTITY_SECRET ? { identitySecret: env.CAIRN_IDENTITY_SECRET } : {}),
    ...(env.CAIRN_BACKEND_KEY ? { backendKey: env.CAIRN_BACKEND_KEY } : {}),
    ...(env.CAIRN_WEBHOOK_SECRET ? { webhookSecret: env.CAIRN_WEBHOOK_SECRET } : {}),
    ...(keysFile ? { keysFile } : {}),
    siteKeys: { envStems: siteKeysFromEnv(env) },
    ...(env.CAIRN_METRICS_KEY ? { metricsKey: env.CAIRN_METRICS_KEY } : {}),
    origins,
    logger,
    rateLimit: {
      ip: rate('--rate-ip', values['rate-ip'] ?? env.CAIRN_RATE_IP, DEFAULT_RATE_LIMITS.ip.perSecond),
      device: rate(
        '--rate-device',
        values['rate-device'] ?? env.CAIRN_RATE_DEVICE,
        DEFAULT_RATE_LIMITS.device.perSecond,
      ),
    },
    trustProxy: values['trust-proxy'] ?? env.CAIRN_TRUST_PROXY === '1',
    insecureCookies: values['insecure-cookies'] ?? env.CAIRN_INSECURE_COOKIES === '1',
    ...(limitStore ? { rateLimitStore: limitStore as 'memory' | 'redis' | 'postgres' } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    ...(retentionDays > 0 ? { retentionDays } : {}),
    triggerPollMs,
    webhookTimeoutMs,
    deliveryWindowMs,
    maxLoginTtlSeconds: loginTtl('--max-login-ttl', values['max-login-ttl'] ?? env.CAIRN_MAX_LOGIN_TTL),
  });
  logger.info(
    {
      url: running.url,
      store: running.store.kind,
      admin: Boolean(env.CAIRN_ADMIN_KEY),
      identity: Boolean(env.CAIRN_IDENTITY_SECRET),
    },
    'listening',
  );
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function signCommand(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string' },
      site: { type: 'string' },
      ttl: { type: 'string' },
      secret: { type: 'string' },
      device: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  if (!values.user) throw new UsageError('sign needs --user <id>');
  if (!values.site) throw new UsageError('sign needs --site <site>');
  const secret = values.secret ?? process.env.CAIRN_IDENTITY_SECRET;
  if (!secret) throw new UsageError('sign needs CAIRN_IDENTITY_SECRET or --secret');
  const ttl = int('--ttl', values.ttl, 600);
  if (ttl === 0) throw new UsageError('--ttl must be at least 1 second');
  const token = signIdentity({
    userId: values.user,
    site: values.site,
    secret,
    ttlSeconds: ttl,
    ...(values.device ? { deviceId: values.device } : {}),
  });
  process.stdout.write(token + '\n');
}

/** Prints every problem (schema, then ReDoS) as `path: message`, one a line, and exits 1; or prints "ok". */
async function validateCommand(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals[0] !== 'validate' || positionals.length !== 2)
    throw new UsageError('usage: cairn-server config validate <file>');
  const file = positionals[1] as string;
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    fail(e instanceof SyntaxError ? `${file}: not valid JSON (${e.message})` : `cannot read ${file}: ${oneLine(e)}`);
  }
  const list = Array.isArray(input) ? input : [input];
  const lines: string[] = [];
  for (const [i, item] of list.entries()) {
    const r = validateSiteConfig(item);
    const tooLarge = r.ok ? configSizeIssue(r.config) : null;
    const issues = r.ok ? (tooLarge ? [tooLarge] : await regexSafety.unsafeRegexes(r.config)) : r.issues;
    for (const x of issues) lines.push(`${list.length > 1 ? `${i}.` : ''}${x.path}: ${x.message}`);
  }
  if (lines.length) {
    process.stderr.write(lines.join('\n') + '\n');
    process.exit(1);
  }
  process.stdout.write('ok\n');
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === 'sign') return signCommand(rest);
  if (cmd === 'config') return validateCommand(rest);
  return serveCommand(cmd === 'serve' ? rest : argv);
}

process.on('uncaughtException', (e) => fail(oneLine(e)));
process.on('unhandledRejection', (e) => fail(oneLine(e)));

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError || e instanceof StartupError) fail(e.message, e instanceof UsageError ? 2 : 1);
  // parseArgs errors (unknown or malformed flags) carry a code starting with ERR_PARSE_ARGS.
  const code = (e as { code?: string }).code ?? '';
  if (code.startsWith('ERR_PARSE_ARGS'))
    fail(
      `${oneLine(e)
        .replace(/^ERR_PARSE_ARGS_\w+ /, '')
        .replace(/\. To specify a positional.*$/, '.')} Run cairn-server --help.`,
      2,
    );
  fail(oneLine(e));
});
