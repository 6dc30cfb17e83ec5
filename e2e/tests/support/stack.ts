// A private sync server + storefront for tests that stop and restart the server, or need their own
// database or shop settings. Each stack has its own SQLite file and free ports.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer, type StartOptions } from '@cairn/server';
import { startStorefront } from '@cairn/example-storefront/server.mjs';
import { E2E } from './env';

export const SITE_CONFIG_PATH = fileURLToPath(
  new URL('../../../examples/storefront/site-config.json', import.meta.url),
);
export const SITE_CONFIG = JSON.parse(readFileSync(SITE_CONFIG_PATH, 'utf8')) as {
  site: string;
  origins: string[];
  measurement?: { holdout: number };
  variants: {
    id: string;
    name: string;
    slots: Record<string, { text?: string; src?: string; alt?: string; href?: string }>;
    holdout?: number;
  }[];
  prompts: {
    id: string;
    kind: string;
    content: {
      title: string;
      consent?: string;
      cta: string;
      success?: string;
      providers?: { name: string; url: string }[];
    };
  }[];
  triggers?: Record<string, unknown>[];
};

// A probed port must stay free until the stack binds it, and again when the sync server restarts on
// it. Port 0 would hand out one from the kernel's ephemeral range (32768–60999 on Linux), where any
// outgoing connection from the browser or a fetch can take it in between: CI saw EADDRINUSE. So ports
// come from below that range, checked on every interface the servers bind.
const PORT_FLOOR = 20_000;
const PORT_CEILING = 32_000;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });
}

async function freePort(taken: number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (PORT_CEILING - PORT_FLOOR));
    if (!taken.includes(port) && (await canListen(port))) return port;
  }
  throw new Error(`no free port between ${PORT_FLOOR} and ${PORT_CEILING} after 50 tries`);
}

export interface Stack {
  shopUrl: string;
  syncUrl: string;
  db: string;
  stopSync(): Promise<void>;
  startSync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * - `sdk`: how the shop loads Cairn (see the storefront's options);
 * - `consent: 'pending'`: the shop starts Cairn without consent and shows its consent banner;
 * - `prompts: false`: the demo config without its prompts, for tests about something else;
 * - `config`: changes the demo config (a copy) before the stack serves it, e.g. a variant's holdout.
 *   Without it, no one is held out (`measurement.holdout: 0`): tests of something else expect the
 *   variants and prompts.
 * - `server`: more sync server options, e.g. `triggerPollMs` for the triggers' tests.
 * The demo's triggers are left out (they post to the demo's email tool, which is not started here):
 * a test about triggers adds its own in `config`, pointing at its own receiver.
 */
export async function startStack(
  opts: {
    sdk?: 'server' | 'bundle';
    consent?: 'pending';
    prompts?: false;
    config?: (config: typeof SITE_CONFIG) => typeof SITE_CONFIG;
    server?: Partial<StartOptions>;
  } = {},
): Promise<Stack> {
  const dir = mkdtempSync(join(E2E.dir, 'stack-'));
  const db = join(dir, 'cairn.db');
  const demo = { ...SITE_CONFIG, triggers: [], ...(opts.prompts === false ? { prompts: [] } : {}) };
  const siteConfig = opts.config ? opts.config(structuredClone(demo)) : { ...demo, measurement: { holdout: 0 } };
  const configPath = join(dir, 'site-config.json');
  writeFileSync(configPath, JSON.stringify(siteConfig));
  const shopPort = await freePort();
  const syncPort = await freePort([shopPort]);
  const shopOrigins = [`http://localhost:${shopPort}`, `http://127.0.0.1:${shopPort}`];
  const syncOpts = {
    port: syncPort,
    db,
    config: configPath,
    origins: shopOrigins,
    adminKey: E2E.adminKey,
    identitySecret: E2E.identitySecret,
    webhookSecret: E2E.webhookSecret,
    logger: false as const,
    rateLimit: { ip: false as const },
    ...opts.server,
  };
  let sync: RunningServer | null = await startServer(syncOpts);
  const shop = await startStorefront({
    port: shopPort,
    serverUrl: sync.url,
    identitySecret: E2E.identitySecret,
    site: SITE_CONFIG.site,
    sdk: opts.sdk ?? 'server',
    siteConfig,
    ...(opts.consent ? { consent: opts.consent } : {}),
  });
  const syncUrl = sync.url;
  return {
    shopUrl: shop.url,
    syncUrl,
    db,
    async stopSync() {
      await sync?.close();
      sync = null;
    },
    async startSync() {
      sync ??= await startServer(syncOpts);
    },
    async close() {
      await Promise.allSettled([shop.close(), sync?.close()]);
    },
  };
}
