#!/usr/bin/env node
// Starts the whole demo: the Cairn sync server (SQLite, demo config seeded) and the storefront that
// loads Cairn from it with one script tag. Ctrl-C stops both.
//
// Env: CAIRN_DEMO_PORT (3000), CAIRN_SERVER_PORT (8787), CAIRN_DB or --db (./.cairn/cairn.db here),
// CAIRN_ADMIN_KEY, CAIRN_IDENTITY_SECRET (default: random ones made at the first start and kept in
// .cairn/dev-keys.json here), CAIRN_RATE_IP / CAIRN_RATE_DEVICE (requests/s, 0 = off),
// CAIRN_LOG_LEVEL (warn), CAIRN_DEMO_SDK (server | bundle).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer, StartupError } from '@cairn/server';
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
const db = resolve(args.db ?? env.CAIRN_DB ?? join(HERE, '.cairn', 'cairn.db'));
// The demo's keys: random, made at the first start and kept beside the demo's database, so the
// console's sign-in and `npm run demo:seed` (which signs logins) keep working across restarts.
const DEV_KEYS_PATH = join(HERE, '.cairn', 'dev-keys.json');
function devKeys() {
  try {
    const kept = JSON.parse(readFileSync(DEV_KEYS_PATH, 'utf8'));
    if (kept.adminKey?.length >= 32 && kept.identitySecret?.length >= 32) return kept;
  } catch {}
  const made = { adminKey: randomBytes(32).toString('hex'), identitySecret: randomBytes(32).toString('hex') };
  mkdirSync(dirname(DEV_KEYS_PATH), { recursive: true });
  writeFileSync(DEV_KEYS_PATH, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600 });
  return made;
}
const kept = env.CAIRN_ADMIN_KEY && env.CAIRN_IDENTITY_SECRET ? null : devKeys();
const adminKey = env.CAIRN_ADMIN_KEY || kept.adminKey;
// Shared by the shop (which signs logins) and the sync server (which checks them); both run here.
const identitySecret = env.CAIRN_IDENTITY_SECRET || kept.identitySecret;
const sdk = env.CAIRN_DEMO_SDK === 'bundle' ? 'bundle' : 'server';

const config = JSON.parse(readFileSync(SITE_CONFIG_PATH, 'utf8'));
const shopOrigins = [`http://localhost:${shopPort}`, `http://127.0.0.1:${shopPort}`];
config.origins = [...new Set([...(config.origins ?? []), ...shopOrigins])];
// The site-wide holdout (0 to 0.5), e.g. 0 for tests that are not about holdouts.
if (env.CAIRN_DEMO_HOLDOUT) config.measurement = { ...config.measurement, holdout: Number(env.CAIRN_DEMO_HOLDOUT) };

const rateLimit = { ip: rate('CAIRN_RATE_IP'), device: rate('CAIRN_RATE_DEVICE') };

let sync;
let shop;
try {
  sync = await startServer({
    port: serverPort,
    db,
    config,
    adminKey,
    identitySecret,
    origins: shopOrigins,
    logLevel: env.CAIRN_LOG_LEVEL ?? 'warn',
    ...(rateLimit.ip !== undefined || rateLimit.device !== undefined
      ? { rateLimit: Object.fromEntries(Object.entries(rateLimit).filter(([, v]) => v !== undefined)) }
      : {}),
  });
  // The same config inlined by the shop's plain-bundle pages as the sync server serves.
  shop = await startStorefront({
    port: shopPort,
    serverUrl: sync.url,
    identitySecret,
    site: config.site,
    sdk,
    siteConfig: config,
  });
} catch (e) {
  await sync?.close().catch(() => {});
  if (e instanceof StartupError) fail(e.message);
  if (e?.code === 'EADDRINUSE') fail(`port ${shopPort} is in use; set CAIRN_DEMO_PORT`);
  fail(e instanceof Error ? e.message : String(e));
}

console.log(`Cairn sync server  ${sync.url}   (SQLite ${db})`);
console.log(`Demo storefront    ${shop.url}`);
console.log(`Marketer console   ${sync.url}/console   (sign in with the admin key)`);
if (!env.CAIRN_ADMIN_KEY)
  console.log(`Admin key          in ${DEV_KEYS_PATH}   (made for this demo; or set CAIRN_ADMIN_KEY)`);
console.log('Seed a month of shoppers: npm run demo:seed (in another terminal)');
console.log('Ctrl-C stops both.');

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping`);
  await Promise.allSettled([shop.close(), sync.close()]);
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
