// A new visitor who clicks on quickly keeps their source: landing from a Pinterest link, leaving each of
// three pages 150 ms after its navigation started (long before it loaded), then logging in. The sync
// server must hold, for the user's linked devices, the landing touch and each of the three page views.
// Reported: in about half of such visits the landing touch never arrived and a page view or two were
// missing, so the visitor counted as Direct. A device the server already knew lost nothing.
//
// A page is left 150 ms after its navigation started, but never before Cairn's script tag ran on it:
// a page left before the script even arrived (a loaded machine can take longer than 150 ms to commit
// the document) is one that no script could record. Whether the head or the core was in charge when
// each page was left is logged, with the beacons it sent.
import {
  devices,
  expect,
  test,
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  type Page,
  type Request,
} from '@playwright/test';
import { E2E, SHOP, SYNC } from './support/env';

test.skip(({ isMobile }) => isMobile, 'drives its own desktop and phone contexts; runs once, in the desktop project');

const { defaultBrowserType: _p, ...PIXEL_7 } = devices['Pixel 7'];
const { defaultBrowserType: _d, ...DESKTOP } = devices['Desktop Chrome'];
const KINDS = { desktop: DESKTOP, phone: PIXEL_7 } as const;

/** New visitors per device kind, one fresh context and one distinct user each. */
const VISITORS = 6;
/** Each page is left this long after its navigation started: the next navigation starts then. */
const LEAVE_AFTER_MS = 150;
const LANDING = '/?utm_source=pinterest&utm_medium=social';
const PAGES = [LANDING, '/category/bedding', '/product/SHEET-OAT'];
const PATHS = PAGES.map((p) => new URL(p, SHOP).pathname);
/** Polls of the server for what it holds, 250 ms apart: a bound on attempts, not on time in the assertion. */
const POLLS = 60;

interface Held {
  /** Landing touches (source pinterest, medium social) the server holds for the user's linked devices. */
  touches: number;
  /** Page views of each of PATHS, in order. */
  pages: number[];
  /** The user's linked devices. */
  devices: string[];
}

interface Visitor {
  user: string;
  context: BrowserContext;
  page: Page;
  /** What the login page said: linked, or the error it showed. */
  login: string;
  /** Every request this context made to the sync server, in order, with its answer. */
  sync: string[];
  /** Each page left: who was in charge (the head or the core), and the beacons sent. */
  leaves: string[];
}

const LEAVES_KEY = 'e2e.leaves';

/**
 * In every page, before its scripts: notes when Cairn's head replaced the snippet's queue with its
 * stub (the core later replaces the stub's `push`), and logs to sessionStorage, which the tab keeps
 * across its navigations, each page hide (was the core in charge yet?) and each beacon with its
 * events. A page where the head never ran logs nothing.
 */
function leaveLog(key: string): void {
  const log = (line: string) => {
    const all = JSON.parse(sessionStorage.getItem(key) ?? '[]') as string[];
    all.push(`${location.pathname}: ${line}`);
    sessionStorage.setItem(key, JSON.stringify(all));
  };
  let cairn: unknown;
  let headPush: unknown;
  Object.defineProperty(window, 'cairn', {
    configurable: true,
    get: () => cairn,
    set: (v: unknown) => {
      cairn = v;
      if (v && !Array.isArray(v) && headPush === undefined) headPush = (v as { push: unknown }).push;
    },
  });
  const send = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url: string | URL, data?: BodyInit | null) => {
    const ok = send(url, data);
    let events = '';
    try {
      events = (JSON.parse(String(data)) as { events: { type: string; path?: string }[] }).events
        .map((e) => (e.type === 'page' ? `page ${e.path}` : e.type))
        .join(', ');
    } catch {
      /* not JSON */
    }
    log(`beacon ${new URL(String(url), location.href).pathname} [${events}]${ok ? '' : ' refused'}`);
    return ok;
  };
  // Registered before the SDK's own listeners: it sees who is in charge as the page is left.
  addEventListener('pagehide', () => {
    if (headPush !== undefined)
      log(
        `left, ${(cairn as { push: unknown }).push === headPush ? 'the head in charge (the core had not taken over)' : 'the core in charge'}`,
      );
  });
}

const wanted = (h: Held) => h.touches >= 1 && h.pages.every((n) => n >= 1);

async function held(request: APIRequestContext, user: string): Promise<Held> {
  const res = await request.get(`${SYNC}/v1/users/${user}/export?site=${E2E.site}`, {
    headers: { authorization: `Bearer ${E2E.adminKey}` },
  });
  if (!res.ok()) return { touches: 0, pages: PATHS.map(() => 0), devices: [] };
  const data = (await res.json()) as {
    devices: { deviceId: string }[];
    events: { type: string; path?: string; touch?: { source?: string; medium?: string } }[];
  };
  const touches = data.events.filter(
    (e) => e.type === 'touch' && e.touch?.source === 'pinterest' && e.touch?.medium === 'social',
  ).length;
  const pages = PATHS.map((p) => data.events.filter((e) => e.type === 'page' && e.path === p).length);
  return { touches, pages, devices: data.devices.map((d) => d.deviceId) };
}

/** Logs what the context sends to the sync server: route, device id, token (its first 8 characters), events, status. */
function watchSync(context: BrowserContext, log: string[]): void {
  const start = Date.now();
  const label = (r: Request) => {
    const u = new URL(r.url());
    let body: { deviceId?: string; events?: { type: string; path?: string }[] } = {};
    try {
      body = r.postDataJSON() ?? {};
    } catch {
      /* not JSON */
    }
    const auth = r.headers().authorization;
    const events = body.events?.map((e) => (e.type === 'page' ? `page ${e.path}` : e.type)).join(', ');
    return `${u.pathname}${r.resourceType() === 'ping' ? ' (beacon)' : ''} device=${body.deviceId?.slice(0, 8) ?? '-'} token=${auth ? auth.slice(7, 15) : 'none'}${events ? ` [${events}]` : ''}`;
  };
  context.on('request', (r) => {
    if (r.url().startsWith(SYNC) && r.method() === 'POST') log.push(`+${Date.now() - start}ms ${label(r)}`);
  });
  context.on('requestfinished', async (r) => {
    if (!r.url().startsWith(SYNC) || r.method() !== 'POST') return;
    const res = await r.response().catch(() => null);
    log.push(`+${Date.now() - start}ms ${label(r)} -> ${res?.status() ?? 'no response'}`);
  });
  context.on('requestfailed', (r) => {
    if (r.url().startsWith(SYNC) && r.method() === 'POST')
      log.push(`+${Date.now() - start}ms ${label(r)} -> failed: ${r.failure()?.errorText}`);
  });
}

async function visit(browser: Browser, kind: keyof typeof KINDS, i: number): Promise<Visitor> {
  const user = `fast-${kind}-${i}-${test.info().workerIndex}-${Date.now().toString(36)}`;
  const context = await browser.newContext({ ...KINDS[kind], baseURL: SHOP });
  const sync: string[] = [];
  watchSync(context, sync);
  await context.addInitScript(leaveLog, LEAVES_KEY);
  const page = await context.newPage();
  // Each navigation starts LEAVE_AFTER_MS after the one before it started, once Cairn's head ran on
  // the page (window.cairn is no longer the snippet's array); none waits for a load.
  for (const path of [...PAGES, '/login']) {
    const started = Date.now();
    await page.goto(path, { waitUntil: 'commit' });
    if (path === '/login') continue;
    await page.waitForFunction(
      () => {
        const c = (window as { cairn?: unknown }).cairn;
        return !!c && !Array.isArray(c);
      },
      undefined,
      { polling: 5 },
    );
    await page.waitForTimeout(Math.max(0, started + LEAVE_AFTER_MS - Date.now()));
  }
  // The demo's login: the shop signs the user, the signed-in page identifies the device with Cairn.
  await page.getByLabel('Username').fill(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const status = page.locator('[data-identify-status]');
  await expect(status).toHaveAttribute('data-state', /^(done|error)$/);
  const leaves = await page.evaluate((key) => JSON.parse(sessionStorage.getItem(key) ?? '[]') as string[], LEAVES_KEY);
  return { user, context, page, login: (await status.textContent()) ?? '', sync, leaves };
}

for (const kind of Object.keys(KINDS) as (keyof typeof KINDS)[]) {
  test(`${kind}: new visitors leaving each page after ${LEAVE_AFTER_MS} ms keep their landing touch and every page view`, async ({
    browser,
    request,
  }) => {
    test.setTimeout(120_000);
    const visitors: Visitor[] = [];
    for (let i = 0; i < VISITORS; i++) visitors.push(await visit(browser, kind, i));

    // The visitors stay on the signed-in page while the server is polled, a bounded number of times.
    let got: Held[] = [];
    for (let n = 0; n < POLLS; n++) {
      got = await Promise.all(visitors.map((v) => held(request, v.user)));
      if (got.every(wanted)) break;
      await visitors[0]!.page.waitForTimeout(250);
    }
    await Promise.all(visitors.map((v) => v.context.close()));

    // Who was in charge as each page was left, over all visitors: reported, not asserted (it depends
    // on the machine's speed; on a fast one the core has often taken over by 150 ms).
    const left = visitors.flatMap((v) => v.leaves.filter((l) => l.includes(': left, ')));
    const byHead = left.filter((l) => l.includes('the head in charge')).length;
    const beacons = visitors.flatMap((v) => v.leaves.filter((l) => l.includes(': beacon '))).length;
    const summary = `${kind}: ${VISITORS} visitors, ${left.length} pages left, ${byHead} with the head in charge, ${left.length - byHead} with the core; ${beacons} beacons`;
    console.log(summary);
    await test.info().attach('pages left', {
      contentType: 'text/plain',
      body: [summary, ...visitors.flatMap((v) => [v.user, ...v.leaves])].join('\n'),
    });

    const lost = visitors.flatMap((v, i) => (wanted(got[i]!) ? [] : [{ v, h: got[i]! }]));
    for (const { v, h } of lost) {
      await test.info().attach(`lost: ${v.user}`, {
        contentType: 'text/plain',
        body: [
          `login: ${v.login}`,
          `held: ${JSON.stringify(h)}`,
          'pages left (in the page):',
          ...v.leaves,
          'requests to the sync server (beacons sent at a page hide are not seen here):',
          ...v.sync,
        ].join('\n'),
      });
    }
    for (const [i, v] of visitors.entries()) {
      const h = got[i]!;
      expect
        .soft(v.login, `${v.user}: the login linked the device`)
        .toBe(`Signed in as ${v.user}. What you viewed on your other devices is below.`);
      expect.soft(h.touches, `${v.user}: landing touches (pinterest / social) held for the user`).toBe(1);
      for (const [j, p] of PATHS.entries())
        expect.soft(h.pages[j], `${v.user}: page views of ${p} held for the user`).toBe(1);
    }
    expect(
      lost.map(({ v }) => v.user),
      `visitors who lost their landing touch or a page view (of ${VISITORS})`,
    ).toEqual([]);
  });
}
