// The demo shop's accounts, as a visitor uses them: its username-only login (the shop signs the
// login, the signed-in page links the device with Cairn), and what the sync server then holds.
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { E2E, SYNC } from './env';

/** Signs in on the demo's username-only login and waits until Cairn linked the device. */
export async function signIn(page: Page, user: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username').fill(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(
    page
      .getByRole('main')
      .getByRole('status')
      .filter({ hasText: /sign|link/i }),
  ).toHaveText(`Signed in as ${user}. What you viewed on your other devices is below.`);
}

/** The products the sync server holds for a user, from the admin export. */
export async function exportedProducts(request: APIRequestContext, user: string): Promise<string[]> {
  const res = await request.get(`${SYNC}/v1/users/${user}/export?site=${E2E.site}`, {
    headers: { authorization: `Bearer ${E2E.adminKey}` },
  });
  if (!res.ok()) return [];
  const data = (await res.json()) as { events: { type: string; product?: string }[] };
  return [...new Set(data.events.filter((e) => e.type === 'page' && e.product).map((e) => e.product!))].sort();
}
