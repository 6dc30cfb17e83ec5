import { cachedConfig, fetchConfig, inlineConfig } from './config/config';
import { deviceKind } from './device-kind';
import { CairnError, toError, warn } from './errors';
import { addPage, addTouch, HISTORY_KEY, migrate, toHistory, type StoredHistory } from './history/history';
import { startPrompts } from './prompts';
import { enter, readState, touchesOf, writeState, type SyncState } from './state/sync-state';
import { idCookie } from './storage/device-id';
import { createKv } from './storage/kv';
import { createSender, type Ev } from './sync/outbox';
import { resolveTouch } from './touch';
import type { Consent, Emit, History, PageView, Profile, PromptContext, SiteConfig, SiteConfigInput, Touch, Touches } from './types';
import { uuid } from './uuid';
import { hideSlots, startVariants } from './variants';

// The SDK core: decides the session and the touches synchronously at start, records page views and
// events, and wires storage, sync, identity, consent, variants and prompts together.

export interface CairnOptions {
  /** The site id (data-site). Without it nothing is sent. */
  site?: string | null;
  /** The sync server's origin (data-server). Without it the SDK works on the device only. */
  server?: string | null;
  /** Default consent (data-consent); else the config's consent.default, else 'granted'. An explicit cairn.consent('granted') is remembered and wins. */
  consent?: Consent | null;
  /** Cookie domain for the device id, e.g. `.shop.com` so that subdomains share it (data-cookie-domain). */
  cookieDomain?: string | null;
  /** Hosts whose referrers are internal navigation (data-site-hosts). Default: the config's, else the page's registrable domain. */
  siteHosts?: string[] | null;
  /** Global Privacy Control counts as denied unless this is false (data-respect-gpc="false") or the config's consent.respectGpc is. */
  respectGpc?: boolean | null;
  /** The site config; else inline #cairn-config, else the cached copy, else fetched from the server. */
  config?: SiteConfig | SiteConfigInput | null;
  /** The storefront's own opt-in handler, e.g. to pass the address to its email tool. */
  onOptin?: PromptContext['onOptin'];
  /** Where account prompts send the visitor back after login. Default: the current URL. */
  returnUrl?: string;
  /** For tests and iframes; default: the global window. */
  window?: Window;
}

export interface PageProps {
  path?: string;
  title?: string;
  product?: string;
  category?: string;
}

export interface Cairn {
  /** Records a page view. Title, product and category default to the page's (<meta name="cairn:product|category">). */
  page(props?: PageProps): Promise<void>;
  /** Records a custom event; `name` is snake_case. */
  track(name: string, props?: Record<string, unknown>): void;
  touch(): Touches;
  history(): Promise<History>;
  /** The synced profile (merged across devices once identified), or null. */
  profile(): Promise<Profile | null>;
  /** Links this device to a user, with a token signed by the storefront's backend. Resolves to the merged profile. */
  identify(userId: string, token: string): Promise<Profile>;
  /** Logout: wipes every trace of the profile from the device and starts a new anonymous device. */
  reset(): Promise<void>;
  consent(state: Consent): void;
  /**
   * Listens to an event type, or `*` for all. Recorded events (`page`, `touch`, custom names, the
   * variants' and prompts' events) get the event; `profile` (pulled at start) and `identify` get the
   * profile; `reset` gets nothing. Returns the unsubscribe.
   */
  on(event: string, fn: (data: any) => void): () => void;
  /** Sends the outbox now. */
  flush(): Promise<void>;
  /** Resolves once storage is open and the device id settled. Never rejects. */
  ready: Promise<void>;
}

const noop = () => {};
const valid = (c: unknown) => (/^(granted|denied|pending)$/.test(c as string) ? (c as Consent) : undefined);
const cut = (s: unknown, n: number) => (s ? String(s).slice(0, n) : undefined);

export function createCairn(o: CairnOptions = {}): Cairn {
  const w = o.window || window;
  const doc = w.document;
  const loc = w.location;
  const site = o.site || '';
  const server = (o.server || '').replace(/\/+$/, '');
  /** The sync server is usable: there is one, a site, and consent. */
  const net = () => ok && server && site;
  let ls: Storage | undefined;
  try {
    ls = w.localStorage;
  } catch {}

  let cfg = (o.config || inlineConfig(doc)) as SiteConfig | undefined;
  /** A config that came with the page (embedded, option, inline) needs no fetch. */
  const fixed = !!cfg;
  cfg ||= cachedConfig(ls, site);

  // Consent: an explicit grant stored earlier, else GPC, else the option, the config, 'granted'.
  const cc = cfg?.consent;
  let consent: Consent = readState(ls)?.g
    ? 'granted'
    : (o.respectGpc ?? cc?.respectGpc ?? 1) && (w.navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl
      ? 'denied'
      : valid(o.consent) || valid(cc?.default) || 'granted';
  let ok = consent == 'granted';

  const store = createKv(w);
  const kv = store.kv;
  ok ? store.grant() : store.stop(consent == 'pending');

  // The synchronous state: in memory, and with consent in localStorage, where other tabs write it
  // too. `load` takes their changes; a reset in another tab moves this one to the new device.
  let st: SyncState = (ok && readState(ls)) || { v: 1 };
  const save = () => ok && writeState(ls, st);
  const load = () => {
    const s = ok && readState(ls);
    if (s) {
      if (s.d && s.d != dev) (dev = s.d), send.clear();
      st = s;
    }
  };
  /** Changes the state on top of the latest stored one, so no tab's write is lost. */
  const up = (f: (s: SyncState) => unknown) => (load(), f(st), save());

  const cookie = idCookie(loc.protocol == 'https:', o.cookieDomain || undefined);
  let dev = (ok && (cookie.get() || st.d)) || uuid();
  // The token and the user belong to the id they were stored with (cookies blocked: a new id each page).
  if (st.d != dev) delete st.t, delete st.u;
  /** Writes the id cookie, and mirrors the id when the cookie sticks (cookies blocked: memory only). */
  const keepId = () => ok && cookie.set(dev) && (up((s) => (s.d = dev)), kv.set('id', dev).catch(warn));

  const at0 = Date.now();
  let t: Touch | null = null;
  try {
    t = resolveTouch({ url: loc.href, referrer: doc.referrer, siteHosts: o.siteHosts || cfg?.siteHosts, now: at0 });
  } catch {}
  const fresh = enter(st, t, at0);
  save();
  const device = deviceKind(w, cfg?.desktopQuery);

  const subs: Record<string, ((d: unknown) => void)[]> = {};
  const fire = (type: string, d: unknown) =>
    [...(subs[type] || []), ...(subs['*'] || [])].map((f) => {
      try {
        f(d);
      } catch (e) {
        warn(e);
      }
    });

  const send = createSender(
    kv,
    () => (net() ? server + '/v1/collect' : null),
    (events) => ({ site, deviceId: dev, events }),
    (r) => r?.deviceToken && up((s) => (s.t ||= r.deviceToken)),
    () => (load(), st.t),
    () => st.t && !st.u,
  );

  /** To `on` listeners and, unless consent is denied, to the outbox. */
  const record = (ev: Ev) => {
    fire(ev.type, ev);
    if (consent != 'denied') send.add(ev).catch(warn);
  };

  /** Activity at `at` (it may start a new session after 30 minutes idle); returns the session. */
  const act = (at: number) => (up((s) => enter(s, null, at)), st.s!);

  const emit: Emit = (type, props) => {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(type)) throw new CairnError('invalid', 'event name: ' + type);
    const at = Date.now();
    act(at);
    // JSON drops what the server cannot take (functions, undefined); long strings are cut.
    record({ ...JSON.parse(JSON.stringify(props || {}, (_, v) => (typeof v == 'string' ? v.slice(0, 2e3) : v))), id: uuid(), type, at });
  };

  // A new touch joins the journey, first of this page's events.
  if (fresh) record({ id: uuid(), type: 'touch', at: at0, touch: fresh }), kv.update(HISTORY_KEY, (h) => addTouch(h, fresh)).catch(warn);

  const touches = () => (load(), touchesOf(st));
  const sticky = { get: () => (load(), st.x), set: (x: string | null) => up((s) => (s.x = x)) };
  const variants = () => startVariants({ config: cfg!, touches: touches(), device, url: new URL(loc.href), doc, sticky, emit });

  /** A request to the sync server, with the device token; refused without consent or server. Resolves to any answer < 400, and 401/409 when `raw`. */
  const api = async (path: string, body?: unknown, raw?: 1) => {
    if (!net()) throw new CairnError(server ? 'consent' : 'no_server');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (st.t) headers.authorization = 'Bearer ' + st.t;
    let r: Response;
    try {
      r = await fetch(server + path, body ? { method: 'POST', headers, body: JSON.stringify(body) } : { headers });
    } catch {
      throw new CairnError('network', path);
    }
    const s = r.status;
    if (s > 399 && !(raw && (s == 401 || s == 409))) throw new CairnError(s == 401 ? 'unauthorized' : 'http', path + ': ' + s, s);
    return r;
  };

  const submitOptin: PromptContext['submitOptin'] = (x) =>
    api('/v1/optins', { ...x, id: uuid(), site, deviceId: dev, at: Date.now(), touch: st.c || null }).then(noop);

  // Prompts run after each page view is recorded, once the DOM is ready and a config is there.
  let lastPage: PromptContext | undefined;
  const prompts = () => cfg && lastPage && startPrompts({ ...lastPage, identified: !!st.u, config: cfg }).catch(noop);

  const page = async (p: PageProps = {}) => {
    const at = Date.now();
    const session = act(at);
    const touch = st.c || null;
    // Synchronous once the DOM is there, so calls are recorded in the order they are made.
    if (doc.readyState == 'loading') await new Promise((r) => doc.addEventListener('DOMContentLoaded', r));
    const meta = (n: string) => doc.querySelector(`meta[name="cairn:${n}"]`)?.getAttribute('content');
    const pv: PageView = {
      id: uuid(),
      path: cut(p.path || loc.pathname, 2e3)!,
      title: cut(p.title ?? doc.title, 500) || '',
      at,
      session,
      product: cut(p.product || meta('product'), 100),
      category: cut(p.category || meta('category'), 100),
      device,
    };
    record({ ...pv, type: 'page' });
    const h = await kv.update<StoredHistory>(HISTORY_KEY, (old) => addPage(old, pv, touch));
    const pages = { session: h.s.find((s) => s.id == session)!.pages, lifetime: h.n };
    lastPage = { config: cfg!, doc, win: w, device, path: pv.path, touch, sessionId: session, pages, identified: false, kv, emit, submitOptin, onOptin: o.onOptin, returnUrl: o.returnUrl || loc.href };
    prompts();
  };

  /** GET /v1/profile with the device token, cached in the Kv so pages render from it at once and offline. */
  const pull = async () => {
    if (st.t) {
      const r = await api(`/v1/profile?site=${encodeURIComponent(site)}&deviceId=${dev}`).catch((e: CairnError) => {
        // The server no longer knows this token: forget it; the next collect gets a new one.
        if (e.status == 401) up((s) => delete s.t), kv.del('pf');
        throw e;
      });
      const j = await r.json();
      const pf = j?.profile || j;
      if (pf?.pageViews) await kv.set('pf', pf), fire('profile', pf);
    }
  };

  let reveal = noop;
  if (cfg) variants();
  // No config yet: hide the slots (300 ms at most) until the fetched one lands.
  else if (net()) reveal = hideSlots(doc, 300);

  /** Removes every trace of this device: cookie, storage, memory. */
  const wipe = () => (send.clear(), cookie.remove(), store.wipe());

  // Start: open storage and settle the device id (the Kv mirror brings back a cleared cookie).
  const ready = (async () => {
    if (consent == 'denied') await wipe();
    if (ok) {
      await store.grant();
      const mirror = !cookie.get() && !st.d && (await kv.get<string>('id'));
      if (mirror) dev = mirror;
      keepId();
    }
  })().catch(warn);

  let pulled: Promise<unknown> = ready;
  const sync = () => {
    pulled = ready.then(pull).catch(warn);
    ready.then(send.flush);
    if (!fixed && net())
      fetchConfig(server, site, ls)
        .then((c) => void (cfg || ((cfg = c), variants(), prompts())), warn)
        .finally(reveal);
  };
  sync();

  w.addEventListener('pagehide', send.beacon);
  doc.addEventListener('visibilitychange', () => doc.visibilityState == 'hidden' && send.beacon());

  // identify and reset run one at a time, so they never interleave.
  let chain: Promise<unknown> = ready;
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = chain.then(f);
    chain = p.catch(noop);
    return p;
  };

  /** A new anonymous device: what the old one had not sent goes first, then everything is wiped. */
  const restart = async () => {
    await send.flush();
    await wipe();
    dev = uuid();
    // Consent is not identity: an explicit grant survives.
    st = { v: 1, g: st.g };
    enter(st, null, Date.now());
    save();
    keepId();
    fire('reset', 0);
  };

  const identify = (userId: string, token: string) =>
    serial(async () => {
      if (!userId || !token) throw new CairnError('invalid', 'identify(userId, token)');
      load();
      const had = st.u == userId && (await kv.get<Profile>('pf'));
      if (had) return had;
      // A device linked to someone else (a shared computer) first becomes a new device.
      if (st.u && st.u != userId) await restart();
      await send.flush();
      const post = () => api('/v1/identify', { site, deviceId: dev, userId, token, device }, 1);
      let r = await post();
      // Linked to someone else on the server (409), or the server wants a device token this device
      // lost (401, not about the identity token): as a fresh device, then again.
      if (r.status == 409 || (r.status == 401 && (await r.clone().json().catch(noop))?.error != 'invalid_identity')) await restart(), (r = await post());
      if (r.status > 399) throw new CairnError(r.status == 401 ? 'unauthorized' : 'http', 'identify: ' + r.status, r.status);
      const j = await r.json();
      up((s) => ((s.u = userId), (s.t = j.deviceToken || s.t)));
      await kv.set('pf', j.profile);
      fire('identify', j.profile);
      return j.profile as Profile;
    });

  const setConsent = (s: Consent) => {
    if (s == consent || !valid(s)) return;
    consent = s;
    ok = s == 'granted';
    if (ok) {
      // What this page held in memory joins what earlier visits stored; the earliest first touch wins.
      const old = readState(ls);
      st = { ...old, ...st, f: old?.f || st.f, g: 1 };
      dev = cookie.get() || old?.d || dev;
      store.grant();
      save();
      keepId();
      sync();
    } else {
      store.stop(s == 'pending');
      if (s == 'denied') wipe().catch(warn);
    }
  };

  // Nothing throws into the page. Promises the host awaits for a value reject with a CairnError;
  // the others resolve anyway.
  const safe =
    <A extends unknown[], R>(f: (...a: A) => R, fb?: R) =>
    (...a: A): R => {
      try {
        return f(...a);
      } catch (e) {
        warn(e);
        return fb!;
      }
    };
  const safeP =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>, quiet?: 1) =>
    (...a: A): Promise<R> =>
      new Promise<R>((r) => r(f(...a))).catch((e) => {
        warn(e);
        if (!quiet) throw toError(e);
        return undefined as R;
      });

  return {
    page: safeP(page, 1),
    track: safe(emit),
    touch: safe(touches, touchesOf({ v: 1 })),
    history: safeP(async () => (await ready, toHistory(migrate(await kv.get(HISTORY_KEY)), await kv.get('pf')))),
    profile: safeP(async () => (await pulled, (await kv.get<Profile>('pf')) || null)),
    identify: safeP(identify),
    reset: safeP(() => serial(restart), 1),
    consent: safe(setConsent),
    on: safe((type: string, fn: (d: unknown) => void) => ((subs[type] ||= []).push(fn), () => void (subs[type] = subs[type]!.filter((f) => f != fn))), noop),
    flush: safeP(async () => void (await send.flush()), 1),
    ready,
  };
}
