// A visit history that survives Safari: ITP deletes everything script can write (localStorage,
// IndexedDB, script-set cookies), but not an HttpOnly cookie the store's own server sets. Two hosts
// of one registrable domain, as a shop would run them: the shop on www.shop.test, its sync server on
// sync.shop.test (Chromium maps *.shop.test to loopback: playwright.config.ts). The cookie is
// host-only on sync.shop.test; plain http here, so the server runs with insecureCookies (on https it
// is Secure and named __Host-cairn_sid). The wipe is done as ITP does it: every script-visible trace
// goes, the HttpOnly cookie stays.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startServer, type RunningServer } from '@cairn/server';
import { cairnReady, history, touches } from './support/cairn';
import { E2E } from './support/env';

const DIST = fileURLToPath(new URL('../../packages/sdk/dist/', import.meta.url));
const SITE = 'shop';
const SID = 'cairn_sid';
type Api = { flush(): Promise<void>; reset(): Promise<void> };

let shop: Server;
let sync: RunningServer;
let shopUrl = '';
let syncUrl = '';

test.beforeAll(async () => {
  // The shop first: its port names the origin the sync server's config allows.
  shop = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/cairn.js' || /^\/cairn-(core|prompts)\.[0-9a-f]+\.js$/.test(url.pathname))
      return res
        .writeHead(200, { 'content-type': 'text/javascript' })
        .end(readFileSync(join(DIST, url.pathname.slice(1))));
    // A page without Cairn, where the test wipes the origin's storage as ITP would.
    if (url.pathname === '/blank')
      return res.writeHead(200, { 'content-type': 'text/html' }).end('<title>blank</title>');
    const product = /^\/p\/([A-Z0-9-]+)$/.exec(url.pathname)?.[1];
    const consent = url.searchParams.get('consent') === 'denied' ? ' data-consent="denied"' : '';
    res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!doctype html><title>${product ?? 'Shop'}</title>
       ${product ? `<meta name="cairn:product" content="${product}">` : ''}
       <script type="application/json" id="cairn-config">${JSON.stringify(siteConfig())}</script>
       <script src="/cairn.js" data-site="${SITE}" data-server="${syncUrl}"${consent}></script>
       <main>${product ?? 'Shop'}</main>`,
    );
  });
  await new Promise<void>((ok) => shop.listen(0, '127.0.0.1', ok));
  const port = (shop.address() as AddressInfo).port;
  shopUrl = `http://www.shop.test:${port}`;
  sync = await startServer({
    port: 0,
    db: join(mkdtempSync(join(E2E.dir, 'safari-')), 'cairn.db'),
    config: siteConfig(),
    adminKey: E2E.adminKey,
    identitySecret: E2E.identitySecret,
    logger: false,
    rateLimit: { ip: false },
    // Plain http off loopback: local development and tests only.
    insecureCookies: true,
  });
  syncUrl = `http://sync.shop.test:${new URL(sync.url).port}`;
});
test.afterAll(async () => {
  await sync?.close();
  await new Promise<void>((ok) => shop.close(() => ok()));
});

function siteConfig() {
  return { site: SITE, origins: [shopUrl], identity: { serverCookie: { domain: '.shop.test' } } };
}

/** A page of the shop, the SDK ready and what it recorded sent (the collect answer carries the cookie). */
async function visit(page: Page, path: string): Promise<void> {
  await page.goto(`${shopUrl}${path}`);
  await cairnReady(page);
  await page.evaluate(() => (window as unknown as { cairn: Api }).cairn.flush());
}

const serverCookie = async (context: BrowserContext) =>
  (await context.cookies(`${syncUrl}/`)).find((c) => c.name === SID);
const deviceId = async (context: BrowserContext) =>
  (await context.cookies(`${shopUrl}/`)).find((c) => c.name === 'cairn_id')?.value;

/** ITP's wipe: localStorage, IndexedDB and every cookie script can see go; HttpOnly cookies stay. */
async function wipeScriptStorage(page: Page, context: BrowserContext): Promise<void> {
  await page.goto(`${shopUrl}/blank`);
  await page.evaluate(async () => {
    localStorage.clear();
    sessionStorage.clear();
    await new Promise((done) => {
      const r = indexedDB.deleteDatabase('cairn');
      r.onsuccess = r.onerror = r.onblocked = done;
    });
    for (const c of document.cookie.split('; ')) {
      const name = c.split('=')[0];
      if (!name) continue;
      for (const domain of ['', '; domain=.shop.test'])
        document.cookie = `${name}=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT${domain}`;
    }
  });
  expect(await page.evaluate(() => ({ cookies: document.cookie, ls: localStorage.length }))).toEqual({
    cookies: '',
    ls: 0,
  });
  expect(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name))).not.toContain('cairn');
  for (const c of await context.cookies(`${shopUrl}/`)) expect(c.httpOnly).toBe(true);
}

test('after ITP wipes script storage, the visitor comes back: same device, earlier products, the real first touch', async ({
  page,
  context,
}) => {
  await visit(page, '/?utm_source=newsletter&utm_medium=email&utm_campaign=spring');
  const landing = (await touches(page)).first;
  expect(landing).toMatchObject({ source: 'newsletter', medium: 'email', campaign: 'spring' });
  for (const sku of ['SKU-1', 'SKU-2', 'SKU-3']) await visit(page, `/p/${sku}`);
  const device = await deviceId(context);
  expect(device).toBeTruthy();

  // Set by the sync server on its collect answer: HttpOnly, host-only on the sync host (the shop's
  // pages never see it), 13 months, Lax; not Secure with insecureCookies on http.
  const cookie = (await serverCookie(context))!;
  expect(cookie).toMatchObject({ domain: 'sync.shop.test', httpOnly: true, secure: false, sameSite: 'Lax', path: '/' });
  expect((await context.cookies(`${shopUrl}/`)).map((c) => c.name)).not.toContain(SID);
  expect(cookie.value).not.toContain(device!);
  const days = (cookie.expires * 1000 - Date.now()) / 86_400_000;
  expect(days).toBeGreaterThan(395);
  expect(days).toBeLessThanOrEqual(396);

  await wipeScriptStorage(page, context);
  expect(await deviceId(context)).toBeUndefined();

  const recovered = page.waitForResponse((r) => r.url().startsWith(`${syncUrl}/v1/recover`));
  await visit(page, '/');
  expect((await recovered).status()).toBe(200);
  expect(await deviceId(context)).toBe(device);
  expect((await touches(page)).first).toEqual(landing);
  expect((await history(page)).products).toEqual(expect.arrayContaining(['SKU-1', 'SKU-2', 'SKU-3']));
  // Rotated: the value the wiped browser held is no longer the one that recovers.
  expect((await serverCookie(context))!.value).not.toBe(cookie.value);
});

test('with consent denied: no server cookie is ever set, and nothing comes back', async ({ page, context }) => {
  await visit(page, '/?consent=denied&utm_source=newsletter&utm_medium=email');
  for (const sku of ['SKU-1', 'SKU-2', 'SKU-3']) await visit(page, `/p/${sku}?consent=denied`);
  expect(await serverCookie(context)).toBeUndefined();

  await wipeScriptStorage(page, context);
  const asked = page.waitForResponse((r) => r.url().startsWith(`${syncUrl}/v1/recover`));
  await visit(page, '/');
  expect((await asked).status()).toBe(204);
  expect((await history(page)).products).toEqual([]);
  expect((await touches(page)).first).toMatchObject({ channel: 'Direct' });
});

test('after reset(), the server cookie is expired and the next visit is a new device', async ({ page, context }) => {
  await visit(page, '/?utm_source=newsletter&utm_medium=email');
  for (const sku of ['SKU-1', 'SKU-2', 'SKU-3']) await visit(page, `/p/${sku}`);
  const device = await deviceId(context);
  const before = (await serverCookie(context))!;
  expect(before).toBeDefined();

  const expired = page.waitForResponse(
    (r) => r.url().startsWith(`${syncUrl}/v1/server-cookie`) && r.request().method() === 'DELETE',
  );
  await page.evaluate(() => (window as unknown as { cairn: Api }).cairn.reset());
  const answer = await expired;
  expect(answer.status()).toBe(204);
  expect(await answer.headerValue('set-cookie')).toMatch(new RegExp(`^${SID}=; .*Max-Age=0`));
  expect((await serverCookie(context))?.value).not.toBe(before.value);

  await wipeScriptStorage(page, context);
  await visit(page, '/');
  const after = await deviceId(context);
  expect(after).toBeTruthy();
  expect(after).not.toBe(device);
  expect((await history(page)).products).toEqual([]);
});

test("an attacker's own cookie tossed in from the shop's pages (same name, parent domain) recovers nothing", async ({
  browser,
  page,
  context,
}) => {
  // The attacker's browser: a device of its own, and the secret bound to it.
  const attacker = await browser.newContext();
  const attackerPage = await attacker.newPage();
  await visit(attackerPage, '/p/SKU-ATTACKER');
  const attackerSecret = (await serverCookie(attacker))!.value;
  await attacker.close();

  await visit(page, '/?utm_source=newsletter&utm_medium=email');
  await visit(page, '/p/SKU-1');
  const device = await deviceId(context);
  expect(await serverCookie(context)).toBeDefined();
  await wipeScriptStorage(page, context);
  // Script on www.shop.test writes it for the whole domain, on the recover path: the browser sends it
  // first. Read the first, and the visitor would become the attacker's device (and feed its history).
  await page.evaluate(
    ([name, secret]) => (document.cookie = `${name}=${secret}; domain=.shop.test; path=/v1/recover`),
    [SID, attackerSecret],
  );
  const asked = page.waitForResponse((r) => r.url().startsWith(`${syncUrl}/v1/recover`));
  await visit(page, '/');
  const answer = await asked;
  expect(answer.status()).toBe(204);
  expect(await answer.headerValue('set-cookie')).toBeNull();
  expect(await deviceId(context)).not.toBe(device);
  expect((await history(page)).products).not.toContain('SKU-ATTACKER');
  // The sync host's own cookie was not expired (the next collect bound it to this page's device).
  expect((await context.cookies(`${syncUrl}/v1/recover`)).filter((c) => c.name === SID)).toContainEqual(
    expect.objectContaining({ domain: 'sync.shop.test', httpOnly: true, path: '/' }),
  );
});
