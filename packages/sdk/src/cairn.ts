import { deviceKind } from './device-kind.js';
import { CairnError, guard, toError, warn } from './errors.js';
import { addPage, addTouch, migrate, toHistory, type StoredHistory } from './history/history.js';
import { lsGet, lsSet, parse } from './json.js';
import { PROMPTS_KEY, startPrompts } from './prompts/index.js';
import { enter, touchesOf, type SyncState } from './state/sync-state.js';
import { idCookie } from './storage/device-id.js';
import { createKv } from './storage/kv.js';
import { resolveTouch } from './touch/index.js';
import type { CairnEvent, Consent, Emit, History, PageView, Profile, PromptContext, SiteConfig, SiteConfigInput, Touches, CollectResponse, IdentifyResponse } from './types.js';
import { uuid } from './uuid.js';
import { hideSlots, startVariants } from './variants/index.js';

// The SDK core: decides the session and the touches synchronously at start, records page views and
// events, and wires storage, sync, identity, consent, variants and prompts together.
//
// On the device: the sync state in localStorage (`cairn`), the config cache (`cairn.cfg`), and in
// the Kv the history (`h`), the outbox (`o`), the device id mirror (`id`), the profile (`pf`)
// and the prompts' state (`prompts`).

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
  /** Where account prompts send the visitor back after login. Default: the current URL. */
  returnUrl?: string;
}

export interface PageProps {
  path?: string;
  title?: string;
  product?: string;
  category?: string;
}

/** What an `on` listener gets: the profile for `profile` and `identify`, nothing for `reset`, else the recorded event. */
export type CairnEventData<K extends string> = K extends 'profile' | 'identify' ? Profile : K extends 'reset' ? undefined : string extends K ? unknown : CairnEvent;

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
  on<K extends string>(event: K, fn: (data: CairnEventData<K>) => void): () => void;
  /** Sends the outbox now. */
  flush(): Promise<void>;
  /** Resolves once storage is open and the device id settled. Never rejects. */
  ready: Promise<void>;
}

/** The outbox (Kv key `o`): events in send order; `d` counts the oldest dropped because it was full. */
interface Outbox {
  e: CairnEvent[];
  d: number;
}

const noop = () => {};
const valid = (c: unknown) => (/^(granted|denied|pending)$/.test(c as string) ? (c as Consent) : undefined);
const cut = (s: unknown, n: number) => (s ? String(s).slice(0, n) : undefined);
/** Only an object counts as a config. */
const obj = (c: unknown) => (c?.constructor == Object ? (c as SiteConfig) : undefined);
/** The sync state, unless it is of another version. */
const readState = (): SyncState | undefined => {
  const s = lsGet('cairn');
  if (s?.v == 1) return s;
};

export function createCairn(o: CairnOptions = {}): Cairn {
  const doc = document;
  const loc = location;
  const nav = navigator;
  const site = o.site || '';
  const server = (o.server || '').replace(/\/+$/, '');
  /** The sync server is usable: there is one, a site, and consent. */
  const net = () => ok && server && site;
  const url = (p: string) => server + '/v1/' + p + '?site=' + encodeURIComponent(site);

  // The config: the option (or embedded), else inline #cairn-config, else the copy of an earlier
  // GET /v1/config (`{ s: site, c: config }`), refreshed in the background.
  let cfg = obj(o.config) || obj(parse(doc.getElementById('cairn-config')?.textContent));
  /** A config that came with the page needs no fetch. */
  const fixed = cfg;
  const cached = lsGet('cairn.cfg');
  cfg ||= obj(cached?.s == site && cached.c);

  // Consent: an explicit grant stored earlier, else GPC, else the option, the config, 'granted'.
  // The synchronous state: in memory, and with consent in localStorage, where other tabs write it
  // too. `load` takes their changes; a reset in another tab moves this one to the new device.
  let st: SyncState = readState() || { v: 1 };
  const cc = cfg?.consent;
  let consent: Consent = st.g
    ? 'granted'
    : (o.respectGpc ?? cc?.respectGpc ?? 1) && (nav as { globalPrivacyControl?: boolean }).globalPrivacyControl
      ? 'denied'
      : valid(o.consent) || valid(cc?.default) || 'granted';
  let ok = consent == 'granted';
  if (!ok) st = { v: 1 };

  const { kv, grant, stop, wipe: clear } = createKv(window);
  const cookie = idCookie(loc.protocol == 'https:', o.cookieDomain || undefined);
  ok ? grant() : stop(consent == 'pending');

  /** This tab's events not yet acknowledged nor beaconed. */
  let mine: CairnEvent[] = [];
  let dev = (ok && (st.d || st.n)) || '';
  // With a cookie domain, subdomains share the cookies but not their storage: the cookies carry
  // the token beside the id, and follow every change of either.
  const save = () => ok && (lsSet('cairn', st), o.cookieDomain && st.d && cookie.set(st.d, st.t));
  /**
   * The cookie names the device (cookies blocked: a new id each page). Another id there, this page
   * moves to it, with its token; the user stays with the id they were stored with. With a cookie
   * domain another subdomain moved it (a reset there, whose storage is its own): what this origin
   * held of the old device goes, as reset() wipes it where it runs.
   */
  const follow = () => {
    const c = ok && cookie.get();
    if (c) {
      if (c != dev) {
        if (o.cookieDomain && st.d) {
          for (const k of ['h', 'o', 'pf', PROMPTS_KEY]) kv.del(k).catch(warn);
          st = { v: 1, g: st.g };
        }
        (st.d = dev = c), delete st.t, delete st.u, delete st.k, (mine = []);
      }
      st.t ||= cookie.token();
    }
  };
  const load = () => {
    const s = ok && readState();
    if (s) {
      // Another tab's device, settled or just made (a reset there): this tab follows it.
      const id = s.d || s.n;
      if (id && id != dev) (dev = id), (mine = []);
      st = s;
    }
    if (o.cookieDomain) follow();
  };
  /** Changes the state on top of the latest stored one, so no tab's write is lost. */
  const up = (f: (s: SyncState) => unknown) => (load(), f(st), save());

  follow();
  /**
   * A new device id, with its own random token, which the server adopts: no answer needs to arrive.
   * Stored at once as unsettled (`n`), so that a tab starting before keepId settles it takes it too.
   */
  const newDevice = () => ((st.t = uuid()), (st.n = uuid()));
  dev ||= newDevice();
  /** Writes the id cookie, and mirrors the id when the cookie sticks (cookies blocked: memory only, nothing settled). */
  const keepId = () => ok && (load(), cookie.set(dev, st.t) ? (up((s) => ((s.d = dev), delete s.n)), kv.set('id', dev).catch(warn)) : up((s) => delete s.n));
  /** Moves this tab, and the stored state first (unsettled, so that `load` follows it), to a fresh anonymous device. */
  const renew = () => {
    dev = newDevice();
    delete st.u, delete st.k, delete st.d;
    save();
    keepId();
    // The old device's (maybe a user's merged) profile is not the fresh one's.
    kv.del('pf').catch(warn);
  };

  const arrived = enter(st, resolveTouch({ url: loc.href, referrer: doc.referrer, siteHosts: o.siteHosts || cfg?.siteHosts }), Date.now());
  save();
  const device = deviceKind(window, cfg?.desktopQuery);

  const subs: Record<string, ((d: unknown) => void)[]> = {};
  const fire = (type: string, d?: unknown) => [...(subs[type] || []), ...(subs['*'] || [])].map((f) => guard(f)(d));

  /**
   * Every request to the sync server: JSON, the device token as Bearer (the latest, maybe another
   * tab's). Resolves to the answer's JSON (undefined when it has none). Rejects with a CairnError:
   * `network` (status 0), or the HTTP status with the Response as `cause`.
   */
  const req = async <T>(p: string, body?: object | 0, q = ''): Promise<T> => {
    if (!net()) throw new CairnError(server ? 'consent' : 'no_server');
    const s = body ? JSON.stringify(body) : undefined;
    load();
    let r: Response;
    try {
      // keepalive lets a request finish after the page is gone, up to 64 KB: 2e4 UTF-16 units are
      // at most 6e4 bytes. The timeout keeps a hanging request from holding the send lock (and so
      // every tab's sending) forever.
      r = await fetch(url(p) + q, {
        method: s && 'POST',
        headers: { 'content-type': 'application/json', ...(st.t && { authorization: 'Bearer ' + st.t }) },
        body: s,
        keepalive: !s?.[2e4],
        signal: AbortSignal.timeout?.(3e4),
      });
    } catch (e) {
      throw new CairnError('network', 0, e);
    }
    const c = r.status;
    if (c > 399) throw new CairnError(c == 401 ? 'unauthorized' : 'http', c, r);
    return r.json().catch(noop);
  };

  // Delivery to POST /v1/collect. Every event is written to the outbox, shared by the tabs, before it
  // is sent, and leaves it only once the server acknowledged it (or refused it with a 4xx other than
  // 429, which would fail forever). One tab sends at a time (Web Locks); without Web Locks every tab
  // sends, and the server's dedupe by event id keeps that exact.
  let timer: ReturnType<typeof setTimeout> | 0 = 0;
  let fails = 0;
  let until = 0;
  let busy: Promise<unknown> | 0 = 0;
  const batch = (events: CairnEvent[]) => ({ site, deviceId: dev, events });
  const later = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => ((timer = until = 0), flush()), ms);
  };
  const run = async () => {
    let one = 0;
    let renewed = 0;
    // The device and its token as other tabs left them, before the batch is read: following
    // another tab's (or subdomain's) device may have emptied the outbox of the old one's events.
    for (let b; (load(), (b = ((await kv.get<Outbox>('o'))?.e || []).slice(0, one ? 1 : 20)))[0] && net(); ) {
      const d = dev;
      try {
        const tk = (await req<CollectResponse | undefined>('collect', batch(b)))?.deviceToken;
        // Only for the device the batch went to: another tab may have moved to a new one meanwhile.
        up((x) => dev == d && (x.t ||= tk) && (x.k = 1));
      } catch (e) {
        const { status: s, cause } = e as CairnError;
        if (!s || s > 499 || s == 429) {
          // Exponential backoff with jitter, or the server's Retry-After (seconds).
          const ms = +(cause as Response).headers?.get('retry-after')! * 1e3 || Math.min(6e4, 1e3 * 2 ** fails++) * (0.5 + Math.random());
          until = Date.now() + ms;
          return later(ms);
        }
        // The server holds another token for this device (restored without its own): what is unsent
        // goes to a fresh device rather than being refused batch after batch.
        if (s == 401 && dev == d && !renewed++) {
          renew();
          continue;
        }
        // One event the server refuses (400, 413) must not take the others down: one at a time.
        if (b[1] && (s == 400 || s == 413)) {
          one = 1;
          continue;
        }
        // Else it would fail forever: the batch is dropped.
        warn(e);
      }
      fails = 0;
      const left = (e: CairnEvent) => !b.some((x) => x.id == e.id);
      mine = mine.filter(left);
      await kv.update<Outbox | undefined>('o', (o) => o && { ...o, e: o.e.filter(left) });
    }
  };
  /** Sends what the outbox holds. Never rejects (a lock request only ever rejects its Promise). */
  const flush = async () => {
    const l = nav.locks;
    if (!busy && net() && Date.now() >= until)
      busy = (l ? l.request('cairn-send', { ifAvailable: true }, (x) => x && run()) : run()).catch(warn).finally(() => (busy = 0));
    await busy;
  };
  /** On page hide: this tab's unsent events by sendBeacon, only for a device the server already
   * holds the token of (a beacon cannot carry it: as the first request, it would have the server
   * make another) and not linked to a user (whose device must show it). A string goes as text/plain:
   * no CORS preflight. They stay in the outbox (the server dedupes). */
  const beacon = () => {
    if (net() && st.k && !st.u)
      for (let b; (b = mine.slice(0, 20))[0] && nav.sendBeacon?.(url('collect'), JSON.stringify(batch(b))); ) mine = mine.slice(20);
  };

  /** Activity at `at` (it may start a new session after 30 minutes idle); returns the session. */
  const act = (at: number) => (up((s) => enter(s, null, at)), st.s!);

  /** Records an event: to `on` listeners and, unless consent is denied, to the outbox. */
  const record = async (ev: CairnEvent) => {
    act(ev.at);
    fire(ev.type, ev);
    if (consent != 'denied') {
      // An opt-in's address goes to POST /v1/optins only, never with the events.
      if (ev.type == 'optin') (ev = { ...ev }), delete ev.email;
      mine.push(ev);
      const n = await kv.update<Outbox>('o', (o = { e: [], d: 0 }) => {
        const over = o.e.push(ev) - 500;
        if (over > 0) (o.d += over), o.e.splice(0, over);
        return o;
      });
      n.e[19] ? flush() : timer || later(2e3);
    }
  };

  const emit: Emit = (type, props) => {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(type)) throw new CairnError('invalid');
    // JSON drops what the server cannot take (functions, undefined); long strings are cut.
    record({ ...JSON.parse(JSON.stringify(props || {}, (_, v) => (typeof v == 'string' ? v.slice(0, 2e3) : v))), id: uuid(), type, at: Date.now() }).catch(warn);
  };

  // A new touch joins the journey, first of this page's events.
  if (arrived) emit('touch', { touch: arrived }), kv.update('h', (h) => addTouch(h, arrived)).catch(warn);

  const touches = () => (load(), touchesOf(st));
  const sticky = { get: () => (load(), st.x), set: (x: string | null) => up((s) => (s.x = x)) };
  const variants = () => startVariants({ config: cfg!, touches: touches(), device, url: new URL(loc.href), doc, sticky, emit });

  // Prompts run after each page view is recorded, once the DOM is ready and a config is there.
  let lastPage: Omit<PromptContext, 'config' | 'identified'> | undefined;
  const prompts = () => cfg && lastPage && startPrompts({ ...lastPage, identified: !!st.u, config: cfg });

  const page = async (p: PageProps = {}) => {
    const at = Date.now();
    const session = act(at);
    const touch = st.c || null;
    // Synchronous once the DOM is there, so calls are recorded in the order they are made.
    if (doc.readyState == 'loading') await new Promise((r) => doc.addEventListener('DOMContentLoaded', r));
    const meta = (n: 'product' | 'category') => cut(p[n] || doc.querySelector(`meta[name="cairn:${n}"]`)?.getAttribute('content'), 100);
    const pv: PageView = { id: uuid(), path: cut(p.path || loc.pathname, 2e3)!, title: cut(p.title ?? doc.title, 500) || '', at, session, product: meta('product'), category: meta('category'), device };
    record({ ...pv, type: 'page' }).catch(warn);
    const h = await kv.update<StoredHistory>('h', (old) => addPage(old, pv, touch, 1));
    // The session another tab started at the same instant, when addPage joined it: this tab's too.
    const sid = h.p[h.p.length - 1]!.session;
    if (sid != session) up((s) => s.s == session && (s.s = sid));
    lastPage = {
      doc,
      device,
      path: pv.path,
      touch,
      sessionId: sid,
      pages: { session: h.s.find((s) => s.id == sid)!.pages, lifetime: h.n },
      kv,
      emit,
      submitOptin: (x) => req('optins', { ...x, id: uuid(), site, deviceId: dev, at: Date.now(), touch }),
      returnUrl: o.returnUrl || loc.href,
    };
    prompts();
  };

  /** GET /v1/profile with the device token, cached in the Kv so pages render from it at once and offline. */
  const pull = async () => {
    const d = dev;
    if (st.k) {
      const pf = await req<Profile>('profile', 0, '&deviceId=' + d).catch((e: CairnError) => {
        // The server no longer knows this token: forget it; the next collect gets a new one.
        if (e.status == 401 && dev == d) up((s) => (delete s.t, delete s.k)), kv.del('pf');
        throw e;
      });
      // A logout, or another user on a shared computer, moved this page to a new device meanwhile:
      // this answer is the old one's profile.
      if (dev != d) return;
      await kv.set('pf', pf);
      fire('profile', pf);
    }
  };

  let reveal = noop;
  if (cfg) variants();
  // No config yet: hide the slots (300 ms at most) until the fetched one lands.
  else if (net()) reveal = hideSlots(doc);

  /** Removes every trace of this device: cookie, storage, memory. */
  const wipe = (keepState?: 1) => ((mine = []), cookie.remove(), clear(keepState));

  // Start: open storage and settle the device id (the Kv mirror brings back a cleared cookie).
  const ready = (async () => {
    if (consent == 'denied') await wipe();
    if (ok) {
      await grant();
      const mirror = !cookie.get() && !st.d && (await kv.get<string>('id'));
      // The mirror keeps the id only: the token made for a new id is not this one's.
      if (mirror) up((s) => ((dev = mirror), delete s.t, delete s.n));
      keepId();
    }
  })().catch(warn);

  let pulled: Promise<unknown> = ready;
  const sync = async () => {
    pulled = ready.then(pull).catch(warn);
    ready.then(flush);
    // GET /v1/config, kept for the next page. Its ETag is the browser's business: the HTTP cache
    // revalidates it (Cache-Control: max-age=60, then If-None-Match).
    if (!fixed && net())
      try {
        const r = await fetch(url('config'));
        const c = r.ok && obj(await r.json());
        if (!c) throw Error('config ' + r.status);
        ok && lsSet('cairn.cfg', { s: site, c });
        cfg || ((cfg = c), variants(), prompts());
      } catch (e) {
        warn(e);
      }
    reveal();
  };
  sync();

  addEventListener('pagehide', beacon);
  // A denial in another tab of this site: this one stops and forgets too.
  addEventListener('storage', (e) => e.key == 'cairn.denied' && e.newValue && guard(setConsent)('denied'));
  doc.addEventListener('visibilitychange', () => doc.visibilityState == 'hidden' && beacon());

  // identify and reset run one at a time, so they never interleave.
  let chain: Promise<unknown> = ready;
  const serial = <T>(f: () => Promise<T>): Promise<T> => (chain = chain.catch(noop).then(f)) as Promise<T>;

  /** A new anonymous device: what the old one had not sent goes first, then everything is wiped. */
  const restart = async () => {
    await flush();
    // The new device first, stored as unsettled before the old one is wiped: another tab that writes
    // meanwhile follows it (load) instead of writing the old device back. Consent is not identity:
    // an explicit grant survives.
    st = { v: 1, g: st.g };
    dev = newDevice();
    save();
    // Without consent nothing was saved here: the stored state is the old one, and goes too.
    await wipe(ok ? 1 : undefined);
    act(Date.now());
    keepId();
    fire('reset');
  };

  const identify = (userId: string, token: string) =>
    serial(async (): Promise<Profile> => {
      if (!userId || !token) throw new CairnError('invalid');
      load();
      const had = st.u == userId && (await kv.get<Profile>('pf'));
      if (had) return had;
      // A device linked to someone else (a shared computer) first becomes a new device.
      if (st.u && st.u != userId) await restart();
      await flush();
      let d = dev;
      const post = () => req<IdentifyResponse>('identify', { site, deviceId: (d = dev), userId, token, device });
      const j = await post().catch(async (e: CairnError) => {
        // Linked to someone else on the server (409), or the server wants a device token this
        // device lost (401, not about the identity token): as a fresh device, then again.
        if (e.status == 409 || (e.status == 401 && (await (e.cause as Response).json().catch(noop))?.error != 'invalid_identity')) return restart().then(post);
        throw e;
      });
      // A denial, or a logout in another tab, while it was on its way: the answer is for a device
      // this page no longer is, and nothing of it is kept.
      load();
      if (!ok || dev != d) return j.profile;
      up((s) => ((s.u = userId), (s.t = j.deviceToken || s.t), (s.k = 1)));
      await kv.set('pf', j.profile);
      fire('identify', j.profile);
      return j.profile;
    });

  const setConsent = (s: Consent) => {
    if (s == consent || !valid(s)) return;
    consent = s;
    ok = s == 'granted';
    if (ok) {
      // What this page held in memory joins what earlier visits stored; the earliest first touch
      // wins, and an earlier visit's device comes back with its token and user, unless the cookie
      // names another (follow).
      const old = readState();
      st = { ...old, ...st, f: old?.f || st.f, g: 1 };
      if (old?.d) ({ d: st.d, t: st.t, k: st.k, u: st.u } = old), (dev = old.d);
      follow();
      grant();
      save();
      keepId();
      sync();
    } else {
      stop(s == 'pending');
      // Denied: nothing of this visitor stays, in storage or in memory; a later grant is a new device.
      // The other tabs are told through a storage event (the key goes with the wipe), so that none
      // of them writes this visitor back.
      if (s == 'denied') (st = { v: 1 }), (dev = newDevice()), lsSet('cairn.denied', 1), wipe().catch(warn);
    }
  };

  /**
   * Nothing throws into the page: the boundary of every public method that could fail. A failure
   * is warned once per code; then a Promise the host awaits for a value rejects with a CairnError,
   * and the others (`quiet`) resolve anyway. touch() and on() cannot fail.
   */
  const safe =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>, quiet?: 1) =>
    (...a: A) =>
      f(...a).catch((e) => {
        warn(e);
        if (!quiet) throw toError(e);
      }) as Promise<R>;

  return {
    page: safe(page, 1),
    track: guard(emit),
    touch: touches,
    history: safe(async () => (await ready, toHistory(migrate(await kv.get('h')), await kv.get<Profile>('pf')))),
    profile: safe(async () => (await pulled, (await kv.get<Profile>('pf')) || null)),
    identify: safe(identify),
    reset: safe(() => serial(restart), 1),
    consent: guard(setConsent),
    on: (type: string, fn: (d: never) => void) => ((subs[type] ||= []).push(fn as (d: unknown) => void), () => void (subs[type] = subs[type]!.filter((f) => f != fn))),
    flush: safe(flush, 1),
    ready,
  };
}
