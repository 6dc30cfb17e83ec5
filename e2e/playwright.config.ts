import { fileURLToPath } from 'node:url';
import { defineConfig, devices } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../scripts/chromium.mjs';
import { E2E, SHOP } from './tests/support/env';

const launchOptions = {
  executablePath: CHROMIUM_PATH,
  // Subdomains of one shop for the cookie-domain test (subdomains.spec.ts), all on loopback.
  args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP *.shop.test 127.0.0.1'],
};

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    baseURL: SHOP,
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'desktop', use: { ...devices['Desktop Chrome'], launchOptions } },
    { name: 'mobile', use: { ...devices['Pixel 7'], launchOptions } },
  ],
  // The demo exactly as `start.mjs` runs it, on test ports, with a fresh SQLite file per run.
  webServer: {
    command: 'node start.mjs',
    cwd: fileURLToPath(new URL('../examples/storefront/', import.meta.url)),
    url: `${SHOP}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      CAIRN_DEMO_PORT: String(E2E.shopPort),
      CAIRN_SERVER_PORT: String(E2E.serverPort),
      CAIRN_DB: E2E.db,
      CAIRN_IDENTITY_SECRET: E2E.identitySecret,
      CAIRN_ADMIN_KEY: E2E.adminKey,
      CAIRN_WEBHOOK_SECRET: E2E.webhookSecret,
      // Every test browser shares 127.0.0.1: lift the per-IP limit, keep the per-device one.
      CAIRN_RATE_IP: '1000',
      CAIRN_LOG_LEVEL: 'warn',
      // Every visitor gets the variants: a test about something else must not land in a holdout
      // (tests/holdout.spec.ts runs its own stack with one).
      CAIRN_DEMO_HOLDOUT: '0',
    },
  },
});
