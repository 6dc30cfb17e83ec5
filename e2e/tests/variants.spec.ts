// Variants: each source sees its variant from the very first frame (also with a 4x slower CPU),
// preview and debug work, and a hostile UTM runs nothing.
import { expect, test, type Page } from '@playwright/test';
import { cairnReady, touches } from './support/cairn';
import { SITE_CONFIG } from './support/stack';

const variant = (id: string) => SITE_CONFIG.variants.find((v) => v.id === id)!;

const SOURCES = [
  { name: 'Pinterest', path: '/?utm_source=pinterest&utm_medium=social', variant: 'pinterest-styling' },
  {
    name: 'a Facebook ad',
    path: '/?utm_source=facebook&utm_medium=paid_social&utm_campaign=first-set-20',
    variant: 'facebook-offer',
  },
  { name: 'Google search', path: '/', referer: 'https://www.google.com/', variant: 'google-buying-guide' },
  {
    name: 'the newsletter',
    path: '/?utm_source=newsletter&utm_medium=email&utm_campaign=spring',
    variant: 'email-welcome-back',
  },
] as const;

interface Frame {
  title: string | null;
  image: string | null;
  cta: string | null;
}

/** From the start of navigation, records what the hero slots hold on every animation frame (each frame is about to paint). */
async function recordFrames(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const frames: { title: string | null; image: string | null; cta: string | null }[] = [];
    (window as unknown as { __frames: typeof frames }).__frames = frames;
    const slot = (name: string) => document.querySelector(`[data-cairn-slot="${name}"]`);
    const tick = () => {
      const img = slot('hero-image');
      frames.push({
        title: slot('hero-title')?.textContent ?? null,
        image: img ? img.getAttribute('src') : null,
        cta: slot('hero-cta')?.textContent ?? null,
      });
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

const frames = (page: Page) => page.evaluate(() => (window as unknown as { __frames: Frame[] }).__frames);

/** The home page as the server sends it, before any script: the default content. */
async function defaults(page: Page): Promise<{ title: string; image: string; cta: string }> {
  const html = await (await page.request.get('/')).text();
  const grab = (re: RegExp) => re.exec(html)?.[1] ?? '';
  const unescapeHtml = (s: string) =>
    s
      .replace(/&amp;/g, '&')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"');
  return {
    title: unescapeHtml(grab(/data-cairn-slot="hero-title"[^>]*>([^<]+)</)),
    image: unescapeHtml(grab(/data-cairn-slot="hero-image" src="([^"]+)"/)),
    cta: unescapeHtml(grab(/data-cairn-slot="hero-cta"[^>]*>([^<]+)</)),
  };
}

/** Loads the page, waits for frames with the hero parsed, and checks no frame held the default content. */
async function expectNoFlicker(page: Page, source: (typeof SOURCES)[number]): Promise<void> {
  const def = await defaults(page);
  expect(def.title.length).toBeGreaterThan(5);
  const slots = variant(source.variant).slots;
  await recordFrames(page);
  await page.goto(source.path, 'referer' in source ? { referer: source.referer } : {});
  await expect(page.locator('[data-cairn-slot="hero-title"]')).toHaveText(slots['hero-title']!.text!);
  await expect.poll(async () => (await frames(page)).filter((f) => f.title !== null).length).toBeGreaterThan(2);
  const seen = (await frames(page)).filter((f) => f.title !== null);
  expect(
    seen.filter((f) => f.title === def.title),
    'frames with the default title',
  ).toEqual([]);
  expect(
    seen.filter((f) => f.image === def.image),
    'frames with the default image',
  ).toEqual([]);
  expect(
    seen.filter((f) => f.cta === def.cta),
    'frames with the default call to action',
  ).toEqual([]);
  // Every frame that painted any title painted the variant's, whole (an element the parser has just
  // opened can be empty for a frame; that is not the default content).
  expect(new Set(seen.map((f) => f.title).filter(Boolean))).toEqual(new Set([slots['hero-title']!.text]));

  // Every slot got the variant.
  await expect(page.locator('[data-cairn-slot="hero-image"]')).toHaveAttribute('src', slots['hero-image']!.src!);
  await expect(page.locator('[data-cairn-slot="hero-image"]')).toHaveAttribute('alt', slots['hero-image']!.alt!);
  await expect(page.locator('[data-cairn-slot="hero-cta"]')).toHaveText(slots['hero-cta']!.text!);
  await expect(page.locator('[data-cairn-slot="hero-cta"]')).toHaveAttribute('href', slots['hero-cta']!.href!);
  await expect(page.locator('[data-cairn-slot="guide"]')).toHaveText(slots.guide!.text!);
}

for (const source of SOURCES) {
  test(`${source.name}: the variant from the first frame`, async ({ page }) => {
    await expectNoFlicker(page, source);
  });

  test(`${source.name}: the variant from the first frame, with a 4x slower CPU`, async ({ page }) => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    await expectNoFlicker(page, source);
  });
}

test("everyone else sees the page's own content", async ({ page }) => {
  const def = await defaults(page);
  await recordFrames(page);
  await page.goto('/');
  await cairnReady(page);
  await expect.poll(async () => (await frames(page)).filter((f) => f.title !== null).length).toBeGreaterThan(2);
  expect(new Set((await frames(page)).map((f) => f.title).filter(Boolean))).toEqual(new Set([def.title]));
  await expect(page.locator('[data-cairn-slot="hero-image"]')).toHaveAttribute('src', def.image);
});

test('a marketer previews a variant with ?cairn_variant=, without keeping it', async ({ page }) => {
  const v = variant('google-buying-guide');
  const def = await defaults(page);
  await page.goto('/?cairn_variant=google-buying-guide');
  await expect(page.locator('[data-cairn-slot="hero-title"]')).toHaveText(v.slots['hero-title']!.text!);
  await expect(page.locator('[data-cairn-slot="hero-cta"]')).toHaveAttribute('href', v.slots['hero-cta']!.href!);
  await cairnReady(page);
  await page.getByRole('link', { name: 'Home', exact: true }).click();
  await cairnReady(page);
  await expect(page.locator('[data-cairn-slot="hero-title"]')).toHaveText(def.title);
});

test('?cairn_debug=1 shows the touch, the matching variant and why the others did not match', async ({ page }) => {
  await page.goto('/?utm_source=pinterest&utm_medium=social&cairn_debug=1');
  const overlay = page.locator('cairn-debug');
  await expect(overlay).toBeVisible();
  await expect(overlay.getByText(/current: Organic Social \/ pinterest \/ social/)).toBeVisible();
  await expect(overlay.getByText(/variant: pinterest-styling/)).toBeVisible();
  for (const other of SITE_CONFIG.variants.filter((v) => v.id !== 'pinterest-styling')) {
    await expect(overlay.getByText(new RegExp(`${other.id}:`))).toBeVisible();
  }
  // Without the flag, no overlay.
  await page.goto('/?utm_source=pinterest&utm_medium=social');
  await cairnReady(page);
  await expect(page.locator('cairn-debug')).toHaveCount(0);
});

test('a hostile utm_campaign runs nothing and leaves no element behind', async ({ page }) => {
  const evil = '"><img src=x onerror=alert(1)>';
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const requested: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/x') requested.push(r.url());
  });
  const url = `/?utm_source=pinterest&utm_medium=social&utm_campaign=${encodeURIComponent(evil)}&cairn_debug=1`;
  const served = await (await page.request.get(url)).text();
  const imgsServed = (served.match(/<img\b/g) ?? []).length;

  await page.goto(url);
  await cairnReady(page);
  // It was read as data: the touch keeps it verbatim, and the debug overlay shows it as text.
  expect((await touches(page)).current?.campaign).toBe(evil);
  await expect(page.locator('cairn-debug').getByText(/^current:/)).toContainText(evil);

  const found = await page.evaluate(() => {
    const all: Element[] = [];
    const walk = (root: Document | ShadowRoot) =>
      root.querySelectorAll('*').forEach((el) => {
        all.push(el);
        if (el.shadowRoot) walk(el.shadowRoot);
      });
    walk(document);
    return {
      imgs: all.filter((e) => e.tagName === 'IMG').length,
      handlers: all
        .filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith('on')))
        .map((e) => e.outerHTML.slice(0, 80)),
      bad: all.filter((e) => e.getAttribute('src') === 'x').length,
    };
  });
  expect(found.handlers).toEqual([]);
  expect(found.bad).toBe(0);
  expect(found.imgs).toBe(imgsServed);
  expect(dialogs).toEqual([]);
  expect(requested).toEqual([]);
});
