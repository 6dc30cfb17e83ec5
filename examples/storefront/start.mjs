#!/usr/bin/env node
// Starts the whole demo: the Cairn sync server (SQLite, demo config seeded), the storefront that
// loads Cairn from it with one script tag, and the local "email tool" that receives the triggers'
// webhooks. Ctrl-C stops all three.
//
// Env: CAIRN_DEMO_PORT (3000), CAIRN_SERVER_PORT (8787), CAIRN_DEMO_EMAIL_PORT (the shop's + 1: 3001),
// CAIRN_DB or --db (./.cairn/cairn.db here), CAIRN_ADMIN_KEY, CAIRN_IDENTITY_SECRET,
// CAIRN_WEBHOOK_SECRET (default: random ones made at the first start and kept in .cairn/dev-keys.json
// here), CAIRN_RATE_IP / CAIRN_RATE_DEVICE (requests/s, 0 = off), CAIRN_LOG_LEVEL (warn),
// CAIRN_DEMO_SDK (server | bundle).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer, StartupError } from '@cairn/server';
import { startEmailTool } from './email-tool.mjs';
import { SITE_CONFIG_PATH, startStorefront } from './server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const env = process.env;

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(1);
}

function port(name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${name} must be a port number, got "${raw}"`);
  return n;
}

function rate(name) {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) fail(`${name} must be a number of requests per second, got "${raw}"`);
  return n === 0 ? false : { perSecond: n, burst: n * 10 };
}

let args;
try {
  args = parseArgs({ options: { db: { type: 'string' } } }).values;
} catch (e) {
  fail(e.message);
}

const shopPort = port('CAIRN_DEMO_PORT', 3000);
const serverPort = port('CAIRN_SERVER_PORT', 8787);
// Beside the shop by default, so a second demo (the e2e suite's, on 3100) gets its own.
const emailPort = port('CAIRN_DEMO_EMAIL_PORT', shopPort === 0 ? 0 : shopPort + 1);
const db = resolve(args.db ?? env.CAIRN_DB ?? join(HERE, '.cairn', 'cairn.db'));
// The demo's keys: random, made at the first start and kept beside the demo's database, so the
// console's sign-in and `npm run demo:seed` (which signs logins) keep working across restarts. A
// file from before a key existed gets that key added; the others stay as they were.
const DEV_KEYS_PATH = join(HERE, '.cairn', 'dev-keys.json');
const KEY_NAMES = ['adminKey', 'identitySecret', 'webhookSecret'];
function devKeys() {
  let kept = {};
  try {
    kept = JSON.parse(readFileSync(DEV_KEYS_PATH, 'utf8')) ?? {};
  } catch {}
  const keys = { ...kept };
  for (const name of KEY_NAMES)
    if (!(typeof keys[name] === 'string' && keys[name].length >= 32)) keys[name] = randomBytes(32).toString('hex');
  if (KEY_NAMES.some((name) => keys[name] !== kept[name])) {
    mkdirSync(dirname(DEV_KEYS_PATH), { recursive: true });
    writeFileSync(DEV_KEYS_PATH, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  }
  return keys;
}
const kept = env.CAIRN_ADMIN_KEY && env.CAIRN_IDENTITY_SECRET && env.CAIRN_WEBHOOK_SECRET ? {} : devKeys();
const adminKey = env.CAIRN_ADMIN_KEY || kept.adminKey;
// Shared by the shop (which signs logins) and the sync server (which checks them); both run here.
const identitySecret = env.CAIRN_IDENTITY_SECRET || kept.identitySecret;
// Shared by the sync server (which signs the triggers' webhooks) and the email tool (which checks them).
const webhookSecret = env.CAIRN_WEBHOOK_SECRET || kept.webhookSecret;
const sdk = env.CAIRN_DEMO_SDK === 'bundle' ? 'bundle' : 'server';

const config = JSON.parse(readFileSync(SITE_CONFIG_PATH, 'utf8'));
const shopOrigins = [`http://localhost:${shopPort}`, `http://127.0.0.1:${shopPort}`];
config.origins = [...new Set([...(config.origins ?? []), ...shopOrigins])];
// The site-wide holdout (0 to 0.5), e.g. 0 for tests that are not about holdouts.
if (env.CAIRN_DEMO_HOLDOUT) config.measurement = { ...config.measurement, holdout: Number(env.CAIRN_DEMO_HOLDOUT) };

const rateLimit = { ip: rate('CAIRN_RATE_IP'), device: rate('CAIRN_RATE_DEVICE') };

/** The demo's triggers post to the email tool started here, wherever its port ended up. */
const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\//;

let email;
let sync;
let shop;
try {
  email = await startEmailTool({ port: emailPort, secret: webhookSecret, site: config.site });
  config.triggers = (config.triggers ?? []).map((t) => (LOOPBACK.test(t.url) ? { ...t, url: email.webhookUrl } : t));
  sync = await startServer({
    port: serverPort,
    db,
    config,
    adminKey,
    identitySecret,
    webhookSecret,
    origins: shopOrigins,
    logLevel: env.CAIRN_LOG_LEVEL ?? 'warn',
    ...(rateLimit.ip !== undefined || rateLimit.device !== undefined
      ? { rateLimit: Object.fromEntries(Object.entries(rateLimit).filter(([, v]) => v !== undefined)) }
      : {}),
  });
  // The same config inlined by the shop's plain-bundle pages as the sync server serves: without the
  // triggers, which are the server's business (their URLs are never sent to browsers).
  const { triggers: _serverOnly, ...publicConfig } = config;
  shop = await startStorefront({
    port: shopPort,
    serverUrl: sync.url,
    identitySecret,
    site: config.site,
    sdk,
    siteConfig: publicConfig,
  });
} catch (e) {
  await Promise.allSettled([sync?.close(), email?.close()]);
  if (e instanceof StartupError) fail(e.message);
  if (e?.code === 'EADDRINUSE' && !email) fail(`port ${emailPort} is in use; set CAIRN_DEMO_EMAIL_PORT`);
  if (e?.code === 'EADDRINUSE') fail(`port ${shopPort} is in use; set CAIRN_DEMO_PORT`);
  fail(e instanceof Error ? e.message : String(e));
}

console.log(`Cairn sync server  ${sync.url}   (SQLite ${db})`);
console.log(`Demo storefront    ${shop.url}`);
console.log(`Marketer console   ${sync.url}/console   (sign in with the admin key; Deliveries: the webhook log)`);
console.log(`Email tool         ${email.url}   (the webhooks the triggers sent, checked with the webhook secret)`);
if (!env.CAIRN_ADMIN_KEY)
  console.log(`Admin key          in ${DEV_KEYS_PATH}   (made for this demo; or set CAIRN_ADMIN_KEY)`);
console.log('Seed a month of shoppers: npm run demo:seed (in another terminal)');
console.log('Ctrl-C stops all three.');

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping`);
  await Promise.allSettled([shop.close(), sync.close(), email.close()]);
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
