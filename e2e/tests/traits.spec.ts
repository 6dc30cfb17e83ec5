// CRM traits in Chromium: the store's backend sets a person's traits (PUT /v1/users/:id/traits), and
// a variant targeting { "tier": "vip" } applies from the first page after that person logs in,
// before first paint: never to an anonymous visitor, never on the login page itself (no content
// changes under the visitor's eyes), never to a person without the trait, and no longer after logout.
import { expect, test, type Page } from '@playwright/test';
import { signIn } from './support/account';
import { cairnReady } from './support/cairn';
import { query } from './support/db';
import { E2E } from './support/env';
import { SITE_CONFIG, startStack, type Stack } from './support/stack';

const VIP_TITLE = 'Welcome back: the VIP edit, before anyone else';
const DEFAULT_TITLE_PATTERN = /data-cairn-slot="hero-title"[^>]*>([^<]+)</;

let stack: Stack;
test.beforeAll(async () => {
  stack = await startStack({
    prompts: false,
    config: (config) => {
      // The demo's triggers need a webhook secret this stack does not set; they are not the subject here.
      const { triggers: _serverOnly, ...rest } = config as typeof config & { triggers?: unknown };
      const vip = {
        id: 'vip-hero',
        name: 'VIP hero',
        when: { traits: { tier: 'vip' } },
        priority: 100,
        slots: { 'hero-title': { text: VIP_TITLE } },
      };
      return { ...rest, measurement: { holdout: 0 }, variants: [vip, ...rest.variants] } as typeof config;
    },
  });
});
test.afterAll(async () => stack?.close());

const userName = (who: string) =>
  `${who}-${test.info().project.name}-${test.info().workerIndex}-${Date.now().toString(36)}`;

/** The store's backend sets the user's CRM traits, with the site's admin key. */
async function setTraits(page: Page, user: string, traits: Record<string, string | number | boolean>) {
  const res = await page.request.put(`${stack.syncUrl}/v1/users/${encodeURIComponent(user)}/traits?site=${E2E.site}`, {
    headers: { authorization: `Bearer ${E2E.adminKey}` },
    data: traits,
  });
  expect(res.status(), await res.text()).toBe(200);
}

/**
 * From the start of every navigation: the hero title at DOMContentLoaded, and on every animation
 * frame (each frame is about to paint).
 */
async function recordTitles(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __titles: (string | null)[]; __atParsed?: string | null };
    const title = () => document.querySelector('[data-cairn-slot="hero-title"]')?.textContent ?? null;
    w.__titles = [];
    document.addEventListener('DOMContentLoaded', () => (w.__atParsed = title()));
    const tick = () => {
      w.__titles.push(title());
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

/** Loads the home page; resolves to the title once parsed and every title a frame showed. */
async function home(page: Page): Promise<{ atParsed: string | null; painted: string[] }> {
  await page.goto('/');
  await cairnReady(page);
  const read = () =>
    page.evaluate(() => {
      const w = window as unknown as { __titles: (string | null)[]; __atParsed?: string | null };
      return { atParsed: w.__atParsed ?? null, titles: w.__titles };
    });
  await expect.poll(async () => (await read()).titles.filter(Boolean).length).toBeGreaterThan(2);
  const { atParsed, titles } = await read();
  // An empty title is a frame taken while the parser had opened the hero but not reached its text.
  return { atParsed, painted: [...new Set(titles.filter((t): t is string => !!t))] };
}

let defaultTitle: string;
test.beforeAll(async ({ request }) => {
  const html = await (await request.get(`${stack.shopUrl}/`)).text();
  defaultTitle = DEFAULT_TITLE_PATTERN.exec(html)?.[1]?.replace(/&amp;/g, '&').replace(/&#39;/g, "'") ?? '';
  expect(defaultTitle.length).toBeGreaterThan(5);
  expect(SITE_CONFIG.variants.length).toBeGreaterThan(0);
});

test('a VIP gets the variant from the first page after login, before first paint; not before, not after logout', async ({
  browser,
}) => {
  const context = await browser.newContext({ baseURL: stack.shopUrl });
  const page = await context.newPage();
  await recordTitles(page);
  const ann = userName('ann');
  await setTraits(page, ann, { tier: 'VIP', email: 'ann@example.com', lifetimeValue: 1234 });

  // Anonymous: the traits are the server's, never this device's. Two pages, the default on both.
  for (let i = 0; i < 2; i++) {
    const { atParsed, painted } = await home(page);
    expect(atParsed).toBe(defaultTitle);
    expect(painted).toEqual([defaultTitle]);
  }
  const anonymousState = await page.evaluate(() => localStorage.getItem('cairn') ?? '');
  expect(anonymousState).not.toContain('"r"');

  await signIn(page, ann);

  // The next page: the variant is decided before first paint, from the traits the login brought.
  const { atParsed, painted } = await home(page);
  expect(atParsed).toBe(VIP_TITLE);
  expect(painted, 'titles painted').toEqual([VIP_TITLE]);
  // Only the trait the config names is kept on the device, not the rest of the CRM's record.
  const state = JSON.parse(await page.evaluate(() => localStorage.getItem('cairn') ?? '{}'));
  expect(state.r).toEqual({ tier: 'VIP' });
  expect(JSON.stringify(state)).not.toContain('ann@example.com');

  // Logout: the traits go with the rest, and the default comes back.
  await page.goto('/logout');
  await expect(
    page
      .getByRole('main')
      .getByRole('status')
      .filter({ hasText: /sign|clear/i }),
  ).toHaveText('You are signed out, and this device no longer holds your history.');
  const after = await home(page);
  expect(after.atParsed).toBe(defaultTitle);
  expect(after.painted).toEqual([defaultTitle]);
  expect(await page.evaluate(() => localStorage.getItem('cairn') ?? '')).not.toContain('"r"');
  await context.close();
});

test('a person without the trait never sees the variant, logged in or not', async ({ browser }) => {
  for (const [who, traits] of [
    ['bob', { tier: 'gold' }],
    ['cleo', null],
  ] as const) {
    const context = await browser.newContext({ baseURL: stack.shopUrl });
    const page = await context.newPage();
    await recordTitles(page);
    const user = userName(who);
    if (traits) await setTraits(page, user, traits);
    const before = await home(page);
    await signIn(page, user);
    const next = await home(page);
    const again = await home(page);
    for (const seen of [before, next, again]) {
      expect(seen.atParsed, who).toBe(defaultTitle);
      expect(seen.painted, who).toEqual([defaultTitle]);
    }
    await context.close();
  }
});

test('a VIP who refuses consent: the server records the refusal on the device, and the traits are gone', async ({
  browser,
}) => {
  const context = await browser.newContext({ baseURL: stack.shopUrl });
  const page = await context.newPage();
  await recordTitles(page);
  const dee = userName('dee');
  await setTraits(page, dee, { tier: 'vip' });
  await home(page);
  await signIn(page, dee);
  expect((await home(page)).atParsed).toBe(VIP_TITLE);
  const device = JSON.parse(await page.evaluate(() => localStorage.getItem('cairn') ?? '{}')).d as string;
  const deniedAt = () =>
    query(stack.db, 'SELECT denied_at FROM devices WHERE site = ? AND device_id = ?', E2E.site, device)[0]?.denied_at;
  expect(deniedAt()).toBeNull();

  await page.evaluate(() => (window as unknown as { cairn: { consent(s: string): void } }).cairn.consent('denied'));
  // The logout with reason 'denied' reached the server before the device forgot itself.
  await expect.poll(deniedAt).toEqual(expect.any(Number));
  const after = await home(page);
  expect(after.atParsed).toBe(defaultTitle);
  expect(after.painted).toEqual([defaultTitle]);
  expect(await page.evaluate(() => localStorage.getItem('cairn'))).toBeNull();
  await context.close();
});
