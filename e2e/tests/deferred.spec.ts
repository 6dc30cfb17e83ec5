// The script tag's work is split: a render-blocking head (touch, session, variant before first paint;
// it writes and sends nothing) and a core loaded by it that runs after first paint and does the rest.
// Here: a page with the tag in <head> reaches DOMContentLoaded before the core ran; then each part the
// core does still works: sync (also when the visitor leaves before the core ran), identity, consent
// and prompts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signIdentity } from '@cairn/server';
import { devices, expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { exportedProducts, signIn } from './support/account';
import { cairnReady, history, recorded, touches } from './support/cairn';
import { events, tally } from './support/db';
import { E2E, SHOP, SYNC } from './support/env';
import { watchPrompts } from './support/prompts';
import { startStack, type Stack } from './support/stack';
import { readStorage, withoutShopConsent, type StorageDump } from './support/storage';
import { domContentLoaded, takeover, watchTakeover } from './support/takeover';

const LANDING = '?utm_source=pinterest&utm_medium=social';

/**
 * A page with the one-tag setup in <head> (the snippet's queue holding a call, then
 * `<sync>/v1/sdk.js`) and, at the end of <body>, a script that notes what it sees: the document is
 * parsed, and DOMContentLoaded comes next. `?end=` names more of that script (see END). Served from
 * loopback by this file (a page Playwright fulfils counts as public, and may not load from
 * loopback), for a site of its own whose origins name it.
 */
const END: Record<string, string> = {
  track: "window.__tracked = c.track('called_through_the_stub').then(function () { return performance.now(); });",
};
let probeServer: Server;
let probeOrigin = '';
test.beforeAll(async () => {
  probeServer = createServer((req, res) => {
    const url = new URL(req.url!, 'http://probe');
    if (url.pathname !== '/probe') return res.writeHead(404).end();
    const site = url.searchParams.get('site') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Probe</title>
    <script>window.cairn = window.cairn || []; cairn.push(['track', 'queued_before_the_tag']);</script>
    <script src="${SYNC}/v1/sdk.js?site=${encodeURIComponent(site)}"></script>
  </head>
  <body>
    <main><h1>Probe</h1></main>
    <script>
      (function () {
        var c = window.cairn;
        var t = window.__takeover;
        window.__atEnd = {
          push: typeof c.push,
          coreRan: t.coreAt !== null,
          idbOpens: t.idbOpens.length,
          requests: t.requests.map(function (r) { return r.path; }),
          touch: (c.touch().current || {}).source || null,
        };
        ${END[url.searchParams.get('end') ?? ''] ?? ''}
      })();
    </script>
  </body>
</html>`);
  });
  await new Promise<void>((ok) => probeServer.listen(0, '127.0.0.1', ok));
  probeOrigin = `http://127.0.0.1:${(probeServer.address() as AddressInfo).port}`;
});
test.afterAll(() => new Promise<void>((ok) => probeServer.close(() => ok())));

/** A site for the probe page, one per worker: each serves the page on its own port, which the site's origins name. */
async function probeSite(request: APIRequestContext): Promise<string> {
  const site = `deferred-${test.info().project.name}-${test.info().parallelIndex}`;
  const put = await request.put(`${SYNC}/v1/config?site=${site}`, {
    headers: { authorization: `Bearer ${E2E.adminKey}` },
    data: { site, origins: [probeOrigin] },
  });
  expect(put.status(), await put.text()).toBe(200);
  return site;
}

/**
 * Holds back the core chunk's first request until `release()`: until then the head alone is in
 * charge of the page (a slow network, or a visitor quicker than the chunk).
 */
async function holdCore(page: Page): Promise<{ release(): void; requests(): number }> {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let n = 0;
  await page.route(/\/v1\/cairn-core\.[0-9a-f]+\.js$/, async (route) => {
    if (n++ === 0) await gate;
    // The page that asked may be gone by then.
    await route.continue().catch(() => {});
  });
  return { release: () => release(), requests: () => n };
}

interface AtEnd {
  push: string;
  coreRan: boolean;
  idbOpens: number;
  requests: string[];
  touch: string | null;
}
const atEnd = (page: Page) => page.evaluate(() => (window as unknown as { __atEnd: AtEnd }).__atEnd);
const deviceOf = async (page: Page) => (await page.context().cookies()).find((c) => c.name === 'cairn_id')?.value ?? '';
/** What the shared sync server holds for a device: event types, page views by path, touches by source. */
const heldFor = (device: string, site: string = E2E.site) => {
  const rows = events(E2E.db, site).filter((e) => e.deviceId === device);
  return {
    types: tally(rows, (e) => e.type),
    pages: tally(
      rows.filter((e) => e.type === 'page'),
      (e) => String(e.body.path),
    ),
    touches: tally(
      rows.filter((e) => e.type === 'touch'),
      (e) => String((e.body.touch as { source?: string }).source),
    ),
  };
};

test.describe('sync', () => {
  test('the core runs after DOMContentLoaded; what was queued and called before it arrives, once', async ({
    page,
    request,
  }) => {
    const site = await probeSite(request);
    await page.addInitScript(watchTakeover);
    await page.goto(`${probeOrigin}/probe${LANDING}&site=${site}&end=track`);
    await cairnReady(page);

    // At the end of <body>: the head's stub, which already knows the touch; nothing stored or sent.
    expect(await atEnd(page)).toEqual({
      push: 'function',
      coreRan: false,
      idbOpens: 0,
      requests: [],
      touch: 'pinterest',
    });
    const t = await takeover(page);
    const dcl = await domContentLoaded(page);
    expect(t.headAt, 'the head ran').not.toBeNull();
    expect(t.coreAt, 'the core took over').not.toBeNull();
    expect(t.coreAt!, 'the core took over after DOMContentLoaded').toBeGreaterThanOrEqual(dcl.end);
    // Nothing opened or sent by then (the core opens IndexedDB as it starts, in the task that ends
    // with its taking over).
    expect(
      t.idbOpens.filter((o) => o.at < dcl.end),
      'IndexedDB opened before DOMContentLoaded',
    ).toEqual([]);
    expect(t.idbOpens.map((o) => o.name)).toContain('cairn');
    expect(
      t.requests.filter((r) => r.at < dcl.end),
      'requests to the sync server before DOMContentLoaded',
    ).toEqual([]);
    expect(t.requests.map((r) => r.path)).toContain('/v1/collect');
    // The call made through the stub answered once the core had run it.
    expect(
      await page.evaluate(() => (window as unknown as { __tracked: Promise<number> }).__tracked),
    ).toBeGreaterThanOrEqual(t.coreAt!);

    // All of it reached the server, once: the touch, the page view, the queued call, the stub's call.
    const device = await deviceOf(page);
    await expect
      .poll(() => heldFor(device, site).types, { message: `events held for device ${device}` })
      .toEqual({ touch: 1, page: 1, queued_before_the_tag: 1, called_through_the_stub: 1 });
    expect(heldFor(device, site)).toMatchObject({ pages: { '/probe': 1 }, touches: { pinterest: 1 } });
  });

  /** Lands from Pinterest on the shop's home page and leaves for Bedding before the core ran there. */
  async function leaveBeforeTheCore(page: Page): Promise<string> {
    const core = await holdCore(page);
    await page.addInitScript(watchTakeover);
    await page.goto('/' + LANDING, { waitUntil: 'domcontentloaded' });
    // The head applied the Pinterest variant before first paint, on its own.
    await expect(page.locator('[data-cairn-slot="hero-title"]')).toHaveText('Make your bed look like the pin');
    const landing = await takeover(page);
    expect(landing.headAt, 'the head ran').not.toBeNull();
    expect(landing.coreAt, 'the core had not taken over when the visitor left').toBeNull();
    expect(landing.idbOpens).toEqual([]);
    // The head asks for the core after first paint: that request is the one held.
    await expect.poll(() => core.requests(), { message: 'the landing asked for its core' }).toBe(1);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Bedding', exact: true }).click();
    await expect(page).toHaveURL(/\/category\/bedding$/);
    core.release();
    await cairnReady(page);
    expect(core.requests(), 'core chunk requests: the held one and the next page’s').toBe(2);
    return deviceOf(page);
  }

  test('a visitor who leaves before the core ran keeps the landing: sent at page hide, taken in by the next page, once', async ({
    page,
  }) => {
    const device = await leaveBeforeTheCore(page);
    // The server holds the landing touch and both page views, each once.
    await expect
      .poll(() => heldFor(device), { message: `events held for device ${device}` })
      .toMatchObject({ touches: { pinterest: 1 }, pages: { '/': 1, '/category/bedding': 1 } });
    // The visit goes on from the landing's touch and session.
    expect((await touches(page)).current).toMatchObject({ source: 'pinterest', medium: 'social', landingPath: '/' });
    // The next page took the landing's page view in (it was spilled), with the same id: the spill is
    // gone, and the history holds one visit of two pages.
    const h = await recorded(page, 2);
    expect(h.pageViews.map((v) => v.path).reverse()).toEqual(['/', '/category/bedding']);
    expect(h.sessions.map((x) => x.pages)).toEqual([2]);
    const landingView = events(E2E.db).find((e) => e.deviceId === device && e.type === 'page' && e.body.path === '/');
    expect(h.pageViews.find((v) => v.path === '/')?.id).toBe(landingView?.id);
    await expect.poll(() => page.evaluate(() => localStorage.getItem('cairn.spill'))).toBeNull();
    expect(heldFor(device).types.page).toBe(2);
  });

  test('a visitor who leaves before the core ran: the next page’s history has the landing touch', async ({ page }) => {
    await leaveBeforeTheCore(page);
    const h = await recorded(page, 2);
    expect(h.touches.map((x) => x.source)).toEqual(['pinterest']);
    expect(h.sessions.map((x) => x.touch?.source)).toEqual(['pinterest']);
  });
});

test.describe('identity', () => {
  test.skip(({ isMobile }) => isMobile, 'drives its own phone and desktop contexts; runs once, in the desktop project');
  const { defaultBrowserType: _p, ...PIXEL_7 } = devices['Pixel 7'];

  test('identify called before the core ran links the device and brings the merged profile; the next pages revalidate it', async ({
    browser,
    page,
    request,
  }) => {
    const user = `deferred-${test.info().workerIndex}-${Date.now().toString(36)}`;

    // A phone views a product, anonymously (an anonymous device pulls no profile), then signs in on the shop.
    const phone = await browser.newContext({ ...PIXEL_7, baseURL: SHOP });
    const profilePulls: string[] = [];
    phone.on('request', (r) => {
      if (r.url().startsWith(`${SYNC}/v1/profile`)) profilePulls.push(r.url());
    });
    const p = await phone.newPage();
    await p.goto('/product/NAPKIN-TERRA');
    await recorded(p, 1);
    await p.goto('/category/table');
    await recorded(p, 2);
    expect(profilePulls, 'profile pulls by an anonymous device').toEqual([]);
    await signIn(p, user);
    await expect.poll(() => exportedProducts(request, user)).toEqual(['NAPKIN-TERRA']);
    await phone.close();

    // The desktop lands on the shop; before its core ran (held back), the page calls identify with a
    // token the shop's backend signed, through the stub. It answers once the core has run it.
    const pulls: { inm: string | undefined; status: number; etag: string | undefined }[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${SYNC}/v1/profile`))
        pulls.push({ inm: r.request().headers()['if-none-match'], status: r.status(), etag: r.headers().etag });
    });
    const core = await holdCore(page);
    await page.addInitScript(watchTakeover);
    await page.goto('/', { waitUntil: 'domcontentloaded' });
    const token = signIdentity({ userId: user, secret: E2E.identitySecret, site: E2E.site });
    const called = await page.evaluate(
      ([u, t]) => {
        type Profile = { userId: string; products: { id: string }[] };
        const w = window as unknown as {
          cairn: { identify(u: string, t: string): Promise<Profile> };
          __identified: Promise<unknown>;
        };
        w.__identified = w.cairn.identify(u!, t!).then(
          (p) => ({ userId: p.userId, products: p.products.map((x) => x.id), at: performance.now() }),
          (e: unknown) => ({ error: String(e) }),
        );
        return w.__identified instanceof Promise;
      },
      [user, token],
    );
    expect(called, 'identify through the stub returns a Promise').toBe(true);
    expect((await takeover(page)).coreAt, 'the core had not run when identify was called').toBeNull();
    core.release();
    await cairnReady(page);
    const identified = await page.evaluate(
      () =>
        (
          window as unknown as {
            __identified: Promise<{ userId?: string; products?: string[]; at?: number; error?: string }>;
          }
        ).__identified,
    );
    expect(identified).toMatchObject({ userId: user, products: ['NAPKIN-TERRA'] });
    expect(identified.at!).toBeGreaterThanOrEqual((await takeover(page)).coreAt!);
    // The page heard of it: the phone's product in its recently-viewed block.
    await expect(page.locator('[data-cairn-recent] [data-sku="NAPKIN-TERRA"]')).toHaveCount(1);
    await expect.poll(() => exportedProducts(request, user)).toEqual(['NAPKIN-TERRA']);
    // Anonymous when its core started, the page pulled nothing.
    expect(pulls).toEqual([]);

    // The next page pulls the merged profile (identify left no ETag); the one after revalidates it
    // with If-None-Match: a 304, or a 200 with a new ETag when the profile changed meanwhile (the
    // device's own page views change it). Both show the phone's product.
    await page.goto('/product/SHEET-OAT');
    await expect(page.locator('[data-cairn-recent] [data-sku="NAPKIN-TERRA"]')).toHaveCount(1);
    await expect.poll(() => pulls.length, { message: 'profile pulls by the next page' }).toBe(1);
    expect(pulls[0]).toMatchObject({ inm: undefined, status: 200, etag: expect.stringMatching(/.+/) });
    await page.goto('/');
    await expect(page.locator('[data-cairn-recent] [data-sku="NAPKIN-TERRA"]')).toHaveCount(1);
    await expect.poll(() => pulls.length, { message: 'profile pulls by the page after' }).toBe(2);
    expect(pulls[1]!.inm, 'the second pull revalidates the first answer').toBe(pulls[0]!.etag);
    expect([200, 304]).toContain(pulls[1]!.status);
    if (pulls[1]!.status === 200)
      expect(pulls[1]!.etag, 'a 200 means a changed profile: a new ETag').not.toBe(pulls[0]!.etag);
    console.log(`profile pulls: ${JSON.stringify(pulls)}`);
    const h = await history(page);
    expect(h.products).toEqual(expect.arrayContaining(['NAPKIN-TERRA', 'SHEET-OAT']));
  });
});

test.describe('consent', () => {
  test.skip(({ isMobile }) => isMobile, 'runs its own sync server; once, in the desktop project');

  let stack: Stack;
  test.afterEach(async () => {
    await stack?.close();
  });
  const sdkStorage = async (page: Page): Promise<StorageDump> => withoutShopConsent(await readStorage(page));
  const NOTHING: StorageDump = { cookies: [], localStorage: {}, sessionStorage: {}, indexedDB: [] };
  /** What a denial leaves: the refusal's own cookie, which names no one (README, Consent). */
  const REFUSED: StorageDump = { ...NOTHING, cookies: [{ name: 'cairn_consent', value: 'denied' }] };

  test('the banner: pending keeps everything in memory, Accept sends what the page held, Decline wipes', async ({
    page,
    context,
  }) => {
    // The one-tag setup (the head from the sync server), the shop's consent banner, consent pending.
    stack = await startStack({ consent: 'pending' });
    const posts: string[] = [];
    context.on('request', (r) => {
      if (r.url().startsWith(stack.syncUrl) && r.method() !== 'GET') posts.push(new URL(r.url()).pathname);
    });
    const types = () => tally(events(stack.db), (e) => (e.type === 'page' ? `page ${e.body.path}` : e.type));

    await page.goto(`${stack.shopUrl}/${LANDING}`);
    await cairnReady(page);
    await expect(page.locator('[data-cairn-slot="hero-title"]')).toHaveText('Make your bed look like the pin');
    await expect(page.getByRole('button', { name: 'Accept' })).toBeVisible();
    await recorded(page, 1);
    expect(posts).toEqual([]);
    expect(await sdkStorage(page)).toEqual(NOTHING);

    await page.getByRole('button', { name: 'Accept' }).click();
    // No variant_applied: an exposure before consent is never counted (README, Holdouts).
    await expect.poll(types, { message: 'events sent once granted' }).toEqual({ touch: 1, 'page /': 1 });
    await expect.poll(async () => (await sdkStorage(page)).cookies.map((c) => c.name)).toContain('cairn_id');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Bedding', exact: true }).click();
    await cairnReady(page);
    await expect.poll(types).toMatchObject({ 'page /category/bedding': 1 });

    await page.getByRole('button', { name: 'Privacy choices' }).click();
    await page.getByRole('button', { name: 'Decline' }).click();
    await expect.poll(() => sdkStorage(page)).toEqual(REFUSED);
    const sent = posts.length;
    const before = events(stack.db).length;
    await page.evaluate(async () => {
      const c = (window as unknown as { cairn: { track(n: string): void; flush(): Promise<void> } }).cairn;
      c.track('after_denial');
      await c.flush();
    });
    expect(posts.slice(sent)).toEqual([]);
    expect(await sdkStorage(page)).toEqual(REFUSED);
    expect(events(stack.db)).toHaveLength(before);
  });
});

test.describe('prompts', () => {
  test('the 3rd page brings the prompt: a pop-in on desktop, inline on mobile', async ({ page, context, isMobile }) => {
    const seen = await watchPrompts(context);
    await page.goto('/');
    await recorded(page, 1);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Table linen', exact: true })
      .click();
    await recorded(page, 2);
    await expect(page.locator('[data-cairn-prompt]')).toHaveCount(0);
    await page
      .getByRole('link', { name: /Napkins, set of four/ })
      .first()
      .click();
    await expect(page.locator('[data-cairn-prompt]')).toHaveAttribute(
      'data-cairn-prompt',
      isMobile ? 'inline' : 'popin',
    );
    if (isMobile) await expect(page.locator('main [data-cairn-inline] [data-cairn-prompt="inline"]')).toBeVisible();
    else await expect(page.getByRole('dialog')).toBeVisible();
    expect(seen).toEqual([{ path: '/product/NAPKIN-TERRA', mode: isMobile ? 'inline' : 'popin' }]);
  });
});
