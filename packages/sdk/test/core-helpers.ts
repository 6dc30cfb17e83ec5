// Shared by the core's tests: a clean device per test, and an in-memory sync server behind fetch
// that behaves like the /v1 API (dedupe by event id, device tokens, Bearer auth, identity links).
import { IDBFactory } from 'fake-indexeddb';
import { vi } from 'vitest';
import { createCairn, type Cairn, type CairnOptions } from '../src/cairn';
import type { Touch } from '../src/types';

/** A new empty IndexedDB, localStorage and cookie jar, and real timers/fetch. */
export function freshDevice(): void {
  (globalThis as { indexedDB?: IDBFactory }).indexedDB = new IDBFactory();
  localStorage.clear();
  for (const c of document.cookie.split('; '))
    if (c) document.cookie = c.split('=')[0] + '=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
}

/** Everything an IndexedDB database holds in the store cairn/kv, or null when there is no such database. */
export async function idbDump(): Promise<Record<string, unknown> | null> {
  const dbs = await indexedDB.databases();
  if (!dbs.some((d) => d.name === 'cairn')) return null;
  const db = await new Promise<IDBDatabase>((ok, no) => {
    const r = indexedDB.open('cairn');
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
  if (!db.objectStoreNames.contains('kv')) return (db.close(), {});
  const tx = db.transaction('kv', 'readonly').objectStore('kv');
  const [keys, vals] = await Promise.all(
    [tx.getAllKeys(), tx.getAll()].map(
      (r) => new Promise<unknown[]>((ok) => (r.onsuccess = () => ok(r.result as unknown[]))),
    ),
  );
  db.close();
  return Object.fromEntries(keys!.map((k, i) => [String(k), vals![i]]));
}

/** Writes straight into cairn/kv, as an earlier page would have, and closes the connection. */
export async function rawPut(key: string, value: unknown): Promise<void> {
  const db = await new Promise<IDBDatabase>((ok, no) => {
    const r = indexedDB.open('cairn');
    r.onupgradeneeded = () => r.result.createObjectStore('kv');
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
  const tx = db.transaction('kv', 'readwrite');
  tx.objectStore('kv').put(value, key);
  await new Promise((ok) => (tx.oncomplete = ok));
  db.close();
}

/** Resolves after pending IndexedDB work and timers of 0 ms. */
export const settle = (n = 5) =>
  new Promise<void>((r) =>
    (function tick(i: number): void {
      i ? setTimeout(() => tick(i - 1), 0) : r();
    })(n),
  );

export interface FakeServer {
  fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are whatever the SDK sent; tests read them freely
  requests: { method: string; path: string; body: any; headers: Record<string, string> }[];
  /** Events stored, by id (deduped). */
  // biome-ignore lint/suspicious/noExplicitAny: stored events keep whatever props the SDK sent
  events: Map<string, any>;
  /** Device id → its token; device id → user id. */
  tokens: Map<string, string>;
  links: Map<string, string>;
  /** Devices logged out (POST /v1/logout, or identify's `previous`): their token no longer works. */
  revoked: Set<string>;
  /** The writes that came without a device token (the SDK must send none). */
  tokenless: string[];
  /** Answers the next collects with this status (and Retry-After), once each. */
  failNext: { status: number; retryAfter?: string }[];
  down: boolean;
  /** Handles requests, then fails them on the client's side, as when the page is left meanwhile. */
  loseAnswers: boolean;
  config?: unknown;
  /** The status of each GET /v1/profile answer (200, or 304 for a matching If-None-Match). */
  profileAnswers: number[];
  /** User id → CRM traits, as the store's backend set them: in the profile of that user's devices only. */
  traits: Map<string, Record<string, string | number | boolean>>;
}

/**
 * A fake /v1 sync server with the real one's rules (packages/server/src/routes): every request
 * about a device needs its token (Bearer, or `deviceToken` in the body); a device never seen is
 * adopted with the token its client presents (32+ characters), never without one; a logged-out
 * device's token no longer works. An identity token is valid when it is `signed:<userId>`.
 */
export function fakeServer(): FakeServer {
  const s: FakeServer = {
    requests: [],
    events: new Map(),
    tokens: new Map(),
    links: new Map(),
    revoked: new Set(),
    tokenless: [],
    failNext: [],
    down: false,
    loseAnswers: false,
    profileAnswers: [],
    traits: new Map(),
    fetch: async (input, init = {}) => {
      const res = await handle(input, init);
      if (s.loseAnswers) throw new TypeError('Failed to fetch');
      return res;
    },
  };
  const handle = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    s.requests.push({ method: init.method ?? 'GET', path: url.pathname + url.search, body, headers });
    if (s.down) throw new TypeError('Failed to fetch');
    // POSTs name their site in the query too, so that a fresh server can answer the CORS
    // preflight; the real server allows it missing, this one insists, and both want it equal.
    if (body?.site !== undefined && url.searchParams.get('site') !== body.site)
      return new Response('{"error":"invalid_request"}', { status: 400 });
    const json = (status: number, b: unknown, h: Record<string, string> = {}) =>
      new Response(status === 304 ? null : JSON.stringify(b), {
        status,
        headers: { 'content-type': 'application/json', ...h },
      });
    const auth = (headers.authorization ?? '').replace(/^Bearer /, '') || body?.deviceToken || '';
    // POST /v1/recover is no write about a device: it names none, and carries the server-set cookie instead.
    if (init.method === 'POST' && !auth && url.pathname !== '/v1/recover') s.tokenless.push(url.pathname);
    /** The device's token, or a device never seen adopted with the client's own (32+ characters). */
    const proves = (device: string, presented: string) => {
      const known = s.tokens.get(device);
      if (known) return presented === known && !s.revoked.has(device);
      if (presented.length < 32) return false;
      s.tokens.set(device, presented);
      return true;
    };
    const deviceOf = (tok: string) => [...s.tokens].find(([, t]) => t === tok)?.[0];
    const profileOf = (device: string) => {
      const user = s.links.get(device);
      const devices = user ? [...s.links].filter(([, u]) => u === user).map(([d]) => d) : [device];
      const evs = [...s.events.values()].filter((e) => devices.includes(e.deviceId)).sort((a, b) => b.at - a.at);
      const pages = evs.filter((e) => e.type === 'page');
      const touches: Touch[] = evs.filter((e) => e.type === 'touch').map((e) => e.touch);
      return {
        userId: user ?? null,
        pageViews: pages.map(({ id, path, title, at, product, category, device }) => ({
          id,
          path,
          title,
          at,
          product,
          category,
          device,
        })),
        products: pages.filter((p) => p.product).map((p) => ({ id: p.product, at: p.at, device: p.device })),
        categories: pages.filter((p) => p.category).map((p) => ({ id: p.category, at: p.at, device: p.device })),
        touches,
        firstTouch: touches.at(-1) ?? null,
        lastTouch: touches[0] ?? null,
        optedIn: false,
        ...(user && s.traits.has(user) && { traits: s.traits.get(user) }),
      };
    };
    switch (url.pathname) {
      case '/v1/collect': {
        const f = s.failNext.shift();
        if (f) return json(f.status, { error: 'x', message: 'x' }, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
        if (!proves(body.deviceId, auth)) return json(401, { error: 'unauthorized', message: 'device token' });
        let accepted = 0;
        let duplicates = 0;
        for (const e of body.events) {
          if (s.events.has(e.id)) duplicates++;
          else accepted++, s.events.set(e.id, { ...e, deviceId: body.deviceId });
        }
        return json(202, { accepted, duplicates });
      }
      case '/v1/profile': {
        const d = url.searchParams.get('deviceId');
        if (!d || !url.searchParams.get('site'))
          return json(400, { error: 'invalid_request', message: 'site and deviceId' });
        if (!auth || deviceOf(auth) !== d || s.revoked.has(d))
          return json(401, { error: 'unauthorized', message: 'x' });
        // A strong ETag of the profile, as the real server makes: unchanged, a 304.
        const profile = profileOf(d);
        const etag =
          '"' +
          JSON.stringify(profile).length.toString(36) +
          '-' +
          [...JSON.stringify(profile)].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7).toString(36) +
          '"';
        const status = headers['if-none-match'] === etag ? 304 : 200;
        s.profileAnswers.push(status);
        return json(status, profile, { etag });
      }
      case '/v1/identify': {
        if (body.token !== 'signed:' + body.userId)
          return json(401, { error: 'invalid_identity', message: 'bad token', field: 'token' });
        if (!proves(body.deviceId, auth)) return json(401, { error: 'unauthorized', message: 'device token' });
        const linked = s.links.get(body.deviceId);
        if (linked && linked !== body.userId) return json(409, { error: 'device_linked', message: 'x' });
        s.links.set(body.deviceId, body.userId);
        const previous = body.previous;
        if (previous && previous.deviceId !== body.deviceId && s.tokens.get(previous.deviceId) === previous.token)
          s.revoked.add(previous.deviceId);
        return json(200, { profile: profileOf(body.deviceId) });
      }
      case '/v1/logout': {
        const known = s.tokens.get(body.deviceId);
        if (known ? auth !== known : auth.length < 32)
          return json(401, { error: 'unauthorized', message: 'wrong device token' });
        s.tokens.set(body.deviceId, auth);
        s.revoked.add(body.deviceId);
        return json(200, { revoked: true });
      }
      case '/v1/config': {
        if (!s.config) return json(404, { error: 'not_found', message: 'x' });
        const etag = '"' + JSON.stringify(s.config).length + '"';
        return headers['if-none-match'] === etag ? json(304, null, { etag }) : json(200, s.config, { etag });
      }
      case '/v1/optins':
        if (!proves(body.deviceId, auth)) return json(401, { error: 'unauthorized', message: 'device token' });
        return json(201, { ok: true });
    }
    return json(404, { error: 'not_found', message: 'x' });
  };
  return s;
}

/**
 * SDK instances against the fake server (site `shop` at http://sync.test, then `defaults`), each
 * kept in `open` so that a test can wait for them all before the next one swaps the storage.
 */
export function instances(defaults: CairnOptions = {}) {
  const open: Cairn[] = [];
  const make = (o: CairnOptions = {}) => {
    const c = createCairn({ site: 'shop', server: 'http://sync.test', ...defaults, ...o });
    open.push(c);
    return c;
  };
  const start = async (o: CairnOptions = {}) => {
    const c = make(o);
    await c.ready;
    return c;
  };
  return { open, make, start };
}

/** Runs `f` with cookies blocked, as a browser setting does: document.cookie reads '' and ignores writes. */
export async function cookiesBlocked<T>(f: () => Promise<T>): Promise<T> {
  Object.defineProperty(document, 'cookie', { configurable: true, get: () => '', set: () => {} });
  try {
    return await f();
  } finally {
    delete (document as { cookie?: string }).cookie;
  }
}

/**
 * Adds a script element with `attrs` and runs the script tag's head (src/entry/head.ts) as the
 * browser would: `document.currentScript` is the element meanwhile. `src` is given as the element's
 * property only (happy-dom would fetch a real one). Returns `window.cairn`, the stub. Import the
 * module afresh with `vi.resetModules()` before each call.
 */
export async function runHead(attrs: Record<string, string>, src?: string): Promise<unknown> {
  const s = document.createElement('script');
  if (src) Object.defineProperty(s, 'src', { get: () => src });
  for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
  document.body.append(s);
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => s });
  try {
    await import('../src/entry/head');
  } finally {
    delete (document as { currentScript?: unknown }).currentScript;
  }
  return (window as { cairn?: unknown }).cairn;
}
