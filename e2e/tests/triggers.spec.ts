// A browse-abandonment trigger end to end, in Chromium: a visitor on a Pixel 7 views two products,
// signs in and leaves. With the trigger's `after` at 20 s and the server polling every 100 ms, the
// demo's email tool receives exactly one webhook, signed with the site's webhook secret, naming both
// products; several poll cycles later (counted in the delivery log, not slept), still only that one.
// `after` is the time the sign-in has to reach the server: an episode due while its device is still
// anonymous (and never opted in) is cancelled as unreachable, as it would be for a real shopper who
// signs in hours after the trigger's `after`. A second trigger, due 2 s after a view and meant for
// nobody (a trait no one has), proves each poll cycle by the episodes it cancels.
import { createHmac, randomUUID } from 'node:crypto';
import { devices, expect, test, type APIRequestContext } from '@playwright/test';
import { startEmailTool } from '@cairn/example-storefront/email-tool.mjs';
import { signIn } from './support/account';
import { recorded } from './support/cairn';
import { E2E } from './support/env';
import { startStack, type Stack } from './support/stack';

test.skip(
  ({ isMobile }) => isMobile,
  'drives its own Pixel 7 context on its own stack; runs once, in the desktop project',
);
test.describe.configure({ mode: 'serial' });

const { defaultBrowserType: _p, ...PIXEL_7 } = devices['Pixel 7'];
const ADMIN = { authorization: `Bearer ${E2E.adminKey}` };
const PRODUCTS = ['NAPKIN-TERRA', 'DUVET-SAGE'];
const NAMES = ['Napkins, set of four', 'Linen duvet cover'];
const TRIGGER = 'browse-abandon';
/** Cancels every episode it opens (its audience is empty): each cancellation proves a poll ran. */
const PROBE = 'poll-probe';

let stack: Stack;
let tool: Awaited<ReturnType<typeof startEmailTool>>;

test.beforeAll(async () => {
  tool = await startEmailTool({ port: 0, secret: E2E.webhookSecret, site: E2E.site });
  stack = await startStack({
    prompts: false,
    server: { triggerPollMs: 100 },
    config: (config) => ({
      ...config,
      measurement: { holdout: 0 },
      triggers: [
        {
          id: TRIGGER,
          on: 'browse_abandoned',
          after: '20s',
          minProductViews: 2,
          channels: ['email'],
          url: tool.webhookUrl,
          cooldown: '1d',
        },
        {
          id: PROBE,
          on: 'browse_abandoned',
          after: '2s',
          channels: ['email'],
          url: tool.webhookUrl,
          cooldown: '0s',
          where: { traits: { probe: 'nobody-has-this' } },
        },
      ],
    }),
  });
});
test.afterAll(async () => {
  await stack?.close();
  await tool?.close();
});

interface LogRow {
  id: string;
  trigger: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  reason: string | null;
  person: string;
}

async function deliveryLog(request: APIRequestContext): Promise<LogRow[]> {
  const r = await request.get(`${stack.syncUrl}/v1/deliveries?site=${E2E.site}&limit=200`, { headers: ADMIN });
  expect(r.status()).toBe(200);
  return ((await r.json()) as { deliveries: LogRow[] }).deliveries;
}

/** The products the sync server holds for a user (admin export). */
async function exported(request: APIRequestContext, user: string): Promise<string[]> {
  const r = await request.get(`${stack.syncUrl}/v1/users/${user}/export?site=${E2E.site}`, { headers: ADMIN });
  if (!r.ok()) return [];
  const data = (await r.json()) as { events: { type: string; product?: string }[] };
  return [...new Set(data.events.filter((e) => e.type === 'page' && e.product).map((e) => e.product!))].sort();
}

/**
 * One poll cycle, proven: an anonymous device views two products; once the probe's `after` has
 * passed, a poll evaluates its probe episode and cancels it. Seeing it cancelled in the log means a
 * poll ran after this call began.
 */
async function pollCycle(request: APIRequestContext): Promise<void> {
  const deviceId = randomUUID();
  const at = Date.now();
  const events = PRODUCTS.map((sku, i) => ({
    id: randomUUID(),
    type: 'page',
    at: at + i,
    path: `/product/${sku}`,
    title: sku,
    session: randomUUID(),
    device: 'desktop',
    product: sku,
  }));
  const r = await request.post(`${stack.syncUrl}/v1/collect`, {
    headers: { authorization: `Bearer ${randomUUID()}` },
    data: { site: E2E.site, deviceId, events },
  });
  expect(r.ok(), await r.text()).toBe(true);
  const probesCancelled = async () =>
    (await deliveryLog(request)).filter((d) => d.trigger === PROBE && d.status === 'cancelled').length;
  const before = await probesCancelled();
  await expect
    .poll(probesCancelled, {
      timeout: 20_000,
      message: "an anonymous device's probe episode cancelled by a poll",
    })
    .toBeGreaterThan(before);
}

/** Checks `Cairn-Signature: t=<s>,v1=<hex>` as the README tells a receiver to, here in the test itself. */
function verify(signature: string, raw: string): boolean {
  const t = /(?:^|,)t=(\d+)/.exec(signature)?.[1];
  const v1 = [...signature.matchAll(/(?:^|,)v1=([0-9a-f]{64})/g)].map((m) => m[1]);
  if (!t || v1.length === 0) return false;
  const expected = createHmac('sha256', E2E.webhookSecret).update(`${t}.${raw}`).digest('hex');
  return v1.includes(expected) && Math.abs(Date.now() / 1000 - Number(t)) < 300;
}

test('two products on a phone, a sign-in, gone: one signed webhook naming both, and no second', async ({
  browser,
  request,
}) => {
  test.setTimeout(120_000);
  const user = `pixel-${test.info().workerIndex}-${Date.now().toString(36)}`;

  const phone = await browser.newContext({ ...PIXEL_7, baseURL: stack.shopUrl });
  const p = await phone.newPage();
  for (const [i, sku] of PRODUCTS.entries()) {
    await p.goto(`/product/${sku}`);
    await recorded(p, i + 1);
  }
  await signIn(p, user);
  await expect.poll(() => exported(request, user)).toEqual([...PRODUCTS].sort());
  // Leaves: nothing more from this person.
  await phone.close();

  await expect.poll(() => tool.received().length, { timeout: 60_000, message: 'a webhook at the email tool' }).toBe(1);
  const [webhook] = tool.received();
  expect(webhook!.posts).toHaveLength(1);
  const post = webhook!.posts[0]!;
  expect(verify(post.signature, post.raw), `Cairn-Signature ${post.signature}`).toBe(true);
  // The same secret with another body does not verify: the check looks at the bytes.
  expect(verify(post.signature, post.raw.replace(PRODUCTS[0]!, 'SHEET-OAT'))).toBe(false);
  const body = JSON.parse(post.raw);
  expect(post.idempotencyKeyHeader).toBe(body.idempotencyKey);
  expect(body.trigger).toEqual({ id: TRIGGER, on: 'browse_abandoned' });
  expect(body.person.userId).toBe(user);
  expect(body.person.channels).toEqual(['email']);
  // Both products, newest first, each seen on the phone.
  expect(body.products.map((x: { id: string }) => x.id)).toEqual([...PRODUCTS].reverse());
  expect(body.products.map((x: { device?: string }) => x.device)).toEqual(['mobile', 'mobile']);
  expect(body.devices).toEqual(['mobile']);
  expect(body.cart).toEqual([]);

  // The log says the same: delivered, once, the receiver answered 200.
  const mine = (await deliveryLog(request)).filter((d) => d.trigger === TRIGGER && d.status !== 'cancelled');
  expect(mine).toEqual([
    expect.objectContaining({ id: body.idempotencyKey, status: 'delivered', attempts: 1, lastStatus: 200 }),
  ]);

  // Three poll cycles later, each proven by an episode the poll cancelled: nothing more was sent.
  for (let cycle = 0; cycle < 3; cycle++) await pollCycle(request);
  expect(tool.received()).toHaveLength(1);
  expect(tool.received()[0]!.posts).toHaveLength(1);
  expect(tool.refused()).toEqual([]);
  const after = (await deliveryLog(request)).filter((d) => d.trigger === TRIGGER && d.status !== 'cancelled');
  expect(after).toEqual([expect.objectContaining({ id: body.idempotencyKey, status: 'delivered', attempts: 1 })]);

  // The email tool's page names the products, as text.
  const page = await browser.newPage();
  await page.goto(tool.url);
  const email = page.locator(`article[data-key="${body.idempotencyKey}"]`);
  await expect(email).toHaveCount(1);
  for (const name of NAMES) await expect(email.getByText(name, { exact: true })).toBeVisible();
  await expect(email).toContainText(`user ${user}`);
  await expect(email).toContainText('on a phone');
  await page.close();
});

test('the email tool refuses a webhook whose signature does not match, and shows nothing of it', async ({
  request,
}) => {
  const before = tool.received().length;
  const raw = JSON.stringify({ idempotencyKey: randomUUID(), site: E2E.site, products: [] });
  const t = Math.floor(Date.now() / 1000);
  const forged = createHmac('sha256', 'not-the-webhook-secret-0123456789abcdef').update(`${t}.${raw}`).digest('hex');
  const r = await request.post(tool.webhookUrl, {
    headers: { 'content-type': 'application/json', 'cairn-signature': `t=${t},v1=${forged}` },
    data: raw,
  });
  expect(r.status()).toBe(400);
  expect(tool.received()).toHaveLength(before);
  expect(tool.refused()[0]).toEqual(expect.objectContaining({ status: 400 }));
});
