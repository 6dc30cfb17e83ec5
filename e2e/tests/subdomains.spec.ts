// The cookie domain is configurable, so that subdomains share the device. Two subdomains of one shop
// are two origins, each with its own localStorage and IndexedDB, sharing the device cookie. Chromium
// resolves *.shop.test to loopback (playwright.config.ts); this file serves the pages on its own port,
// with the real bundle, against the real sync server.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { signIdentity } from '@cairn/server';
import { cairnReady } from './support/cairn';
import { events } from './support/db';
import { E2E, SYNC } from './support/env';

const DIST = fileURLToPath(new URL('../../packages/sdk/dist/', import.meta.url));
type Api = {
  identify(u: string, t: string): Promise<{ userId: string }>;
  flush(): Promise<void>;
  reset(): Promise<void>;
  profile(): Promise<{ userId: string | null } | null>;
  history(): Promise<{ pageViews: { path: string }[] }>;
};

let server: Server;
let port = 0;

test.beforeAll(async () => {
  server = createServer((req, res) => {
    const site = new URL(req.url!, 'http://x').searchParams.get('site');
    // The head, and the core and prompts' UI loaded from beside it (named by their content hash).
    if (req.url === '/cairn.js' || /^\/cairn-(core|prompts)\.[0-9a-f]+\.js$/.test(req.url!))
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(DIST, req.url!.slice(1))));
    res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!doctype html><title>Shop</title><main>Shop</main>
       <script src="/cairn.js" data-site="${site}" data-server="${SYNC}" data-cookie-domain=".shop.test"></script>`,
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  port = (server.address() as AddressInfo).port;
});
test.afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

test('with data-cookie-domain, a second subdomain is the same device: after login there, its events still count', async ({
  context,
  page,
  request,
}, info) => {
  // A site per worker: each serves on its own port, which the site's origins must name.
  const site = `sub-${info.project.name}-${info.parallelIndex}`;
  const [a, b] = ['a', 'b'].map((h) => `http://${h}.shop.test:${port}`) as [string, string];
  const put = await request.put(`${SYNC}/v1/config?site=${site}`, {
    headers: { authorization: `Bearer ${E2E.adminKey}` },
    data: { site, origins: [a, b] },
  });
  expect(put.status(), await put.text()).toBe(200);

  await page.goto(`${a}/?site=${site}`);
  await cairnReady(page);
  const token = signIdentity({ userId: 'ann', secret: E2E.identitySecret, site });
  const profile = await page.evaluate(
    ([u, t]) => (window as unknown as { cairn: Api }).cairn.identify(u!, t!),
    ['ann', token],
  );
  expect(profile.userId).toBe('ann');

  const cookies = await context.cookies(`${b}/`);
  const cookie = cookies.find((c) => c.name === 'cairn_id');
  expect(cookie?.domain).toBe('.shop.test');
  // The token has a cookie of its own, on the same domain: the id cookie stays what every version reads.
  expect(cookies.find((c) => c.name === 'cairn_tk')?.domain).toBe('.shop.test');
  const device = cookie!.value;

  // The other subdomain: the device is linked now, so its collects need its token, which this
  // origin's storage never held.
  const collected = page.waitForResponse((r) => r.url().startsWith(`${SYNC}/v1/collect`));
  await page.goto(`${b}/?site=${site}`);
  await cairnReady(page);
  await page.evaluate(() => (window as unknown as { cairn: Api }).cairn.flush());
  expect((await collected).status()).toBe(202);
  await expect
    .poll(() => events(E2E.db, site).filter((e) => e.deviceId === device && e.type === 'page').length, {
      message: 'both subdomains’ page views stored',
    })
    .toBe(2);
  // b's next page pulls the merged profile.
  await page.reload();
  await cairnReady(page);
  expect(await page.evaluate(() => (window as unknown as { cairn: Api }).cairn.profile())).toMatchObject({
    userId: 'ann',
  });

  // A logout on a: b's next page is the new anonymous device, with nothing left of ann's profile.
  await page.goto(`${a}/?site=${site}`);
  await cairnReady(page);
  await page.evaluate(() => (window as unknown as { cairn: Api }).cairn.reset());
  await page.goto(`${b}/?site=${site}`);
  await cairnReady(page);
  const after = (await context.cookies(`${b}/`)).find((c) => c.name === 'cairn_id')!.value;
  expect(after).not.toBe(device);
  expect(await page.evaluate(() => (window as unknown as { cairn: Api }).cairn.profile())).toBeNull();
  const h = await page.evaluate(() => (window as unknown as { cairn: Api }).cairn.history());
  expect(h.pageViews.map((p) => p.path)).toEqual(['/']);
});
