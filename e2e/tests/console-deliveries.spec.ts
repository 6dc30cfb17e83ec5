// The console's delivery log in Chromium, under its strict CSP: a delivered webhook, one the receiver
// refuses (retrying, with the receiver's status), and one cancelled because nobody can be reached,
// each with its trigger, person, attempts and reason, as text; the status filter asks the server.
import { randomUUID } from 'node:crypto';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { startEmailTool } from '@cairn/example-storefront/email-tool.mjs';
import { signIdentity } from '@cairn/server';
import { crossDevice } from '../../scripts/seed.mjs';
import { E2E } from './support/env';
import { startStack, type Stack } from './support/stack';

test.skip(({ isMobile }) => isMobile, 'a desktop tool on its own stack; runs once, in the desktop project');

const ADMIN = { authorization: `Bearer ${E2E.adminKey}` };
// A user id is whatever the shop's backend signs: markup in it must stay text.
const MARKUP_USER = `<img src=x onerror="window.__xss=1">-${Date.now().toString(36)}`;

let stack: Stack;
let tool: Awaited<ReturnType<typeof startEmailTool>>;
/** An email tool that was given another secret: it refuses every webhook with a 400. */
let misconfigured: Awaited<ReturnType<typeof startEmailTool>>;

test.beforeAll(async () => {
  tool = await startEmailTool({ port: 0, secret: E2E.webhookSecret, site: E2E.site });
  misconfigured = await startEmailTool({ port: 0, secret: 'another-secret-0123456789abcdefghijkl' });
  stack = await startStack({
    prompts: false,
    // The refused delivery stays 'retrying' for the whole test: its next attempt is minutes away.
    server: { triggerPollMs: 100, webhookBackoff: { baseMs: 600_000, capMs: 600_000, random: () => 1 } },
    config: (config) => ({
      ...config,
      measurement: { holdout: 0 },
      triggers: [
        {
          id: 'browse-abandon',
          on: 'browse_abandoned',
          after: '1s',
          minProductViews: 2,
          channels: ['email'],
          url: tool.webhookUrl,
        },
        { id: 'cart-abandon', on: 'cart_abandoned', after: '1s', channels: ['email'], url: misconfigured.webhookUrl },
      ],
    }),
  });
});
test.afterAll(async () => {
  await stack?.close();
  await Promise.all([tool?.close(), misconfigured?.close()]);
});

interface LogRow {
  trigger: string;
  status: string;
}

async function statuses(request: APIRequestContext): Promise<string[]> {
  const r = await request.get(`${stack.syncUrl}/v1/deliveries?site=${E2E.site}`, { headers: ADMIN });
  expect(r.status()).toBe(200);
  const rows = ((await r.json()) as { deliveries: LogRow[] }).deliveries;
  return rows.map((d) => `${d.trigger} ${d.status}`).sort();
}

async function collect(request: APIRequestContext, deviceId: string, token: string, events: object[]) {
  const r = await request.post(`${stack.syncUrl}/v1/collect`, {
    headers: { authorization: `Bearer ${token}` },
    data: { site: E2E.site, deviceId, events },
  });
  expect(r.ok(), await r.text()).toBe(true);
}

async function openDeliveries(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${stack.syncUrl}/console`);
  await page.getByLabel('Admin key').fill(E2E.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Deliveries' }).click();
  return problems;
}

test('delivered, retrying and cancelled, each with its receiver status and reason; filtered by status', async ({
  page,
  request,
}) => {
  test.setTimeout(90_000);
  // Delivered: a person who browsed on a phone and signed in (the seed's cross-device journey).
  await crossDevice({
    url: stack.syncUrl,
    site: E2E.site,
    secret: E2E.identitySecret,
    userId: MARKUP_USER,
    products: ['SHEET-OAT', 'CLOTH-NATURAL'],
  });
  // Retrying: a signed-in person's cart, posted to the email tool with the wrong secret (400).
  const cartDevice = randomUUID();
  const cartToken = randomUUID();
  const cartUser = `cart-${Date.now().toString(36)}`;
  // Signed in first: with `after` at 1 s, a poll between the two requests would find an anonymous cart.
  const identify = await request.post(`${stack.syncUrl}/v1/identify`, {
    headers: { authorization: `Bearer ${cartToken}` },
    data: {
      site: E2E.site,
      deviceId: cartDevice,
      userId: cartUser,
      token: signIdentity({ userId: cartUser, secret: E2E.identitySecret, site: E2E.site, deviceId: cartDevice }),
      device: 'desktop',
    },
  });
  expect(identify.ok(), await identify.text()).toBe(true);
  await collect(request, cartDevice, cartToken, [
    { id: randomUUID(), type: 'add_to_cart', at: Date.now() - 5000, sku: 'DUVET-SAGE', value: 179, currency: 'EUR' },
  ]);
  // Cancelled: an anonymous device, nobody to email.
  const now = Date.now();
  await collect(
    request,
    randomUUID(),
    randomUUID(),
    ['PILLOW-CHALK', 'RUNNER-CHARCOAL'].map((sku, i) => ({
      id: randomUUID(),
      type: 'page',
      at: now - 5000 + i,
      path: `/product/${sku}`,
      title: sku,
      session: randomUUID(),
      device: 'mobile',
      product: sku,
    })),
  );
  await expect
    .poll(() => statuses(request), { timeout: 30_000 })
    .toEqual(['browse-abandon cancelled', 'browse-abandon delivered', 'cart-abandon retrying']);

  const problems = await openDeliveries(page);
  const rows = page.locator('#deliveries-table tbody tr');
  await expect(rows).toHaveCount(3);
  const delivered = rows.filter({ has: page.locator('td', { hasText: /^delivered$/ }) });
  await expect(delivered).toHaveCount(1);
  await expect(delivered.locator('td').nth(1)).toContainText('browse-abandon');
  await expect(delivered.locator('td').nth(2)).toHaveText(`user ${MARKUP_USER}`);
  await expect(delivered.locator('td').nth(4)).toHaveText('1');
  await expect(delivered.locator('td').nth(5)).toHaveText('200');

  const retrying = rows.filter({ has: page.locator('td', { hasText: /^retrying$/ }) });
  await expect(retrying.locator('td').nth(1)).toContainText('cart-abandon');
  await expect(retrying.locator('td').nth(2)).toHaveText(`user ${cartUser}`);
  await expect(retrying.locator('td').nth(5)).toHaveText('400');
  await expect(retrying.locator('td').nth(6)).toContainText('next attempt');

  const cancelled = rows.filter({ has: page.locator('td', { hasText: /^cancelled$/ }) });
  await expect(cancelled.locator('td').nth(2)).toHaveText('anonymous device');
  await expect(cancelled.locator('td').nth(4)).toHaveText('0');
  await expect(cancelled.locator('td').nth(6)).toContainText('no channel to reach the person');

  // The filter asks the server for one status.
  await page.getByLabel('Status').selectOption('retrying');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('cart-abandon');
  await expect(page.locator('#deliveries-status')).toHaveText('1 delivery retrying, newest first.');

  // The user id's markup stayed text: no image was made of it, nothing ran.
  expect(await page.locator('#deliveries img').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(problems).toEqual([]);
  // The email tool rendered the same user id as text too.
  expect(tool.received()).toHaveLength(1);
  await page.goto(tool.url);
  await expect(page.locator('article.email')).toContainText(`user ${MARKUP_USER}`);
  expect(await page.locator('article.email img').count()).toBe(0);
});

test("the config editor holds the site's triggers, and names the trigger a problem is in", async ({ page }) => {
  const problems = await openDeliveries(page);
  const textarea = page.locator('#config-text');
  // The editor reads the config with the admin key: the triggers are in it (browsers never get them).
  await expect(textarea).toHaveValue(/"cart-abandon"/);
  await expect(page.locator('#config-valid')).toHaveText('Valid');
  const config = JSON.parse(await textarea.inputValue()) as { triggers: { id: string; url: string }[] };
  config.triggers[1]!.url = 'ftp://mail.example/hooks';
  await textarea.fill(JSON.stringify(config, null, 2));
  const issues = page.locator('#config-issues li');
  await expect(issues).toHaveCount(1);
  await expect(issues.first()).toContainText('triggers.1.url');
  await expect(issues.first()).toContainText('in trigger "cart-abandon"');
  expect(problems).toEqual([]);
});
