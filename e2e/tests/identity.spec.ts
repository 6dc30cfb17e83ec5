// A phone's history follows the person to a desktop after a signed login; logout leaves
// nothing behind; another person on another device never sees it.
import { devices, expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { exportedProducts, signIn } from './support/account';
import { cairnReady, history, recorded } from './support/cairn';
import { SHOP } from './support/env';
import { flatten, readStorage } from './support/storage';

test.skip(({ isMobile }) => isMobile, 'drives its own phone and desktop contexts; runs once, in the desktop project');

const { defaultBrowserType: _p, ...PIXEL_7 } = devices['Pixel 7'];
const { defaultBrowserType: _d, ...DESKTOP } = devices['Desktop Chrome'];

async function device(browser: Browser, kind: 'phone' | 'desktop'): Promise<BrowserContext> {
  return browser.newContext({ ...(kind === 'phone' ? PIXEL_7 : DESKTOP), baseURL: SHOP });
}

const userName = (who: string) => `${who}-${test.info().workerIndex}-${Date.now().toString(36)}`;

const recentSkus = (page: Page) =>
  page.locator('[data-cairn-recent] [data-sku]').evaluateAll((els) => els.map((e) => e.getAttribute('data-sku')));

/** Records every SKU the recently-viewed block ever shows on this context's pages. */
async function watchRecent(context: BrowserContext): Promise<Set<string>> {
  const seen = new Set<string>();
  await context.exposeFunction('__recentSeen', (sku: string) => seen.add(sku));
  await context.addInitScript(() => {
    const report = (window as unknown as { __recentSeen: (s: string) => void }).__recentSeen;
    new MutationObserver(() => {
      document
        .querySelectorAll('[data-cairn-recent] [data-sku]')
        .forEach((el) => report(el.getAttribute('data-sku') ?? ''));
    }).observe(document, { childList: true, subtree: true });
  });
  return seen;
}

test('a phone history shows on the desktop after login; logout wipes it; bob never sees it', async ({
  browser,
  request,
}) => {
  const alice = userName('alice');
  const bob = userName('bob');
  const phoneProducts = ['NAPKIN-TERRA', 'DUVET-SAGE'];

  // The phone: two products, each read until its view is recorded (`cairn.ready` says the core is
  // ready, not that the page view is stored), then alice signs in.
  const phone = await device(browser, 'phone');
  const p = await phone.newPage();
  for (const [i, sku] of phoneProducts.entries()) {
    await p.goto(`/product/${sku}`);
    await recorded(p, i + 1);
  }
  await signIn(p, alice);
  // The phone's views reached the server under alice (admin export), so another device can get them.
  await expect.poll(() => exportedProducts(request, alice)).toEqual([...phoneProducts].sort());
  await phone.close();

  // The desktop: signs in as alice and finds the phone's products.
  const desk = await device(browser, 'desktop');
  const d = await desk.newPage();
  await d.goto('/');
  await cairnReady(d);
  await expect(d.locator('[data-cairn-recent] [data-sku]')).toHaveCount(0);
  await signIn(d, alice);
  await expect.poll(() => recentSkus(d)).toEqual(expect.arrayContaining(phoneProducts));
  const merged = await history(d);
  expect(merged.products).toEqual(expect.arrayContaining(phoneProducts));
  const fromPhone = merged.pageViews.filter((v) => v.product && phoneProducts.includes(v.product));
  expect(fromPhone.map((v) => v.device)).toEqual(fromPhone.map(() => 'mobile'));
  // …and on the next page too, from the stored profile.
  await d.goto('/');
  await expect.poll(() => recentSkus(d)).toEqual(expect.arrayContaining(phoneProducts));

  // Logout: nothing of alice stays on the desktop.
  const before = flatten(await readStorage(d));
  const ids = [...new Set(before.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi) ?? [])];
  expect(ids.length, 'ids held before logout').toBeGreaterThan(0);
  await d.goto('/logout');
  await expect(
    d
      .getByRole('main')
      .getByRole('status')
      .filter({ hasText: /sign|clear/i }),
  ).toHaveText('You are signed out, and this device no longer holds your history.');
  const after = await readStorage(d);
  const text = flatten(after);
  expect(text).not.toContain(alice);
  for (const sku of phoneProducts) expect(text).not.toContain(sku);
  for (const id of ids) expect(text, `id ${id} from before logout`).not.toContain(id);
  expect(
    await d.evaluate(async () =>
      JSON.stringify(await (window as unknown as { cairn: { history(): Promise<unknown> } }).cairn.history()),
    ),
  ).not.toMatch(new RegExp(phoneProducts.join('|')));
  await d.goto('/');
  await cairnReady(d);
  await expect(d.locator('[data-cairn-recent] [data-sku]')).toHaveCount(0);
  await desk.close();

  // A third device: bob never sees alice's products.
  const other = await device(browser, 'desktop');
  const seen = await watchRecent(other);
  const b = await other.newPage();
  await b.goto('/product/CLOTH-NATURAL');
  await cairnReady(b);
  await signIn(b, bob);
  await b.goto('/');
  await expect.poll(() => recentSkus(b)).toEqual(['CLOTH-NATURAL']);
  const bobs = await history(b);
  expect(bobs.products).toEqual(['CLOTH-NATURAL']);
  for (const sku of phoneProducts) expect(seen.has(sku), `bob saw ${sku}`).toBe(false);
  expect(flatten(await readStorage(b))).not.toContain(alice);
  await other.close();
});

test('a linked phone picks up, on its next page, what the desktop viewed since', async ({ browser, request }) => {
  const carol = userName('carol');
  const phone = await device(browser, 'phone');
  const p = await phone.newPage();
  await p.goto('/product/SHEET-OAT');
  await cairnReady(p);
  await signIn(p, carol);

  const desk = await device(browser, 'desktop');
  const d = await desk.newPage();
  await signIn(d, carol);
  await expect.poll(() => recentSkus(d)).toEqual(['SHEET-OAT']);
  await d.goto('/product/RUNNER-CHARCOAL');
  await cairnReady(d);
  await expect.poll(() => exportedProducts(request, carol)).toEqual(['RUNNER-CHARCOAL', 'SHEET-OAT']);

  // The phone starts a page: it pulls the merged profile (GET /v1/profile with its device token).
  await p.goto('/');
  await expect.poll(() => recentSkus(p)).toEqual(expect.arrayContaining(['RUNNER-CHARCOAL', 'SHEET-OAT']));
  const h = await history(p);
  expect(h.pageViews.find((v) => v.product === 'RUNNER-CHARCOAL')?.device).toBe('desktop');
  await Promise.all([phone.close(), desk.close()]);
});

test("a shared computer: signing in as someone else never shows the first person's history", async ({
  browser,
  request,
}) => {
  const dave = userName('dave');
  const erin = userName('erin');
  const shared = await device(browser, 'desktop');
  const page = await shared.newPage();
  await page.goto('/product/PILLOW-CHALK');
  await cairnReady(page);
  await signIn(page, dave);
  await expect.poll(() => exportedProducts(request, dave)).toEqual(['PILLOW-CHALK']);

  // No logout: erin signs in on the same browser.
  await signIn(page, erin);
  await expect(page.locator('[data-cairn-recent] [data-sku]')).toHaveCount(0);
  const h = await history(page);
  expect(h.products).not.toContain('PILLOW-CHALK');
  const text = flatten(await readStorage(page));
  expect(text).not.toContain(dave);
  expect(text).not.toContain('PILLOW-CHALK');
  // And the server did not give dave's history to erin.
  expect(await exportedProducts(request, erin)).toEqual([]);
  await shared.close();
});
