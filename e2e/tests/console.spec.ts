// The marketer console in Chromium, on its own sync server and storefront seeded with
// simulated shoppers through the real endpoints (scripts/seed.mjs). It signs in, draws the funnel
// charts from the reports API, shows each variant and prompt against its holdout with the API's
// intervals and verdicts, refuses an invalid config without saving it, saves a valid edit that
// the server and the storefront then serve, and refuses a save made on top of someone else's, a
// first save of a new site's config included.
import { expect, test, type Page } from '@playwright/test';
import { E2E } from './support/env';
import { startStack, type Stack } from './support/stack';
import { seed } from '../../scripts/seed.mjs';

test.skip(({ isMobile }) => isMobile, 'a desktop tool on its own stack; runs once, in the desktop project');
// One stack for the file, and the config tests edit it in turn.
test.describe.configure({ mode: 'serial' });

const SITE = E2E.site;
const CHARTS = ['funnel-chart', 'value-chart', 'models-chart', 'journeys-chart', 'variants-chart', 'prompts-chart'];
const ADMIN = { authorization: `Bearer ${E2E.adminKey}` };

interface Variant {
  id: string;
  name: string;
  slots: Record<string, Record<string, unknown>>;
}
interface Config {
  site: string;
  variants: Variant[];
  [k: string]: unknown;
}
interface ChannelRow {
  channel: string;
  visitors: number;
}
interface ChannelsReport {
  totals: { visitors: number; orders: number };
  channels: ChannelRow[];
}

let stack: Stack;
let seeded: { visitors: number; orders: number };

test.beforeAll(async () => {
  stack = await startStack();
  // Half held out of every variant and prompt: both arms get people with only 150 visitors.
  seeded = await seed({
    url: stack.syncUrl,
    site: SITE,
    secret: E2E.identitySecret,
    visitors: 150,
    concurrency: 4,
    holdout: 0.5,
  });
});
test.afterAll(async () => {
  await stack?.close();
});

/** Opens the console and signs in; collects console errors and CSP violations as they happen. */
async function signIn(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${stack.syncUrl}/console`);
  await page.getByLabel('Admin key').fill(E2E.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#channel-table tbody tr.channel').first()).toBeVisible();
  return problems;
}

async function served(page: Page): Promise<{ etag: string; config: Config }> {
  const r = await page.request.get(`${stack.syncUrl}/v1/config?site=${SITE}`, {
    headers: { 'cache-control': 'no-cache' },
  });
  expect(r.status()).toBe(200);
  return { etag: r.headers().etag ?? '', config: (await r.json()) as Config };
}

/** The report for the range the console's date inputs show. */
async function report(page: Page, model: string): Promise<ChannelsReport> {
  const [from, to] = [await page.locator('#from').inputValue(), await page.locator('#to').inputValue()];
  const r = await page.request.get(
    `${stack.syncUrl}/v1/reports/channels?site=${SITE}&model=${model}&from=${from}&to=${to}`,
    { headers: ADMIN },
  );
  expect(r.status()).toBe(200);
  return (await r.json()) as ChannelsReport;
}

/** The data a chart holds: its labels and every dataset's values. */
function chartData(page: Page, id: string) {
  return page.evaluate((canvasId) => {
    const chart = (
      window as unknown as {
        Chart: { getChart(id: string): { data: { labels: unknown[]; datasets: { data: unknown[] }[] } } | undefined };
      }
    ).Chart.getChart(canvasId);
    return chart
      ? { labels: chart.data.labels.map(String), values: chart.data.datasets.map((d) => d.data.map(Number)) }
      : null;
  }, id);
}

async function editorConfig(page: Page): Promise<Config> {
  return JSON.parse(await page.locator('#config-text').inputValue()) as Config;
}

test('signs in with the admin key and draws the funnel by channel from the reports', async ({ page }) => {
  expect(seeded.visitors).toBe(150);
  expect(seeded.orders).toBeGreaterThan(0);

  await page.goto(`${stack.syncUrl}/console/`);
  await page.getByLabel('Admin key').fill('not-the-admin-key-0123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText('This key was refused.')).toBeVisible();
  await expect(page.locator('#app')).toBeHidden();

  const problems = await signIn(page);
  const last = await report(page, 'last');
  expect(last.totals.visitors).toBeGreaterThan(100);

  for (const id of CHARTS) {
    await expect(page.locator(`canvas#${id}`)).toBeVisible();
    await expect
      .poll(async () => (await chartData(page, id))?.values.flat().reduce((a, b) => a + b, 0) ?? 0, {
        message: `${id} has data`,
      })
      .toBeGreaterThan(0);
  }
  // The visitors chart shows the API's numbers for every channel (a ninth, Organic Video, too), under the model picked.
  const top = (r: ChannelsReport) => ({
    labels: r.channels.map((c) => c.channel),
    visitors: r.channels.map((c) => c.visitors),
  });
  await expect
    .poll(async () => {
      const d = await chartData(page, 'value-chart');
      return { labels: d?.labels, visitors: d?.values[0] };
    })
    .toEqual(top(last));
  await expect(page.locator('#channel-table tr.total td').nth(1)).toHaveText(
    new Intl.NumberFormat('en').format(last.totals.visitors),
  );

  await page.getByLabel('First touch').check();
  await expect(page.locator('#funnel-model')).toHaveText('— first touch');
  const first = await report(page, 'first');
  await expect
    .poll(async () => {
      const d = await chartData(page, 'value-chart');
      return { labels: d?.labels, visitors: d?.values[0] };
    })
    .toEqual(top(first));

  // The three models side by side: one dataset per model.
  expect((await chartData(page, 'models-chart'))?.values).toHaveLength(3);

  // Each chart's caption comes first in its figure, as its title (not under it, like the next one's heading).
  const captionsFirst = await page
    .locator('figure.chart')
    .evaluateAll((figures) => figures.map((f) => f.firstElementChild?.tagName ?? ''));
  expect(captionsFirst.length).toBeGreaterThanOrEqual(CHARTS.length);
  expect(new Set(captionsFirst)).toEqual(new Set(['FIGCAPTION']));

  // A channel's sources open under it.
  const firstChannel = page.locator('#channel-table tr.channel').first();
  await firstChannel.getByRole('button').click();
  await expect(page.locator('#channel-table tr.source').first()).toBeVisible();

  // The key stays in this tab's sessionStorage, never in localStorage.
  const stored = await page.evaluate(() => ({
    session: JSON.stringify(sessionStorage),
    local: JSON.stringify(localStorage),
  }));
  expect(stored.session).toContain(E2E.adminKey);
  expect(stored.local).not.toContain(E2E.adminKey);
  expect(problems, 'console errors and CSP violations').toEqual([]);
});

interface Comparison {
  absolute: { low: number; high: number } | null;
  relative: { estimate: number; low: number; high: number } | null;
  verdict: string;
  neededPerArm: { treatment: number; holdout: number } | null;
}
interface LiftRow {
  id: string;
  visitors: { treatment: number; holdout: number };
  metrics: Record<string, Comparison>;
}
interface LiftReport {
  mde: number;
  variants: LiftRow[];
  prompts: LiftRow[];
}
const LIFT_METRICS = ['optinRate', 'identifiedRate', 'purchaseRate', 'revenuePerVisitor'];

async function lift(page: Page, mde = 0.1): Promise<LiftReport> {
  const [from, to] = [await page.locator('#from').inputValue(), await page.locator('#to').inputValue()];
  const r = await page.request.get(
    `${stack.syncUrl}/v1/reports/experiments?site=${SITE}&from=${from}&to=${to}&mde=${mde}`,
    { headers: ADMIN },
  );
  expect(r.status()).toBe(200);
  return ((await r.json()) as { lift: LiftReport }).lift;
}

test('shows each variant and prompt against its holdout, with the API’s intervals and verdicts', async ({ page }) => {
  const problems = await signIn(page);
  const report = await lift(page);
  expect(report.variants.length).toBeGreaterThan(0);
  expect(report.prompts.length).toBeGreaterThan(0);
  // The seed held out half: both arms have people.
  const people = (rows: LiftRow[], arm: 'treatment' | 'holdout') => rows.reduce((n, r) => n + r.visitors[arm], 0);
  expect(people(report.variants, 'holdout')).toBeGreaterThan(0);
  expect(people(report.variants, 'treatment')).toBeGreaterThan(0);

  const cards = (kind: string) => page.locator(`#lift-${kind}s .lift-card`);
  await expect(cards('variant')).toHaveCount(report.variants.length);
  await expect(cards('prompt')).toHaveCount(report.prompts.length);
  for (const [kind, rows] of [
    ['variant', report.variants],
    ['prompt', report.prompts],
  ] as const) {
    for (const [i, row] of rows.entries()) {
      const card = cards(kind).nth(i);
      await expect(card.locator('h3')).toContainText(row.id);
      // The verdict of every metric, in words, as the API gave it.
      await expect(card.locator('tbody .verdict')).toHaveText(LIFT_METRICS.map((m) => row.metrics[m]!.verdict));
      await expect(card.locator('.lift-answers li')).toHaveCount(LIFT_METRICS.length);
      // The chart: one interval bar [low, high] per metric that has a relative interval, and the measured lift.
      const drawn = LIFT_METRICS.map((m) => row.metrics[m]!.relative).filter((r) => r !== null);
      const data = await page.evaluate((id) => {
        const chart = (
          window as unknown as {
            Chart: { getChart(id: string): { data: { datasets: { data: unknown[] }[] } } | undefined };
          }
        ).Chart.getChart(id);
        return chart?.data.datasets.map((d) => d.data) ?? null;
      }, `lift-chart-${kind}-${i}`);
      expect(data).toEqual([drawn.map((r) => [r.low, r.high]), drawn.map((r) => r.estimate)]);
    }
  }

  // The observed comparison with visitors who got no variant stays, labelled as not causal.
  await expect(page.locator('#experiments')).toContainText('Observed rates after exposure: not causal');
  await expect(page.locator('#variants-table tbody tr').last()).toContainText('not a control group');

  // Another minimum detectable effect: the sample sizes follow the API's for it.
  await page.locator('#mde').selectOption('0.2');
  const wider = await lift(page, 0.2);
  const first = wider.variants[0]!;
  const purchase = first.metrics.purchaseRate!;
  await expect(cards('variant').first().locator('thead')).toContainText('for a 20% lift');
  const row = cards('variant').first().locator('tr[data-metric="purchaseRate"] td').last();
  const fmt = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
  await expect(row).toHaveText(
    purchase.neededPerArm
      ? `${fmt.format(purchase.neededPerArm.treatment)} / ${fmt.format(purchase.neededPerArm.holdout)}`
      : '–',
  );
  expect(problems, 'console errors and CSP violations').toEqual([]);
});

test('renders a variant’s name from the config as text, never as HTML', async ({ page }) => {
  const loaded = await served(page);
  const config = structuredClone(loaded.config);
  const report = await (async () => {
    await signIn(page);
    return lift(page);
  })();
  const id = report.variants[0]!.id;
  const variant = config.variants.find((v) => v.id === id)!;
  variant.name = '<img src=x id=injected onerror="window.__pwned=1"><b>Bold</b>';
  const put = await page.request.put(`${stack.syncUrl}/v1/config?site=${SITE}`, {
    headers: { ...ADMIN, 'content-type': 'application/json', 'if-match': loaded.etag },
    data: JSON.stringify(config),
  });
  expect(put.status()).toBe(200);
  await page.reload();
  await expect(page.locator('#lift-variants .lift-card h3').first()).toHaveText(`${variant.name} (${id})`);
  expect(await page.locator('#injected').count()).toBe(0);
  expect(await page.locator('.lift-card h3 b').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
});

test('an invalid config shows the error with its path and saves nothing', async ({ page }) => {
  const before = await served(page);
  await signIn(page);
  const textarea = page.locator('#config-text');
  await expect(textarea).toHaveValue(/"variants"/);

  const config = await editorConfig(page);
  config.variants[0]!.slots['hero-cta'] = { text: 'Go', href: 'javascript:alert(document.cookie)' };
  await textarea.fill(JSON.stringify(config, null, 2));
  // Checked live, before any save.
  const issues = page.locator('#config-issues li');
  await expect(issues).toHaveCount(1);
  await expect(issues.first()).toContainText('variants.0.slots.hero-cta.href');
  await expect(issues.first()).toContainText('only http(s) or relative URLs are allowed');
  await expect(issues.first()).toContainText(`in variant "${config.variants[0]!.id}"`);
  await expect(page.locator('#config-valid')).toContainText('1 problem');

  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#config-message')).toContainText('Not saved');
  await expect(issues.first()).toContainText('variants.0.slots.hero-cta.href');

  // Broken JSON is caught too.
  await textarea.fill('{ "site": "demo", ');
  await expect(issues.first()).toContainText('(json)');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#config-message')).toContainText('not valid JSON');

  const after = await served(page);
  expect(after.etag).toBe(before.etag);
  expect(after.config).toEqual(before.config);
});

test('a valid edit is saved, served by GET /v1/config and shown by the storefront preview', async ({
  page,
  context,
}) => {
  await signIn(page);
  const config = await editorConfig(page);
  const variant = config.variants.find((v) => v.slots['hero-title']) ?? config.variants[0]!;
  const title = `Linen the way you pinned it (edited ${Date.now()})`;
  variant.slots['hero-title'] = { ...variant.slots['hero-title'], text: title };
  await page.locator('#config-text').fill(JSON.stringify(config, null, 2));
  await expect(page.locator('#config-valid')).toContainText('Valid');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#config-message')).toContainText('Saved');
  await expect(page.locator('#config-issues li')).toHaveCount(0);

  const now = await served(page);
  expect(now.config.variants.find((v) => v.id === variant.id)?.slots['hero-title']?.text).toBe(title);

  // The preview opens the storefront with ?cairn_variant=<id>, and the saved text is there.
  await page.locator('#shop-url').fill(stack.shopUrl);
  await page.locator('#preview-variant').selectOption(variant.id);
  const [preview] = await Promise.all([
    context.waitForEvent('page'),
    page.getByRole('button', { name: 'Preview variant' }).click(),
  ]);
  await expect(preview).toHaveURL(new RegExp(`cairn_variant=${variant.id}`));
  await expect(preview.locator('[data-cairn-slot="hero-title"]')).toHaveText(title);
  await preview.close();

  const [debug] = await Promise.all([
    context.waitForEvent('page'),
    page.getByRole('button', { name: 'Open with debug panel' }).click(),
  ]);
  await expect(debug).toHaveURL(/cairn_debug=1/);
  await debug.close();
});

test('a save on top of someone else’s is refused with a clear message', async ({ page }) => {
  await signIn(page);
  const mine = await editorConfig(page);
  const loaded = await served(page);

  // Another marketer saves first, from the version both loaded.
  const theirs = structuredClone(loaded.config);
  theirs.variants[0]!.name = 'Renamed by a colleague';
  const put = await page.request.put(`${stack.syncUrl}/v1/config?site=${SITE}`, {
    headers: { ...ADMIN, 'content-type': 'application/json', 'if-match': loaded.etag },
    data: JSON.stringify(theirs),
  });
  expect(put.status()).toBe(200);

  mine.variants[0]!.name = 'Renamed by me';
  await page.locator('#config-text').fill(JSON.stringify(mine, null, 2));
  await expect(page.locator('#config-valid')).toContainText('Valid');
  await page.getByRole('button', { name: 'Save' }).click();
  const message = page.locator('#config-message');
  await expect(message).toContainText('someone else saved this config after you loaded it');
  await expect(message).toContainText('Not saved');

  // Nothing was overwritten.
  expect((await served(page)).config.variants[0]!.name).toBe('Renamed by a colleague');

  // Their version loads in one click; an edit made on it saves.
  await page.getByRole('button', { name: 'Load their version' }).click();
  await expect(page.locator('#config-text')).toHaveValue(/Renamed by a colleague/);
  const next = await editorConfig(page);
  next.variants[0]!.name = 'Renamed by me, after reading theirs';
  await page.locator('#config-text').fill(JSON.stringify(next, null, 2));
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(message).toContainText('Saved');
  expect((await served(page)).config.variants[0]!.name).toBe('Renamed by me, after reading theirs');
});

test('the first save of a new site’s config is refused when a colleague saved one first', async ({ page }) => {
  const site = `new-${Date.now()}`;
  await signIn(page);
  await page.locator('#site').fill(site);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.locator('#config-etag')).toHaveText('not saved yet');
  const mine = await editorConfig(page);
  expect(mine.site).toBe(site);

  // A colleague creates the config first.
  const theirs = {
    site,
    variants: [
      {
        id: 'theirs',
        name: 'Created by a colleague',
        when: { source: 'pinterest' },
        slots: { 'hero-title': { text: 'Theirs' } },
      },
    ],
  };
  const put = await page.request.put(`${stack.syncUrl}/v1/config?site=${site}`, {
    headers: { ...ADMIN, 'content-type': 'application/json', 'if-none-match': '*' },
    data: JSON.stringify(theirs),
  });
  expect(put.status()).toBe(200);

  await page.locator('#config-text').fill(JSON.stringify({ ...mine, variants: [] }, null, 2));
  await expect(page.locator('#config-valid')).toContainText('Valid');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#config-message')).toContainText('someone else saved this config after you loaded it');
  const r = await page.request.get(`${stack.syncUrl}/v1/config?site=${site}`, {
    headers: { 'cache-control': 'no-cache' },
  });
  expect(((await r.json()) as Config).variants.map((v) => v.id)).toEqual(['theirs']);
});
