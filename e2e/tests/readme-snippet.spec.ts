// The README's self-hosting snippet works as written: its ```html block after "Self-hosting the
// bundle instead", served in a page with the real dist/cairn.js and the core beside it, against the
// real sync server. Its elements keep their order; at serve time the sync server's origin, a site of
// this test's and a config with one variant go in their places. The inline config must come before
// the script tag, which reads it as it runs: in that order the variant applies with no warning; the
// other way round nothing applies and Cairn warns once.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { cairnReady, settle } from './support/cairn';
import { E2E, SYNC } from './support/env';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const DIST = fileURLToPath(new URL('../../packages/sdk/dist/', import.meta.url));
const DEFAULT_TITLE = 'Linen for every room';
const VARIANT_TITLE = 'Made for your Pinterest board';
const LANDING = '?utm_source=pinterest&utm_medium=social';

interface Element {
  /** The element as written. */
  html: string;
  attrs: Record<string, string>;
  text: string;
}

/** The README's ```html block that follows the text "Self-hosting the bundle instead". */
function readmeSnippet(): string {
  const readme = readFileSync(README, 'utf8');
  const at = readme.indexOf('Self-hosting the bundle instead');
  expect(at, 'the README says "Self-hosting the bundle instead"').toBeGreaterThan(-1);
  const block = /```html\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(block, 'an ```html block follows it').not.toBeNull();
  return block![1]!.trim();
}

/** The snippet's <script> elements, in order; nothing else may be in it. */
function elements(snippet: string): Element[] {
  const found = [...snippet.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => ({
    html: m[0],
    attrs: Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])),
    text: m[2]!,
  }));
  expect(
    snippet.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '').trim(),
    'anything in the snippet besides its <script> elements',
  ).toBe('');
  return found;
}

/** The snippet's two parts, checked: the tag (self-hosted /cairn.js, a site, a sync server) and the inline config (JSON, for that site). */
function parts(snippet: string): { tag: Element; config: Element } {
  const els = elements(snippet);
  expect(els, 'the snippet is two <script> elements').toHaveLength(2);
  const tag = els.find((e) => e.attrs.src);
  const config = els.find((e) => e.attrs.id === 'cairn-config');
  expect(tag?.attrs.src, 'the script tag loads the self-hosted bundle').toBe('/cairn.js');
  expect(tag?.attrs['data-site'], 'the tag names its site').toBeTruthy();
  expect(tag?.attrs['data-server'], 'the tag names its sync server').toMatch(/^https?:\/\//);
  expect(config?.attrs.type, 'the inline config is JSON').toBe('application/json');
  const json = JSON.parse(config!.text) as { site?: string };
  expect(json.site, "the inline config is the tag's site's").toBe(tag!.attrs['data-site']);
  return { tag: tag!, config: config! };
}

/** The snippet with this test's server, site and config in place, its elements in the order given. */
function render(snippet: string, site: string, order: 'as written' | 'config after the tag'): string {
  const { tag, config } = parts(snippet);
  const json = JSON.parse(config.text) as Record<string, unknown>;
  const variant = {
    id: 'readme-pinterest',
    name: 'README: Pinterest',
    when: { source: 'pinterest' },
    slots: { 'hero-title': { text: VARIANT_TITLE } },
  };
  // No holdout: every visitor of this test gets the variant.
  const newConfig = config.html.replace(
    config.text,
    JSON.stringify({ ...json, site, variants: [variant], measurement: { holdout: 0 } }),
  );
  const newTag = tag.html
    .replace(`data-site="${tag.attrs['data-site']}"`, `data-site="${site}"`)
    .replace(`data-server="${tag.attrs['data-server']}"`, `data-server="${SYNC}"`);
  if (order === 'config after the tag') return `${newTag}\n${newConfig}`;
  return snippet.replace(config.html, newConfig).replace(tag.html, newTag);
}

let server: Server;
let origin = '';
test.beforeAll(async () => {
  const snippet = readmeSnippet();
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    // The head, and the core and prompts' UI loaded from beside it (named by their content hash).
    if (url.pathname === '/cairn.js' || /^\/cairn-(core|prompts)\.[0-9a-f]+\.js$/.test(url.pathname)) {
      try {
        return res
          .writeHead(200, { 'content-type': 'text/javascript' })
          .end(readFileSync(join(DIST, url.pathname.slice(1))));
      } catch {
        return res.writeHead(404).end();
      }
    }
    if (url.pathname !== '/as-written' && url.pathname !== '/config-after') return res.writeHead(404).end();
    const site = url.searchParams.get('site') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Shop</title>
    ${render(snippet, site, url.pathname === '/as-written' ? 'as written' : 'config after the tag')}
  </head>
  <body>
    <main><h1 data-cairn-slot="hero-title">${DEFAULT_TITLE}</h1></main>
  </body>
</html>`);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

/** A site per worker (each serves on its own port, which the site's origins name). */
const siteOf = (info: { project: { name: string }; parallelIndex: number }) =>
  `readme-${info.project.name}-${info.parallelIndex}`;

/** Its config on the server has no variant: only the inline one can apply it. */
test.beforeEach(async ({ request }, info) => {
  const site = siteOf(info);
  const put = await request.put(`${SYNC}/v1/config?site=${site}`, {
    headers: { authorization: `Bearer ${E2E.adminKey}` },
    data: { site, origins: [origin] },
  });
  expect(put.status(), await put.text()).toBe(200);
});

/** Cairn's console warnings on this page. */
function cairnWarnings(page: Page): string[] {
  const out: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning' && m.text().startsWith('[cairn]')) out.push(m.text());
  });
  return out;
}

test('the snippet as the README writes it: the inline config applies, with no warning', async ({ page }, info) => {
  const site = siteOf(info);
  const warnings = cairnWarnings(page);
  await page.goto(`${origin}/as-written${LANDING}&site=${site}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(VARIANT_TITLE);
  await cairnReady(page);
  await settle(page);
  expect(
    warnings.filter((w) => w.includes('#cairn-config')),
    'warnings about the inline config',
  ).toEqual([]);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(VARIANT_TITLE);
});

test('the config after the script tag: nothing applies, and Cairn warns once about #cairn-config', async ({
  page,
}, info) => {
  const site = siteOf(info);
  const warnings = cairnWarnings(page);
  // The core fetches the server's config (it has no variant) when none came with the page.
  const configs: string[] = [];
  page.on('requestfinished', async (r) => {
    if (r.url().startsWith(`${SYNC}/v1/config`)) configs.push(String((await r.response())?.status()));
  });
  page.on('requestfailed', (r) => {
    if (r.url().startsWith(`${SYNC}/v1/config`)) configs.push(`failed: ${r.failure()?.errorText}`);
  });
  await page.goto(`${origin}/config-after${LANDING}&site=${site}`);
  await cairnReady(page);
  await expect.poll(() => configs, { message: 'GET /v1/config by the core' }).toEqual(['200']);
  await settle(page);
  await expect
    .poll(() => warnings, { message: "Cairn's warnings" })
    .toEqual([expect.stringContaining('#cairn-config')]);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(DEFAULT_TITLE);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
});
