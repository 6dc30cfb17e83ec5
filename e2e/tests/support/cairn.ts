// Page-side helpers: wait for the SDK and read its public API (window.cairn) from the page.
import { expect, type Page } from '@playwright/test';

/** The parts of the SDK's public API the tests read: touch(), history() and profile(), as the README documents them. */
export interface TouchView {
  source: string;
  medium: string;
  campaign?: string;
  channel: string;
  landingPath: string;
  referrerHost?: string;
}
export interface HistoryView {
  sessions: { id: string; pages: number; touch: TouchView | null }[];
  pageViews: {
    id: string;
    path: string;
    title: string;
    at: number;
    session: string;
    product?: string;
    category?: string;
    device?: string;
  }[];
  products: string[];
  categories: string[];
  touches: TouchView[];
}
interface CairnApi {
  ready: Promise<unknown>;
  touch(): { first: TouchView | null; last: TouchView | null; current: TouchView | null };
  history(): Promise<HistoryView>;
  profile?(): Promise<unknown>;
}
type CairnWindow = Window & { cairn?: CairnApi | unknown[] };

/**
 * Waits until the script tag has booted and its core has taken over: window.cairn is no longer the
 * snippet's queue (the head's stub, then the API: the same object) and `cairn.ready`, which the stub
 * resolves once the core is ready, has resolved.
 */
export async function cairnReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const c = (window as CairnWindow).cairn;
    return !!c && !Array.isArray(c) && typeof (c as CairnApi).history === 'function';
  });
  await page.evaluate(async () => {
    await ((window as CairnWindow).cairn as CairnApi).ready;
  });
}

export async function touches(page: Page): Promise<ReturnType<CairnApi['touch']>> {
  await cairnReady(page);
  return page.evaluate(() => ((window as CairnWindow).cairn as CairnApi).touch());
}

export async function history(page: Page): Promise<HistoryView> {
  await cairnReady(page);
  return page.evaluate(() => ((window as CairnWindow).cairn as CairnApi).history());
}

/** Waits until this page's view is in the history: `n` page views recorded on the device in all. */
export async function recorded(page: Page, n: number): Promise<HistoryView> {
  await expect
    .poll(async () => (await history(page)).pageViews.length, { message: `${n} page views recorded` })
    .toBeGreaterThanOrEqual(n);
  return history(page);
}

/** Two animation frames and a macrotask: lets work queued after a page view (prompts, variants) run. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 0)));
      }),
  );
}
