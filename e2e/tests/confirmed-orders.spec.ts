// The demo shop confirms its own orders as a backend should: at checkout, its server signs the
// order with the cart total it holds and the browser's cairn_id cookie, and posts it to the sync
// server. With `orders.confirmation: "required"`, the report counts that order at the shop's
// total, whatever the page sent. In Chromium, on a stack of its own.
import { expect, test } from '@playwright/test';
import { E2E } from './support/env';
import { startStack, type Stack } from './support/stack';

test.skip(({ isMobile }) => isMobile, 'one checkout on its own stack; runs once, in the desktop project');

const SITE = E2E.site;
const ADMIN = { authorization: `Bearer ${E2E.adminKey}` };
let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack({ prompts: false });
  const current = await fetch(`${stack.syncUrl}/v1/config?site=${SITE}`);
  const saved = await fetch(`${stack.syncUrl}/v1/config`, {
    method: 'PUT',
    headers: { ...ADMIN, 'content-type': 'application/json', 'if-match': current.headers.get('etag') ?? '*' },
    body: JSON.stringify({ ...((await current.json()) as object), orders: { confirmation: 'required' } }),
  });
  expect(saved.status).toBe(200);
});
test.afterAll(async () => {
  await stack?.close();
});

interface Report {
  totals: { orders: number; revenue: number };
  orderChecks: { confirmationRequired: boolean; unconfirmed: number; conflictingClaims: number };
}

test('a checkout counts at the shop’s total, for this browser, even when the page says otherwise', async ({
  page,
  context,
}) => {
  // Two sheet sets (149 EUR each) in the cart cookie the shop's server reads.
  await context.addCookies([{ name: 'cart', value: 'SHEET-OAT:2', url: stack.shopUrl }]);
  await page.goto(`${stack.shopUrl}/checkout`);
  await page.evaluate(() => (window as unknown as { cairn: { ready: Promise<unknown> } }).cairn.ready);
  const deviceId = (await context.cookies(stack.shopUrl)).find((c) => c.name === 'cairn_id')?.value;
  expect(deviceId).toBeTruthy();
  // The page's own number is the browser's to change: here, 1 EUR.
  await page.locator('[data-checkout]').evaluate((form: HTMLElement) => {
    form.dataset.total = '1';
  });
  await page.getByLabel('Name').fill('Ada');
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Address').fill('1 Linen Road');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByRole('heading', { name: 'Thank you' })).toBeVisible();

  const report = async (): Promise<Report> => {
    const r = await fetch(`${stack.syncUrl}/v1/reports/channels?site=${SITE}`, { headers: ADMIN });
    return (await r.json()) as Report;
  };
  // The purchase event arrives when the SDK sends it; the confirmation came with the checkout.
  await expect.poll(async () => (await report()).totals.orders).toBe(1);
  const r = await report();
  expect(r.totals.revenue).toBe(298);
  expect(r.orderChecks).toEqual({ confirmationRequired: true, conflictingClaims: 0, unconfirmed: 0 });
});
