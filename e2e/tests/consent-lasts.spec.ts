// A visitor's "no" lasts: after cairn.consent('denied'), the shop's next pages (whose tag sets no
// data-consent, so the config's default, granted, would apply) store nothing but the refusal's own
// cookie and send nothing, in the tab, in a tab already open and in a tab opened afterwards, until
// the visitor grants.
import { expect, test, type Page } from '@playwright/test';
import { cairnReady, settle } from './support/cairn';
import { events } from './support/db';
import { readStorage, type StorageDump } from './support/storage';
import { startStack, type Stack } from './support/stack';

let stack: Stack;
test.afterEach(async () => {
  await stack?.close();
});

type Api = {
  consent(state: string): void;
  track(name: string): void;
  flush(): Promise<void>;
  touch(): { current: unknown };
};
type CairnWindow = Window & { cairn: Api };
/** What the site's consent manager does with the visitor's choice. */
const consent = (page: Page, state: string) =>
  page.evaluate((s) => (window as unknown as CairnWindow).cairn.consent(s), state);
/** What the shop tracks, sent at once. */
const trackAndFlush = (page: Page, name: string) =>
  page.evaluate(async (n) => {
    const c = (window as unknown as CairnWindow).cairn;
    c.track(n);
    await c.flush();
  }, name);

/** The refusal's cookie, and nothing else anywhere. */
const ONLY_THE_MARKER: StorageDump = {
  cookies: [{ name: 'cairn_consent', value: 'denied' }],
  localStorage: {},
  sessionStorage: {},
  indexedDB: [],
};

/** A visit that does what a visitor does: browses, saves a product, and the shop tracks and flushes. */
async function visit(page: Page, path: string): Promise<void> {
  await page.goto(stack.shopUrl + path);
  await cairnReady(page);
  if (path.startsWith('/product/')) await page.getByRole('button', { name: 'Save for later' }).click();
  await trackAndFlush(page, 'after_denial');
  await settle(page);
}

test('a denial holds on the next pages and in new tabs until the visitor grants', async ({ context }) => {
  // The bundle served by the shop, its config inline: the only requests to the sync server are the
  // SDK's own. No prompt gets in the way of the clicks.
  stack = await startStack({ sdk: 'bundle', prompts: false });
  const toSync: string[] = [];
  context.on('request', (r) => {
    if (r.url().startsWith(stack.syncUrl)) toSync.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });

  // Two tabs browse, granted by the config's default.
  const [a, b] = [await context.newPage(), await context.newPage()];
  await a.goto(`${stack.shopUrl}/`);
  await cairnReady(a);
  await b.goto(`${stack.shopUrl}/category/table`);
  await cairnReady(b);
  await expect.poll(() => events(stack.db).filter((e) => e.type === 'page').length, { timeout: 30_000 }).toBe(2);
  expect((await readStorage(a, context)).cookies.map((c) => c.name)).toContain('cairn_id');

  // The visitor refuses in tab a: the open tab b hears of it, and only the refusal's cookie stays.
  await consent(a, 'denied');
  await expect.poll(() => b.evaluate(() => (window as unknown as CairnWindow).cairn.touch().current)).toBeNull();
  await expect.poll(() => readStorage(a, context)).toEqual(ONLY_THE_MARKER);
  const stored = events(stack.db).length;
  const sent = toSync.length;

  // The next page in a, the next page in b (the tag sets no data-consent), and a tab opened now.
  await visit(a, '/category/bedding');
  await visit(b, '/product/NAPKIN-TERRA');
  const c = await context.newPage();
  await visit(c, '/product/SHEET-OAT');
  // Left: page hide sends nothing either.
  await visit(c, '/guides/care');
  for (const page of [a, b, c]) expect(await readStorage(page, context)).toEqual(ONLY_THE_MARKER);
  expect(toSync.slice(sent)).toEqual([]);

  // The visitor grants in the new tab: the refusal goes, storing and sending come back.
  await consent(c, 'granted');
  await trackAndFlush(c, 'after_grant');
  await expect.poll(() => events(stack.db).filter((e) => e.type === 'after_grant').length, { timeout: 30_000 }).toBe(1);
  await c.goto(`${stack.shopUrl}/category/bedding`);
  await cairnReady(c);
  await expect
    .poll(() => events(stack.db).filter((e) => e.type === 'page' && e.body.path === '/category/bedding').length, {
      timeout: 30_000,
    })
    .toBe(1);
  const after = await readStorage(c, context);
  expect(after.cookies.map((cookie) => cookie.name)).toEqual(['cairn_id']);
  expect(Object.keys(after.localStorage)).toContain('cairn');
  // Nothing of the denied pages ever reached the server.
  expect(events(stack.db).filter((e) => e.type === 'after_denial' || e.type === 'wishlist')).toEqual([]);
  expect(events(stack.db).length).toBeGreaterThan(stored);
});
