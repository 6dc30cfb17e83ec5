// What Cairn costs on the wire on a first visit to the demo home page, in its default one-tag setup
// (`<sync>/v1/sdk.js?site=`), as the page itself measures it with Resource Timing: the render-blocking
// part (the head, with the site config embedded in it) and everything of Cairn's together (the head,
// the core chunk it loads, any GET /v1/config). Sizes are `encodedBodySize`: the bytes as sent,
// compressed. The sync server is another origin: the browser reports these sizes only when it sends
// Timing-Allow-Origin, and reports 0 otherwise, which must fail here rather than pass as "small".
import { expect, test, type Page } from '@playwright/test';
import { cairnReady } from './support/cairn';
import { SYNC } from './support/env';

test.skip(({ isMobile }) => isMobile, 'the same bytes on every device; runs once, in the desktop project');

/** The render-blocking part, embedded config included. */
const MAX_BLOCKING = 6_000;
/**
 * Everything of Cairn's on a first visit: a ratchet, to be set at the measured figure rounded up to
 * the next 100 B and lowered with every cut; never above 13,000 B. Measured at 16,231 B (the head
 * 8,973 B, the core 7,258 B, both br; no /v1/config fetch, and no prompts' UI, which the core asks
 * for only when a prompt shows), so it sits at its ceiling, and fails; packages/sdk/test/budget.test.ts
 * holds the ratchet on the same bytes.
 */
const MAX_TOTAL = 13_000;

const CAIRN_ORIGIN = new URL(SYNC).origin;

interface Resource {
  path: string;
  initiatorType: string;
  renderBlockingStatus: string;
  encodedBodySize: number;
  decodedBodySize: number;
  transferSize: number;
  contentEncoding: string;
}

/** Cairn's resources: the head (/v1/sdk.js), its chunks (/v1/cairn-*.js) and the config (/v1/config). */
const isCairn = (path: string) =>
  path === '/v1/sdk.js' || /^\/v1\/cairn-[a-z0-9-]+\.[0-9a-f]+\.js$/.test(path) || path === '/v1/config';
const isCore = (path: string) => /^\/v1\/cairn-core\.[0-9a-f]+\.js$/.test(path);

/** A first visit to the home page, until the core ran and its chunk's timing entry is complete; then Cairn's resources as the page measured them. */
async function firstVisit(page: Page): Promise<Resource[]> {
  const encodings = new Map<string, string>();
  page.on('response', async (r) => {
    const url = new URL(r.url());
    if (url.origin === CAIRN_ORIGIN && isCairn(url.pathname))
      encodings.set(url.pathname, (await r.headerValue('content-encoding')) ?? 'identity');
  });
  await page.goto('/');
  await cairnReady(page);
  await page.waitForLoadState('load');
  const read = () =>
    page.evaluate(
      (origin) =>
        performance
          .getEntriesByType('resource')
          .map((e) => e as PerformanceResourceTiming & { renderBlockingStatus?: string })
          .filter((e) => new URL(e.name).origin === origin)
          .map((e) => ({
            path: new URL(e.name).pathname,
            initiatorType: e.initiatorType,
            renderBlockingStatus: e.renderBlockingStatus ?? 'unsupported',
            encodedBodySize: e.encodedBodySize,
            decodedBodySize: e.decodedBodySize,
            transferSize: e.transferSize,
            responseEnd: e.responseEnd,
          })),
      CAIRN_ORIGIN,
    );
  await expect
    .poll(async () => (await read()).some((e) => isCore(e.path) && e.responseEnd > 0), {
      message: 'the core chunk has a complete timing entry',
    })
    .toBe(true);
  return (await read())
    .filter((e) => isCairn(e.path))
    .map(({ responseEnd: _, ...e }) => ({ ...e, contentEncoding: encodings.get(e.path) ?? 'unknown' }));
}

const sum = (rs: Resource[]) => rs.reduce((n, r) => n + r.encodedBodySize, 0);
const listed = (rs: Resource[]) =>
  rs
    .map(
      (r) =>
        `${r.path}: ${r.encodedBodySize} B encoded (${r.decodedBodySize} B decoded, ${r.contentEncoding}), ${r.renderBlockingStatus}`,
    )
    .join('\n');

/** Measures, reports, and refuses sizes the browser was not allowed to read. */
async function measure(page: Page): Promise<Resource[]> {
  const resources = await firstVisit(page);
  const blocking = resources.filter((r) => r.initiatorType === 'script' && r.renderBlockingStatus === 'blocking');
  const report = [
    listed(resources),
    `render-blocking: ${sum(blocking)} B (budget ${MAX_BLOCKING} B); all of Cairn's: ${sum(resources)} B (ratchet ${MAX_TOTAL} B)`,
  ].join('\n');
  console.log(report);
  await test.info().attach('wire bytes', { contentType: 'text/plain', body: report });
  for (const r of resources)
    expect(
      r.encodedBodySize,
      `${r.path}: Resource Timing reads ${r.encodedBodySize} B, as it does for a cross-origin response without Timing-Allow-Origin; the sync server must send it for sizes to be measured`,
    ).toBeGreaterThan(0);
  return resources;
}

test("Cairn's head blocks rendering and its core does not; the page can read their sizes", async ({ page }) => {
  const resources = await measure(page);
  const head = resources.filter((r) => r.path === '/v1/sdk.js');
  const core = resources.filter((r) => isCore(r.path));
  expect(head, 'one /v1/sdk.js').toHaveLength(1);
  expect(core, 'one core chunk').toHaveLength(1);
  // The tag is a plain <script> first in <head>: render-blocking, which the budget below is about.
  expect(head[0]!.renderBlockingStatus, 'the head').toBe('blocking');
  // Injected by the head as an async script: it must not hold up the first paint.
  expect(core[0]!.renderBlockingStatus, `the core chunk ${core[0]!.path}`).toBe('non-blocking');
  expect(resources.filter((r) => r.renderBlockingStatus === 'blocking').map((r) => r.path)).toEqual(['/v1/sdk.js']);
  // No prompt on a first visit's first page: the prompts' UI is not asked for, nor counted.
  expect(resources.map((r) => r.path).filter((path) => path.startsWith('/v1/cairn-prompts.'))).toEqual([]);
});

test.describe('budgets', () => {
  test.fixme(true, 'the SDK is over both: the head 8,973 B br (budget 6,000 B), all 16,231 B (ceiling 13,000 B)');

  test(`the render-blocking part weighs at most ${MAX_BLOCKING} B, its embedded config included`, async ({ page }) => {
    const resources = await measure(page);
    const blocking = resources.filter((r) => r.initiatorType === 'script' && r.renderBlockingStatus === 'blocking');
    expect(blocking.length, 'render-blocking scripts of Cairn').toBeGreaterThan(0);
    expect(sum(blocking), `render-blocking bytes:\n${listed(blocking)}`).toBeLessThanOrEqual(MAX_BLOCKING);
  });

  test(`all of Cairn's resources weigh at most ${MAX_TOTAL} B`, async ({ page }) => {
    const resources = await measure(page);
    expect(sum(resources), `Cairn's bytes:\n${listed(resources)}`).toBeLessThanOrEqual(MAX_TOTAL);
  });
});
