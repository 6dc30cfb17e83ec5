// Chromium through Playwright, one fresh context per load (a first visit: empty cache, cookies and
// storage), with the CPU slowed down through CDP as on a mid-range phone.
import { existsSync } from 'node:fs';
import { CHROMIUM_ARGS } from '../../scripts/chromium.mjs';
import { CHROMIUM } from './paths.mjs';

export const THROTTLE = 4;

export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: set CHROMIUM_PATH`);
  const { chromium } = await import('@playwright/test');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Loads `url` once in a fresh context with CPU throttling, runs `init` (with `arg`) before any page
 * script and `prepare(page, cdp)` before navigating, waits for `load`, then `settle(page)`; resolves
 * to what `collect(page, cdp, prepared)` returns. Page errors and failed requests are collected: a
 * page that throws, or a script that did not arrive, is reported, not hidden.
 * @template T
 * @param {import('@playwright/test').Browser} browser
 * @param {{ url: string, init?: Function, arg?: unknown, prepare?: (page: import('@playwright/test').Page, cdp: import('@playwright/test').CDPSession) => Promise<any>, settle: (page: import('@playwright/test').Page) => Promise<void>, collect: (page: import('@playwright/test').Page, cdp: import('@playwright/test').CDPSession, prepared?: any) => Promise<T> }} o
 * @returns {Promise<T & { errors: string[], failed: string[] }>}
 */
export async function loadOnce(browser, { url, init, arg, prepare, settle, collect }) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    const failed = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => failed.push(`${new URL(r.url()).pathname} ${r.failure()?.errorText ?? ''}`.trim()));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
    if (init) await page.addInitScript(init, arg);
    const prepared = prepare ? await prepare(page, cdp) : undefined;
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    await settle(page);
    return { ...(await collect(page, cdp, prepared)), errors, failed };
  } finally {
    await context.close();
  }
}

/** CDP Performance.getMetrics as a name → value map. */
export async function cdpMetrics(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

/**
 * Runs `fn(kind, i)` for i in 0..n-1, interleaving the kinds so that drift in the machine hits all
 * alike, after (with `warmup`) one unrecorded round that warms the servers, their caches and Chromium.
 */
export async function interleaved(kinds, n, fn, { warmup = true } = {}) {
  if (warmup) for (const k of kinds) await fn(k, -1);
  const out = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let i = 0; i < n; i++) for (const k of kinds) out[k].push(await fn(k, i));
  return out;
}
