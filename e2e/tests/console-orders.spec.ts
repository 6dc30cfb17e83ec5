// The console says what the revenue report left out: purchases that named an order someone else
// reported first, and, once the site requires confirmed orders, the orders nobody confirmed.
// In Chromium, on a stack of its own, with the orders posted through the real endpoints.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { E2E } from './support/env';
import { startStack, type Stack } from './support/stack';

test.skip(({ isMobile }) => isMobile, 'a desktop tool on its own stack; runs once, in the desktop project');
test.describe.configure({ mode: 'serial' });

const SITE = E2E.site;
const ADMIN = { authorization: `Bearer ${E2E.adminKey}` };
let stack: Stack;

/** One device's batch, as the SDK sends it: its own token from the first request. */
async function collect(events: Record<string, unknown>[]): Promise<void> {
  const token = randomBytes(24).toString('base64url');
  const r = await fetch(`${stack.syncUrl}/v1/collect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ site: SITE, deviceId: randomUUID(), events }),
  });
  expect(r.status).toBe(202);
}

const touch = (at: number, source: string, channel: string) => ({
  id: randomUUID(),
  type: 'touch',
  at,
  touch: { source, medium: 'x', channel, landingPath: '/', at },
});
const purchase = (at: number, orderId: string, value: number) => ({
  id: randomUUID(),
  type: 'purchase',
  at,
  orderId,
  value,
  currency: 'EUR',
});

async function signIn(page: Page): Promise<void> {
  await page.goto(`${stack.syncUrl}/console/`);
  await page.getByLabel('Admin key').fill(E2E.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#channel-table tbody tr.channel').first()).toBeVisible();
}

test.beforeAll(async () => {
  stack = await startStack();
  const now = Date.now();
  // The customer's order first; then a stranger posts its id again, "earlier" and at 0 EUR.
  await collect([touch(now - 3_600_000, 'google', 'Paid Search'), purchase(now - 3_000_000, 'E2E-ORDER-1', 250)]);
  await collect([touch(now - 7_200_000, 'evil.example', 'Referral'), purchase(now - 7_000_000, 'E2E-ORDER-1', 0)]);
});
test.afterAll(async () => {
  await stack?.close();
});

test('shows the ignored claim beside the revenue, which stays the customer’s', async ({ page }) => {
  await signIn(page);
  await expect(page.locator('#order-checks')).toHaveText(
    '1 purchase report named an order someone else reported first: ignored.',
  );
  await expect(page.locator('#kpis')).toContainText('€250');
});

test('with confirmation required, says how many orders were left out unconfirmed', async ({ page }) => {
  const current = await fetch(`${stack.syncUrl}/v1/config?site=${SITE}`);
  const config = (await current.json()) as Record<string, unknown>;
  const saved = await fetch(`${stack.syncUrl}/v1/config`, {
    method: 'PUT',
    headers: { ...ADMIN, 'content-type': 'application/json', 'if-match': current.headers.get('etag') ?? '*' },
    body: JSON.stringify({ ...config, orders: { confirmation: 'required' } }),
  });
  expect(saved.status).toBe(200);
  await signIn(page);
  await expect(page.locator('#order-checks')).toHaveText(
    'Only orders confirmed by the shop count: 1 unconfirmed left out. 1 purchase report named an order someone else reported first: ignored.',
  );
});
