// Logout reaches the server: after cairn.reset() the old device's token reads and writes nothing on
// the real sync server. A logout made offline is kept (the old device's id and token only), and
// honoured at the next page, or with the next login from that browser.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { signIn } from './support/account';
import { cairnReady } from './support/cairn';
import { E2E, SYNC } from './support/env';

test.skip(({ isMobile }) => isMobile, 'one browser is enough; runs in the desktop project');

const userName = (who: string) => `${who}-${test.info().workerIndex}-${Date.now().toString(36)}`;

interface Held {
  id: string;
  token: string;
}
/** The device and its token, as the SDK keeps them (localStorage `cairn`: `d`, `t`). */
const held = (page: Page): Promise<Held> =>
  page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('cairn') || '{}');
    return { id: s.d, token: s.t };
  });
const pending = (page: Page) => page.evaluate(() => localStorage.getItem('cairn.revoke'));
/** What the sync server answers this device's token: 200 while it holds, 401 once revoked. */
const profileStatus = async (request: APIRequestContext, d: Held) =>
  (
    await request.get(`${SYNC}/v1/profile?site=${E2E.site}&deviceId=${d.id}`, {
      headers: { authorization: `Bearer ${d.token}` },
    })
  ).status();
const collectStatus = async (request: APIRequestContext, d: Held) =>
  (
    await request.post(`${SYNC}/v1/collect`, {
      headers: { authorization: `Bearer ${d.token}` },
      data: {
        site: E2E.site,
        deviceId: d.id,
        events: [{ id: `e2e-${Date.now().toString(36)}-x`, type: 'after_logout', at: Date.now() }],
      },
    })
  ).status();
const reset = (page: Page) =>
  page.evaluate(() => (window as unknown as { cairn: { reset(): Promise<void> } }).cairn.reset());

test('after logout the old device token reads and writes nothing on the server; the new device works', async ({
  page,
  request,
}) => {
  await page.goto('/product/NAPKIN-TERRA');
  await cairnReady(page);
  await signIn(page, userName('lou'));
  const old = await held(page);
  expect(await profileStatus(request, old)).toBe(200);

  await page.goto('/logout');
  await expect(page.locator('[data-reset-status]')).toHaveText(
    'You are signed out, and this device no longer holds your history.',
  );
  expect(await profileStatus(request, old)).toBe(401);
  expect(await collectStatus(request, old)).toBe(401);
  expect(await pending(page)).toBeNull();
  const fresh = await held(page);
  expect(fresh.id).not.toBe(old.id);
  await page.goto('/');
  await cairnReady(page);
  await expect.poll(() => profileStatus(request, fresh)).toBe(200);
});

test('a logout made offline keeps only the old id and token, and the next page online revokes it', async ({
  page,
  context,
  request,
}) => {
  await page.goto('/product/DUVET-SAGE');
  await cairnReady(page);
  const user = userName('max');
  await signIn(page, user);
  const old = await held(page);

  await context.setOffline(true);
  await reset(page);
  expect(JSON.parse((await pending(page)) ?? 'null')).toEqual({ d: old.id, t: old.token });
  const kept = await page.evaluate(() => JSON.stringify(localStorage));
  expect(kept).not.toContain(user);
  // Until the logout reaches the server, the token still works for whoever holds a copy.
  expect(await profileStatus(request, old)).toBe(200);

  await context.setOffline(false);
  await page.goto('/');
  await cairnReady(page);
  await expect.poll(() => profileStatus(request, old)).toBe(401);
  await expect.poll(() => pending(page)).toBeNull();
});

test('a logout that never got through goes along with the next login from this browser', async ({
  page,
  context,
  request,
}) => {
  await page.goto('/product/SHEET-OAT');
  await cairnReady(page);
  const user = userName('nia');
  await signIn(page, user);
  const old = await held(page);
  // The logout endpoint unreachable from this browser (fetch and beacon alike).
  await context.route('**/v1/logout**', (route) => route.abort());
  await reset(page);
  await page.goto('/');
  await cairnReady(page);
  expect(await profileStatus(request, old)).toBe(200);
  expect(await pending(page)).not.toBeNull();

  const identified = page.waitForRequest((r) => r.url().includes('/v1/identify'));
  await signIn(page, user);
  expect((await identified).postDataJSON().previous).toEqual({ deviceId: old.id, token: old.token });
  expect(await profileStatus(request, old)).toBe(401);
  expect(await pending(page)).toBeNull();
  expect(await profileStatus(request, await held(page))).toBe(200);
});
