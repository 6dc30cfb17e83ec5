// Holdouts in Chromium: with half of the Pinterest variant's audience held out, new visitors split
// into both arms, each keeps theirs on reload, a held-out visitor never sees the variant at any
// frame, and both arms' exposure events reach the sync server's database. Before consent no one is
// held out and nothing is counted; the arm is decided on the first page with consent.
import { expect, test, type Page } from '@playwright/test';
import { cairnReady } from './support/cairn';
import { events } from './support/db';
import { SITE_CONFIG, startStack, type Stack } from './support/stack';

const VARIANT = 'pinterest-styling';
const LANDING = '/?utm_source=pinterest&utm_medium=social';
const VISITORS = 30;
const variantTitle = SITE_CONFIG.variants.find((v) => v.id === VARIANT)!.slots['hero-title']!.text!;

let stack: Stack;
test.beforeAll(async () => {
  stack = await startStack({
    prompts: false,
    config: (config) => ({
      ...config,
      variants: config.variants.map((v) => (v.id === VARIANT ? { ...v, holdout: 0.5 } : v)),
    }),
  });
});
test.afterAll(async () => stack?.close());

/** Records the hero title on every animation frame from the start of navigation (each frame is about to paint). */
async function recordTitles(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const titles: (string | null)[] = [];
    (window as unknown as { __titles: typeof titles }).__titles = titles;
    const tick = () => {
      titles.push(document.querySelector('[data-cairn-slot="hero-title"]')?.textContent ?? null);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

/** The hero titles painted since the page started loading, once the hero had its text. */
async function titlesSeen(page: Page): Promise<string[]> {
  await expect
    .poll(async () => (await page.evaluate(() => (window as unknown as { __titles: unknown[] }).__titles)).length)
    .toBeGreaterThan(2);
  const titles = await page.evaluate(() => (window as unknown as { __titles: (string | null)[] }).__titles);
  // An empty title is a frame taken while the parser had opened the hero but not reached its text:
  // neither arm's content.
  return titles.filter((t): t is string => !!t);
}

/** Loads (or reloads) the page and tells the arm from what every frame showed. */
async function arm(page: Page, load: () => Promise<unknown>, defaultTitle: string): Promise<'treated' | 'held'> {
  await load();
  await cairnReady(page);
  const seen = new Set(await titlesSeen(page));
  // One title from the first frame on: the variant's, or the default's, never both.
  expect([...seen].length, `titles seen: ${[...seen].join(' | ')}`).toBe(1);
  const title = [...seen][0];
  expect([variantTitle, defaultTitle]).toContain(title);
  return title === variantTitle ? 'treated' : 'held';
}

test('half held out: both arms, sticky on reload, no variant frame for the held out, both exposures stored', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const html = await (await fetch(stack.shopUrl + '/')).text();
  const defaultTitle = /data-cairn-slot="hero-title"[^>]*>([^<]+)</.exec(html)![1]!.replace(/&amp;/g, '&');
  expect(defaultTitle).not.toBe(variantTitle);

  const arms = new Map<string, 'treated' | 'held'>();
  for (let visitor = 0; visitor < VISITORS; visitor++) {
    const context = await browser.newContext({ baseURL: stack.shopUrl });
    const page = await context.newPage();
    await recordTitles(page);
    const first = await arm(page, () => page.goto(LANDING), defaultTitle);
    const device = (await context.cookies()).find((c) => c.name === 'cairn_id')?.value;
    expect(device, 'the device id cookie').toBeTruthy();
    // A reload, and another page of the visit that has the hero: the same arm.
    expect(await arm(page, () => page.reload(), defaultTitle)).toBe(first);
    expect(await arm(page, () => page.goto('/'), defaultTitle)).toBe(first);
    arms.set(device!, first);
    // What the last page recorded goes now, not at a page hide that closing the context may skip.
    await page.evaluate(() => (window as unknown as { cairn: { flush(): Promise<void> } }).cairn.flush());
    await context.close();
  }
  const held = [...arms.values()].filter((a) => a === 'held').length;
  console.log(`holdout 0.5: ${held} of ${arms.size} visitors held out`);
  expect(held, 'visitors held out').toBeGreaterThan(0);
  expect(held, 'visitors held out').toBeLessThan(arms.size);

  // Each visitor's three exposures reached the database, all of their own arm's kind.
  await expect
    .poll(() => events(stack.db).filter((e) => e.type === 'variant_applied' || e.type === 'variant_held').length, {
      timeout: 30_000,
    })
    .toBe(arms.size * 3);
  const stored = events(stack.db);
  for (const [device, a] of arms) {
    const exposures = stored.filter((e) => e.deviceId === device && /^variant_(applied|held)$/.test(e.type));
    expect(exposures.map((e) => e.type)).toEqual(Array(3).fill(a === 'held' ? 'variant_held' : 'variant_applied'));
    for (const e of exposures) expect(e.body).toMatchObject({ variant: VARIANT });
  }
});

test.describe('before consent', () => {
  let pending: Stack;
  test.beforeAll(async () => {
    pending = await startStack({
      consent: 'pending',
      prompts: false,
      config: (config) => ({
        ...config,
        variants: config.variants.map((v) => (v.id === VARIANT ? { ...v, holdout: 0.5 } : v)),
      }),
    });
  });
  test.afterAll(async () => pending?.close());

  test('every page shows the variant and counts nothing; after Accept the arm is decided once and kept', async ({
    browser,
  }) => {
    test.setTimeout(180_000);
    const html = await (await fetch(pending.shopUrl + '/')).text();
    const defaultTitle = /data-cairn-slot="hero-title"[^>]*>([^<]+)</.exec(html)![1]!.replace(/&amp;/g, '&');
    const exposures = (device?: string) =>
      events(pending.db).filter(
        (e) => /^variant_(applied|held)$/.test(e.type) && (device === undefined || e.deviceId === device),
      );
    // Six visitors of three pages at a holdout of 0.5: an arm drawn per page would hold most of them out somewhere.
    for (let visitor = 0; visitor < 6; visitor++) {
      const context = await browser.newContext({ baseURL: pending.shopUrl });
      const page = await context.newPage();
      await recordTitles(page);
      expect(await arm(page, () => page.goto(LANDING), defaultTitle)).toBe('treated');
      expect(await arm(page, () => page.reload(), defaultTitle)).toBe('treated');
      expect(await arm(page, () => page.goto(LANDING + '&utm_campaign=again'), defaultTitle)).toBe('treated');
      expect((await context.cookies()).find((c) => c.name === 'cairn_id')).toBeUndefined();

      // Accept on the third page: what it held is sent, its touch and page view, and no exposure.
      await page.getByRole('button', { name: 'Accept' }).click();
      await expect.poll(async () => (await context.cookies()).find((c) => c.name === 'cairn_id')?.value).toBeTruthy();
      const device = (await context.cookies()).find((c) => c.name === 'cairn_id')!.value;
      await expect
        .poll(() => events(pending.db).filter((e) => e.deviceId === device && e.type === 'page').length, {
          timeout: 30_000,
        })
        .toBe(1);
      expect(exposures(device)).toEqual([]);

      // The next pages start granted: the arm is decided on the first, with the kept id, and kept.
      const first = await arm(page, () => page.goto(LANDING), defaultTitle);
      expect(await arm(page, () => page.reload(), defaultTitle)).toBe(first);
      await page.evaluate(() => (window as unknown as { cairn: { flush(): Promise<void> } }).cairn.flush());
      await expect.poll(() => exposures(device).length, { timeout: 30_000 }).toBe(2);
      expect(exposures(device).map((e) => e.type)).toEqual(
        Array(2).fill(first === 'held' ? 'variant_held' : 'variant_applied'),
      );
      await context.close();
    }
    // Every exposure stored is of a page with consent: two per visitor.
    expect(exposures()).toHaveLength(12);
  });
});
