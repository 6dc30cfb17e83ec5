import { DENIED_KEY, changeConsent } from './consent-change.js';
import { asConfig, CONFIG_KEY, inlineConfig } from './config.js';
import type { Core } from './context.js';
import { createDevice } from './device.js';
import { createEmitter, customEvent } from './events.js';
import { createIdentity } from './identity.js';
import { serverOf } from './options.js';
import { createOutbox } from './outbox.js';
import { pageView, type PageProps } from './page-view.js';
import { pullProfile } from './profile.js';
import { recover, recoverable } from './recover.js';
import { keepTraits } from './traits.js';
import { createTransport } from './transport.js';
import { guard, toError, warn } from '../errors.js';
import type { Head } from '../head/start-head.js';
import { addPage, addTouch, migrate, toHistory, type StoredHistory } from '../history/history.js';
import { lsGet, lsSet } from '../json.js';
import { decidePrompt, type PromptUi } from '../prompts/decide.js';
import { deviceOf, readState } from '../state/device-state.js';
import { enter, touchesOf } from '../state/session.js';
import { spilled, unspill, WIPE_KEY } from '../state/spill.js';
import { idCookie } from '../storage/device-id.js';
import { createKv } from '../storage/kv.js';
import { adoptArms, heldOut } from '../variants/holdout.js';
import type { Cairn } from '../cairn.js';
import type { CairnEvent, Consent, PageView, Profile, PromptContext, Touch } from '../types.js';
import { onReady } from '../util/dom.js';
import { uuid } from '../uuid.js';

// The core: takes over from the head (src/head), which decided the session, the touch and the
// variant before first paint. It stores and sends what the head held, and runs everything that may
// wait: storage, sync, identity, consent, prompts and the profile.
//
// On the device: the sync state in localStorage (`cairn`, src/state/device-state.ts), the config
// cache (`cairn.cfg`), the spill (`cairn.spill`), and in the Kv the history (`h`), the outbox (`o`),
// the device id mirror (`id`), the profile and its ETag (`pf`, `pe`) and the prompts' state (`prompts`).
// The identified person's CRM traits that the config names go in the sync state too, for the head.

/** The automatic page view of the script tag: its id and time come from the head. */
export type AutoPage = (props?: PageProps) => Promise<void>;

/**
 * Takes over from the head: stores and sends what it held, and runs the rest. `promptUi` has the
 * prompts' UI: at hand in the ESM build, asked for when first needed by the script tag's core
 * (src/prompts/load.ts).
 */
export function startCore(head: Head, promptUi: PromptUi): Cairn & { _autoPage: AutoPage } {
  const options = head._options;
  const doc = document;
  const site = head._site;
  const server = serverOf(options);
  let config = head._config;
  const deviceKind = head._deviceKind;

  const storage = createKv(window);
  const kv = storage.kv;
  const cookie = idCookie(location.protocol == 'https:', options.cookieDomain || undefined);
  // Another tab denied between this page's head and now: the state and the cookie the head saw are
  // gone (a reset would have stored a new device). Nothing of this visitor is written back, nor kept
  // in this page for a later grant.
  // (A device id the head made for a new visitor was never stored.)
  if (head._consent == 'granted' && !head._made && deviceOf(head._state) && !readState() && !cookie.get())
    (head._consent = 'denied'), enter((head._state = {}), null, Date.now());
  // The parts are made below, each with what it needs of the others.
  const core = {
    _site: site,
    _consent: head._consent,
    _storage: storage,
    _kv: kv,
    _cookie: cookie,
    _deviceKind: deviceKind,
  } as Core;
  const granted = (core._granted = () => core._consent == 'granted');
  const emitter = (core._emitter = createEmitter());
  const device = (core._device = createDevice({
    _state: head._state,
    _granted: granted,
    _cookie: cookie,
    _cookieDomain: options.cookieDomain,
    _kv: kv,
    // At construction there is no outbox yet, and nothing unsent.
    _moved: () => core._outbox?._forget(),
  }));
  const transport = (core._transport = createTransport(
    server,
    site,
    device,
    granted,
    () => config?.identity?.serverCookie,
  ));
  const outbox = (core._outbox = createOutbox(site, kv, device, transport));
  core._act = (at) => device._update((state) => enter(state, null, at));
  core._sync = () => sync();
  core._wipe = (keepState) => (outbox._forget(), cookie.remove(), storage.wipe(keepState));
  granted() ? storage.grant() : storage.stop(core._consent == 'pending');
  // What the head decided, stored now (after first paint).
  device._save();

  /** Records an event: to `on` listeners and, unless consent is denied, to the outbox (touches and page views to the history too). */
  const record = (event: CairnEvent) => {
    core._act(event.at);
    emitter._fire(event.type, event);
    if (core._consent == 'denied') return;
    // An opt-in's address goes to POST /v1/optins only, never with the events.
    if (event.type == 'optin') (event = { ...event }), delete event.email;
    if (event.type == 'touch') kv.update('h', (history) => addTouch(history, event.touch as Touch)).catch(warn);
    outbox._add([event]).then(outbox._soon, warn);
  };
  const emit = (type: string, props?: Record<string, unknown>) => record(customEvent(type, props));

  // What earlier pages of this device spilled at page hide joins the outbox and the history (ids
  // dedupe), then the head's held events are recorded, all in the start's one storage batch. Another
  // device's spill (a logout since) is not this one's: it goes.
  if (granted()) {
    // A page left with a denial or a logout queued: its state and cookies went then, the rest now,
    // before anything of this page is stored.
    if (lsGet(WIPE_KEY)) storage.wipe(1).catch(warn);
    const earlier = spilled();
    const events = earlier._device == device._id ? earlier._events : [];
    if (events[0]) {
      outbox._add(events).then(() => unspill(events), warn);
      kv.update<StoredHistory>('h', (stored) => {
        let history = migrate(stored);
        // A page view's session starts with the touch spilled before it (the landing's).
        let touch: Touch | null = null;
        for (const event of events)
          if (event.type == 'page') history = addPage(history, event as unknown as PageView, touch);
          else if (event.type == 'touch') {
            touch = event.touch as Touch;
            if (!history.t.some((t) => t.at == touch!.at)) history = addTouch(history, touch);
          }
        return history;
      }).catch(warn);
    } else if (earlier._events[0]) unspill(earlier._events);
  }
  head._record = record;
  head._held.splice(0).forEach(record);

  const touches = () => (device._load(), touchesOf(device._state));
  /** A holdout's arm, decided on the latest stored state; none before consent (src/variants/holdout.ts). */
  const held = (key: string, share: number) => {
    if (!granted()) return null;
    let arm = false;
    device._update((state) => (arm = heldOut(state, device._id, key, share)));
    return arm;
  };
  // A linked person keeps the arms of their first exposure, whichever device it was on, and the
  // device the traits the config names.
  const adopt = (profile: unknown) =>
    device._update((state) => (adoptArms(state, profile as Profile), keepTraits(state, profile as Profile, config)));
  emitter._on('identify', adopt);
  emitter._on('profile', adopt);
  const sticky = {
    get: () => (device._load(), device._state._variant),
    set: (id: string | null) => device._update((state) => (state._variant = id)),
    _heldOut: held,
  };
  const variants = () => config && head._variants(config, touches(), sticky, device._state._traits);

  // Prompts run after each page view is recorded, once the DOM is ready and a config is there.
  let lastPage: Omit<PromptContext, 'config' | 'identified'> | undefined;
  let promptState: Promise<unknown> | undefined;
  const prompts = () => {
    const view = lastPage;
    if (config && view)
      decidePrompt(
        { ...view, identified: !!device._state._userId, config, _current: () => lastPage == view },
        promptState,
        promptUi,
      );
  };

  const page = async (props: PageProps = {}, id = uuid(), at = Date.now()) => {
    core._act(at);
    const session = device._state._sessionId!;
    const touch = device._state._sessionTouch || null;
    // Recorded at once, never after DOMContentLoaded: a visitor may leave before it, and the page
    // view would be lost. The core runs after first paint, when <head> (title, cairn: meta tags) is
    // parsed; calls are recorded in the order they are made.
    const view = pageView(doc, props, id, at, session, deviceKind);
    record({ ...view, type: 'page' });
    // Read in the same storage batch as the history update: no transaction of its own.
    promptState = kv.get('prompts');
    promptState.catch(() => {});
    const history = await kv.update<StoredHistory>('h', (old) => addPage(old, view, touch, 1));
    // The session another tab started at the same instant, when addPage joined it: this tab's too.
    const joined = history.p.find((p) => p.id == view.id)?.session || session;
    if (joined != session) device._update((state) => state._sessionId == session && (state._sessionId = joined));
    lastPage = {
      doc,
      device: deviceKind,
      path: view.path,
      touch,
      sessionId: joined,
      pages: { session: history.s.find((s) => s.id == joined)!.pages, lifetime: history.n },
      kv,
      emit,
      submitOptin: (optin) =>
        transport._request('optins', { ...optin, id: uuid(), site, deviceId: device._id, at: Date.now(), touch }),
      returnUrl: options.returnUrl || location.href,
      _heldOut: held,
      _traits: (want) => !head._traitsWhy(want, device._state._traits),
    };
    // A prompt needs the document parsed (its inline anchor, <main>).
    onReady(doc, prompts);
  };

  // Start: settle the device id. The Kv mirror brings back a cleared cookie. The cookie is written
  // first, as whether it sticks decides whether the id is mirrored (cookies blocked: memory only);
  // the mirror is read and written in one update, in the start's storage batch.
  core._ready = (async () => {
    if (core._consent == 'denied') await core._wipe();
    if (granted()) {
      const known = cookie.get() || device._state._deviceId;
      const sticks = cookie.set(device._id, device._state._token);
      let mirrored: string | undefined;
      await kv.update<string | undefined>('id', (stored) => {
        mirrored = (!known && stored) || undefined;
        return (device._mirrored = mirrored || (sticks ? device._id : stored));
      });
      // The mirror keeps the id only: the token made for a new id is not this one's.
      if (mirrored)
        device._update((state) => ((device._id = mirrored!), (state._token = state._newDeviceId = undefined)));
      device._keepId();
      // Nothing of this visitor was stored (a first visit, or storage wiped): the server-set cookie
      // may know them. Before anything is sent for the device the head made.
      if (head._made && !mirrored && transport._usable() && recoverable(config)) await recover(core);
    }
  })().catch(warn);

  let pulled: Promise<unknown> = core._ready;
  const sync = async () => {
    pulled = core._ready
      .then(() => pullProfile(kv, device, transport, options.cookieDomain))
      .then((profile) => profile && emitter._fire('profile', profile))
      .catch(warn);
    core._ready.then(outbox._flush);
    // GET /v1/config, kept for the next page. Its ETag is the browser's business: the HTTP cache
    // revalidates it (Cache-Control: max-age=60, then If-None-Match).
    if (!head._configWithPage && transport._usable())
      try {
        const response = await fetch(transport._url('config'));
        const fetched = response.ok && asConfig(await response.json());
        if (!fetched) throw Error('config ' + response.status);
        if (granted()) lsSet(CONFIG_KEY, { s: site, c: fetched });
        if (!config) (config = fetched), variants(), onReady(doc, prompts);
      } catch (e) {
        warn(e);
      }
    head._reveal();
  };
  sync();

  // The inline config must come before the script tag: found only now, it was not seen at start.
  if (!head._configWithPage) onReady(doc, () => lateConfig(doc));

  addEventListener('pagehide', outbox._pageHide);
  doc.addEventListener('visibilitychange', () => doc.visibilityState == 'hidden' && outbox._pageHide());
  // A denial in another tab of the site: this one stops and forgets too.
  addEventListener('storage', (e) => e.key == DENIED_KEY && e.newValue && guard(changeConsent)(core, 'denied', 1));

  const identity = createIdentity(core);

  /**
   * Nothing throws into the page: the boundary of every public method that could fail. A failure
   * is warned once per code; then a Promise the host awaits for a value rejects with a CairnError,
   * and the others (`quiet`) resolve anyway. touch() and on() cannot fail.
   */
  const safe =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>, quiet?: 1) =>
    (...args: A) =>
      f(...args).catch((e) => {
        warn(e);
        if (!quiet) throw toError(e);
      }) as Promise<R>;

  return {
    page: safe((props?: PageProps) => page(props), 1),
    _autoPage: safe((props?: PageProps) => page(props, head._pageId, head._at), 1),
    track: guard(emit),
    touch: touches,
    history: safe(async () => {
      await core._ready;
      const [history, profile] = await Promise.all([kv.get('h'), kv.get<Profile>('pf')]);
      return toHistory(migrate(history), profile);
    }),
    // A device never identified (nor sharing a cookie domain) holds no profile: nothing to read.
    profile: safe(async () => {
      await pulled;
      device._load();
      return device._state._userId || options.cookieDomain ? (await kv.get<Profile>('pf')) || null : null;
    }),
    identify: safe(identity._identify),
    reset: safe(identity._reset, 1),
    consent: guard((consent: Consent) => changeConsent(core, consent)),
    on: (type: string, listener: (data: never) => void) => emitter._on(type, listener as (data: unknown) => void),
    flush: safe(outbox._flush, 1),
    ready: core._ready,
  };
}

let warnedLate = 0;
/** Warns once: an inline config that comes after the script tag is never seen at start, and no variant applies from it. */
const lateConfig = (doc: Document) => {
  if (!warnedLate && inlineConfig(doc))
    (warnedLate = 1),
      console.warn(
        '[cairn] #cairn-config comes after the Cairn script tag, which cannot see it at start: put the config first.',
      );
};
