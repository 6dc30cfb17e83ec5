// The SDK knows where the visitor came from and what they saw, across pages, tabs and
// reloads, and degrades without IndexedDB.
import { expect, test } from '@playwright/test';
import { cairnReady, history, recorded, touches } from './support/cairn';

test('a Pinterest visit: the touch and the page views survive a reload', async ({ page }) => {
  await page.goto('/?utm_source=pinterest&utm_medium=social');
  await recorded(page, 1);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Bedding' }).click();
  await expect(page).toHaveURL(/\/category\/bedding$/);
  await recorded(page, 2);
  await page
    .getByRole('link', { name: /Stonewashed sheet set/ })
    .first()
    .click();
  await expect(page).toHaveURL(/\/product\/SHEET-OAT$/);
  await recorded(page, 3);

  await page.reload();
  await cairnReady(page);
  const t = await touches(page);
  for (const which of ['first', 'last', 'current'] as const) {
    expect(t[which], which).toMatchObject({
      source: 'pinterest',
      medium: 'social',
      channel: 'Organic Social',
      landingPath: '/',
    });
  }

  const h = await recorded(page, 4);
  // Oldest first: the landing, the category, the product, then the reload of the product.
  const paths = h.pageViews.map((p) => p.path).reverse();
  expect(paths).toEqual(['/', '/category/bedding', '/product/SHEET-OAT', '/product/SHEET-OAT']);
  const product = h.pageViews.find((p) => p.path === '/product/SHEET-OAT');
  expect(product).toMatchObject({ product: 'SHEET-OAT', category: 'bedding' });
  expect(h.products).toEqual(['SHEET-OAT']);
  expect(h.categories).toEqual(['bedding']);
  // One visit: internal navigation and a reload are not new touches or sessions.
  expect(h.sessions).toHaveLength(1);
  expect(h.sessions[0]).toMatchObject({ pages: 4, touch: { source: 'pinterest' } });
  expect(h.touches.map((x) => x.source)).toEqual(['pinterest']);
  expect(new Set(h.pageViews.map((p) => p.session))).toEqual(new Set([h.sessions[0]!.id]));
});

test('five tabs browsing at once lose no page view, and the session counter is exact', async ({ context, page }) => {
  await page.goto('/');
  await recorded(page, 1);
  const routes = [
    ['/category/bedding', '/product/SHEET-OAT', '/product/DUVET-SAGE'],
    ['/category/table', '/product/NAPKIN-TERRA', '/product/CLOTH-NATURAL'],
    ['/guides/care', '/product/PILLOW-CHALK', '/product/RUNNER-CHARCOAL'],
    ['/guides/styling', '/guides/buying', '/cart'],
    ['/product/SHEET-OAT', '/category/table', '/'],
  ];
  const tabs = [page, ...(await Promise.all(routes.slice(1).map(() => context.newPage())))];
  await Promise.all(
    tabs.map(async (tab, i) => {
      for (const path of routes[i]!) {
        await tab.goto(path);
        // A read of the history queues behind this page's own write: the visitor leaves once it is stored.
        await history(tab);
      }
    }),
  );

  const all = ['/', ...routes.flat()];
  await expect
    .poll(async () => (await history(page)).pageViews.length, { message: 'page views recorded' })
    .toBe(all.length);
  const h = await history(page);
  const count = (list: string[]) =>
    Object.fromEntries([...new Set(all)].map((path) => [path, list.filter((p) => p === path).length]));
  expect(count(h.pageViews.map((p) => p.path))).toEqual(count(all));
  expect(new Set(h.pageViews.map((p) => p.id)).size, 'distinct page view ids').toBe(all.length);
  // Recorded on this device (page views merged back from the synced profile carry no session).
  expect(
    h.pageViews.filter((p) => p.session !== h.sessions[0]?.id).map((p) => p.path),
    'page views outside the session',
  ).toEqual([]);
  expect(
    h.sessions.map((s) => s.pages),
    'sessions and their page counters',
  ).toEqual([all.length]);
});

test('without IndexedDB the SDK still works, and the page logs no error', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    // Both: drop the instance property if any, and shadow the prototype getter.
    delete (window as { indexedDB?: unknown }).indexedDB;
    Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
  });

  await page.goto('/?utm_source=pinterest&utm_medium=social');
  expect(await page.evaluate(() => typeof indexedDB)).toBe('undefined');
  await recorded(page, 1);
  // Variants do not need IndexedDB: the Pinterest hero is there.
  await expect(page.locator('[data-cairn-slot="hero-title"]')).toHaveText('Make your bed look like the pin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Table linen' }).click();
  await expect(page).toHaveURL(/\/category\/table$/);
  await cairnReady(page);

  const t = await touches(page);
  expect(t.current).toMatchObject({ source: 'pinterest', medium: 'social' });
  // The localStorage fallback keeps the history across pages.
  const h = await recorded(page, 2);
  expect(h.pageViews.map((p) => p.path).reverse()).toEqual(['/', '/category/table']);
  expect(h.categories).toEqual(['table']);
  expect(errors).toEqual([]);
});

test("under the shop's strict CSP nothing is blocked, and no error is logged", async ({ page, context }) => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as { __csp?: string[] };
      (w.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const violations = () => page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);

  const res = await page.goto('/?utm_source=pinterest&utm_medium=social&cairn_debug=1');
  const csp = res?.headers()['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'self' http:\/\/127\.0\.0\.1:\d+ 'nonce-[^']+'/);
  expect(csp).toContain("style-src 'self'");
  expect(csp).not.toMatch(/unsafe-(inline|eval)/);
  // The one-tag setup: the SDK comes from the sync server, with the config embedded.
  await expect(page.locator('head script[src*="/v1/sdk.js?site=demo"]')).toHaveCount(1);
  await recorded(page, 1);
  await expect(page.locator('[data-cairn-slot="hero-title"]')).toHaveText('Make your bed look like the pin');
  await expect(page.locator('cairn-debug')).toBeVisible();
  expect(await violations()).toEqual([]);

  // The 3rd page brings the prompt (styled through a constructable stylesheet).
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Bedding', exact: true }).click();
  await recorded(page, 2);
  await page
    .getByRole('link', { name: /Linen duvet cover/ })
    .first()
    .click();
  await expect(page.locator('[data-cairn-prompt]')).toHaveCount(1);
  expect(await violations()).toEqual([]);

  // The plain bundle from the shop, with the config inline, works the same under the same policy.
  await page.goto('/plain?utm_source=facebook&utm_medium=paid_social');
  await expect(page.locator('head script[src="/cairn.js"]')).toHaveCount(1);
  await expect(page.locator('script#cairn-config')).toHaveCount(1);
  await cairnReady(page);
  await expect(page.locator('[data-cairn-slot="hero-title"]')).toHaveText('20% off your first linen set');
  expect(await violations()).toEqual([]);
  expect(errors).toEqual([]);
});
