// When Cairn's two parts run, as the page sees it. The script tag's head replaces the snippet's queue
// (`window.cairn = []`) with a stub; the core, loaded after it, makes that same object the API, which
// replaces its `push`. An init script notes both moments, and what happened before them: IndexedDB
// opens and requests to the sync server (fetch and sendBeacon).
import type { Page } from '@playwright/test';

export interface Takeover {
  /** performance.now() when the head put its stub in place; null if it never did. */
  headAt: number | null;
  /** When the core took over (the stub's `push` replaced); null if not yet. */
  coreAt: number | null;
  /** Each indexedDB.open: the database name, when. */
  idbOpens: { name: string; at: number }[];
  /** Each request to a /v1/ path: how (fetch or beacon), the path, when. */
  requests: { via: 'fetch' | 'beacon'; path: string; at: number }[];
}

/** The init script (page.addInitScript / context.addInitScript): keeps its record in window.__takeover. */
export function watchTakeover(): void {
  const record: Takeover = { headAt: null, coreAt: null, idbOpens: [], requests: [] };
  (window as unknown as { __takeover: Takeover }).__takeover = record;
  const now = () => performance.now();
  let cairn: unknown;
  Object.defineProperty(window, 'cairn', {
    configurable: true,
    get: () => cairn,
    set: (value: unknown) => {
      cairn = value;
      if (!value || Array.isArray(value) || record.headAt !== null) return;
      record.headAt = now();
      // The core assigns its own push onto the stub: an accessor in its place hears it, and keeps it.
      let push = (value as { push: unknown }).push;
      Object.defineProperty(value, 'push', {
        configurable: true,
        enumerable: true,
        get: () => push,
        set: (next: unknown) => {
          push = next;
          record.coreAt ??= now();
        },
      });
    },
  });

  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (this: IDBFactory, name: string, version?: number) {
    record.idbOpens.push({ name, at: now() });
    return version === undefined ? open.call(this, name) : open.call(this, name, version);
  };
  const path = (url: RequestInfo | URL) => {
    try {
      return new URL(url instanceof Request ? url.url : String(url), location.href).pathname;
    } catch {
      return '';
    }
  };
  const fetch = window.fetch;
  window.fetch = function (input: RequestInfo | URL, init?: RequestInit) {
    if (path(input).startsWith('/v1/')) record.requests.push({ via: 'fetch', path: path(input), at: now() });
    return fetch.call(this, input, init);
  };
  const beacon = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url: string | URL, data?: BodyInit | null) => {
    record.requests.push({ via: 'beacon', path: path(url), at: now() });
    return beacon(url, data);
  };
}

export const takeover = (page: Page): Promise<Takeover> =>
  page.evaluate(() => (window as unknown as { __takeover: Takeover }).__takeover);

/** DOMContentLoaded's start and end, in performance.now() time. */
export const domContentLoaded = (page: Page): Promise<{ start: number; end: number }> =>
  page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return { start: nav.domContentLoadedEventStart, end: nav.domContentLoadedEventEnd };
  });
