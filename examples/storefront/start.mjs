#!/usr/bin/env node
// Starts the whole demo: the Cairn sync server (SQLite, demo config seeded) and the storefront that
// loads Cairn from it with one script tag. Ctrl-C stops both.
//
// Env: CAIRN_DEMO_PORT (3000), CAIRN_SERVER_PORT (8787), CAIRN_DB or --db (./.cairn/cairn.db here),
// CAIRN_ADMIN_KEY, CAIRN_IDENTITY_SECRET, CAIRN_RATE_IP / CAIRN_RATE_DEVICE (requests/s, 0 = off),
// CAIRN_LOG_LEVEL (warn), CAIRN_DEMO_SDK (server | bundle).
import { readFileSync } from 'node:fs';
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
const DEV_ADMIN_KEY = 'cairn-dev-admin-key';
const adminKey = env.CAIRN_ADMIN_KEY || DEV_ADMIN_KEY;
// Shared by the shop (which signs logins) and the sync server (which checks them); both run here.
// A fixed dev secret, so `pnpm demo:seed` can sign logins the demo's server accepts; set your own outside the demo.
const DEV_IDENTITY_SECRET = 'cairn-dev-identity-secret';
const identitySecret = env.CAIRN_IDENTITY_SECRET || DEV_IDENTITY_SECRET;
const sdk = env.CAIRN_DEMO_SDK === 'bundle' ? 'bundle' : 'server';

const config = JSON.parse(readFileSync(SITE_CONFIG_PATH, 'utf8'));
const shopOrigins = [`http://localhost:${shopPort}`, `http://127.0.0.1:${shopPort}`];
config.origins = [...new Set([...(config.origins ?? []), ...shopOrigins])];

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
  shop = await startStorefront({ port: shopPort, serverUrl: sync.url, identitySecret, site: config.site, sdk });
} catch (e) {
  await sync?.close().catch(() => {});
  if (e instanceof StartupError) fail(e.message);
  if (e?.code === 'EADDRINUSE') fail(`port ${shopPort} is in use; set CAIRN_DEMO_PORT`);
  fail(e instanceof Error ? e.message : String(e));
}

console.log(`Cairn sync server  ${sync.url}   (SQLite ${db})`);
console.log(`Demo storefront    ${shop.url}`);
if (adminKey === DEV_ADMIN_KEY) console.log(`Admin key          ${DEV_ADMIN_KEY}   (dev default; set CAIRN_ADMIN_KEY)`);
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
