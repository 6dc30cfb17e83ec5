// One place for the e2e run's fixed settings. The config and every worker import it; the temp
// directory is made once by the runner and handed to workers (and the web server) through the env.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = process.env;
env.CAIRN_E2E_DIR ??= mkdtempSync(join(tmpdir(), 'cairn-e2e-'));

export const E2E = {
  dir: env.CAIRN_E2E_DIR,
  /** The shared demo stack started by Playwright's webServer. */
  shopPort: Number(env.CAIRN_E2E_SHOP_PORT ?? 3100),
  serverPort: Number(env.CAIRN_E2E_SERVER_PORT ?? 8790),
  db: join(env.CAIRN_E2E_DIR, 'cairn.db'),
  identitySecret: 'e2e-identity-secret-0123456789abcdef',
  adminKey: 'e2e-admin-key-0123456789abcdefghijklmn',
  /** Signs the triggers' webhooks; the demo's email tool checks them with it. */
  webhookSecret: 'e2e-webhook-secret-0123456789abcdefgh',
  site: 'demo',
} as const;

export const SHOP = `http://localhost:${E2E.shopPort}`;
export const SYNC = `http://127.0.0.1:${E2E.serverPort}`;
