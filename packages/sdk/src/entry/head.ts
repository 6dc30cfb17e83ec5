// The script tag, the render-blocking part: <script src=".../cairn.js" data-site="shop" data-server="https://sync.shop.com">.
// It starts by itself from its own data-* attributes:
//   data-site, data-server, data-consent (granted|denied|pending), data-cookie-domain,
//   data-site-hosts (comma or space separated), data-respect-gpc="false", data-auto-page="false".
// Loaded from a sync server's /v1/sdk.js, the server defaults to that origin and the site to ?site=.
//
// It runs the head (src/head) before first paint and loads the core (src/entry/core.ts, a file named
// by its content hash, beside this one, asked for after first paint unless the slots wait for a
// config), which takes over after first paint. Until then
// `window.cairn` is a stub that queues calls (src/entry/stub.ts); if the visitor leaves first, the
// head stores and beacons what it held, so nothing is lost.
//
// Calls made before it loads are queued and replayed in order. Either snippet works:
//   window.cairn = window.cairn || []; cairn.push(['page', { product: 'SKU-1' }]);
// or, to call methods by name before the script is there (the stub pushes onto the same queue):
//   window.cairn = window.cairn || [];
//   ['page','track','identify','reset','consent','on'].forEach(function (m) {
//     cairn[m] = cairn[m] || function () { cairn.push([m].concat([].slice.call(arguments))); };
//   });
// A page view is recorded by itself unless the queue already holds a `page` call or
// data-auto-page="false".
import { apiUrl, serverOf, type CairnOptions } from '../core/options.js';
import { validConsent } from '../core/consent.js';
import { DENIED_KEY } from '../core/consent-change.js';
import { customEvent } from '../core/events.js';
import { pageView, type PageProps } from '../core/page-view.js';
import { COOKIE, idCookie, readCookie, TOKEN_COOKIE } from '../storage/device-id.js';
import { CairnError, guard, warn } from '../errors.js';
import { startHead } from '../head/start-head.js';
import { lsRemove, lsSet, parse } from '../json.js';
import { deviceOf, newDevice, overStored, readState, STATE_KEY, writeState } from '../state/device-state.js';
import { enter, touchesOf } from '../state/session.js';
import { SPILL_KEY, spill, WIPE_KEY } from '../state/spill.js';
import type { Consent } from '../types.js';
import { afterPaint } from '../util/dom.js';
import { uuid } from '../uuid.js';
import { createStub, type Call, type Stub } from './stub.js';

// /v1/sdk.js replaces this literal, quotes included, with the site config JSON as a JS string
// literal, e.g. "{\"site\":\"shop\"}". Unreplaced, it is not JSON and there is no embedded config.
const EMBEDDED = '__CAIRN_EMBEDDED_CONFIG__';
// The build replaces this literal with the core's file name, e.g. cairn-core.0123abcd.js.
const CORE_FILE = '__CAIRN_CORE_FILE__';

try {
  const w = window as Window & { cairn?: unknown };
  const doc = document;
  const script = (doc.currentScript || doc.querySelector('script[data-site]')) as HTMLScriptElement | null;
  const attribute = (name: string) => script?.getAttribute('data-' + name);
  const src = script?.src ? new URL(script.src) : undefined;
  const queued = w.cairn as Call[] | { q?: Call[] } | undefined;
  const queue: Call[] = (Array.isArray(queued) ? queued : queued?.q) || [];
  const options: CairnOptions = {
    site: attribute('site') || src?.searchParams.get('site'),
    server: attribute('server') || (src && /\/v1\/sdk\.js$/.test(src.pathname) ? src.origin : null),
    consent: attribute('consent') as Consent | null,
    cookieDomain: attribute('cookie-domain'),
    siteHosts: attribute('site-hosts')
      ?.split(/[\s,]+/)
      .filter(Boolean),
    respectGpc: attribute('respect-gpc') != 'false' && null,
    config: parse(EMBEDDED),
  };
  const autoPage = attribute('auto-page') != 'false' && !queue.some((call) => call?.[0] == 'page');
  // The debug panel is the core's: its arguments wait for it (on a parsed page they come before the
  // stub exists).
  let early: Stub['_debug'];
  const head = startHead(options, (...args) =>
    stub ? (stub._showDebug ? stub._showDebug(...args) : (stub._debug = args)) : (early = args),
  );
  const holding = head._record;
  const stub: Stub | undefined = (w.cairn = createStub(queue, head, () => touchesOf(head._state), autoPage));
  stub._debug = early;

  /** The server may know the device this page has now: an earlier page kept it, or this one sent it. */
  let told: unknown;
  /** Nothing of the visitor stays in this page: a later hide, or the core, starts a new device, in a session of its own. */
  const forgetHere = () => {
    told = 0;
    enter((head._state = {}), null, Date.now());
  };
  // A denial in another tab before this one's core runs: nothing of this visitor is stored here, nor
  // kept in this page for a later grant (a page that started without consent holds only its own).
  addEventListener(
    'storage',
    (e) =>
      e.key == DENIED_KEY && e.newValue && (head._consent == 'granted' && forgetHere(), (head._consent = 'denied')),
  );

  // The visitor leaves before the core took over. The calls queued meanwhile are the visitor's too,
  // in order: a denial or a logout there is their last word, so nothing is kept and the next page
  // wipes what storage still holds (WIPE_KEY). Otherwise what the head held, the calls' events and
  // the page view are stored (the sync state, and the events spilled for the next page) and sent by
  // beacon, with the device token in its body. Calls handled here are emptied: the core skips them.
  // Removals, and the refusal, which is never Secure-only: no https flag needed.
  const cookies = idCookie(false, options.cookieDomain || undefined);
  const leave = () => {
    if (head._record != holding) return;
    /** What a queued consent call said last: the visitor's word, which outlasts the page. */
    let said: Consent | undefined;
    for (const call of queue)
      try {
        if (call?.[0] == 'consent') said = validConsent(call[1]) || said;
      } catch {}
    const consent = said || head._consent;
    // A denial leaves the refusal's cookie, a grant lifts it (as cairn.consent does in the core).
    if (said && said != 'pending') cookies._refuse(said == 'denied');
    // Pending, or denied from the start (the core would have wiped): nothing to store, send or wipe,
    // and nothing taken from the core, which a page hidden and shown again still starts (a later
    // grant keeps what it holds).
    if (consent == 'pending' || (consent == 'denied' && head._consent == 'denied')) return;
    const earlier = readState();
    told ??= !head._made || (earlier && deviceOf(earlier));
    let forget = 0;
    const events = head._held.splice(0);
    if (autoPage && !stub._left)
      events.push({
        ...pageView(doc, {}, head._pageId, head._at, head._state._sessionId!, head._deviceKind),
        type: 'page',
      });
    stub._left = 1;
    // Every call obeyed here is emptied, so that a core that starts later in this page (the tab
    // shown again) does not do it twice: the events, the consent calls, the first logout. What comes
    // after a logout stays queued: a later hide, or the core, records it for the new device.
    for (const call of queue)
      try {
        // Anything may have been pushed (cairn.push(5)): a call that is no array is skipped here.
        const [name, first, second] = call || [];
        // A login before a logout or a denial this page obeys is undone by it: the core must not
        // replay it for the new device.
        if (name == 'identify' && !forget && (consent != 'granted' || queue.some((c) => c?.[0] == 'reset'))) {
          call.length = 0;
          call._settle?.[1](new CairnError('consent'));
          continue;
        }
        if (name != 'consent' && (forget || !/^(track|page|reset)$/.test(name as string))) continue;
        if (name == 'reset') forget = 1;
        else if (name != 'consent')
          events.push(
            name == 'track'
              ? customEvent(first as string, second as Record<string, unknown>)
              : {
                  ...pageView(
                    doc,
                    (first || {}) as PageProps,
                    uuid(),
                    Date.now(),
                    head._state._sessionId!,
                    head._deviceKind,
                  ),
                  type: 'page',
                },
          );
        call.length = 0;
        call._settle?.[0](undefined);
      } catch {}
    let state = overStored(earlier, head._state);
    // With a cookie domain the cookie names the device (another subdomain may have moved it).
    const cookieId = options.cookieDomain && readCookie(COOKIE);
    if (cookieId && cookieId != deviceOf(state))
      state = {
        ...head._state,
        _deviceId: cookieId,
        _newDeviceId: undefined,
        _token: readCookie(TOKEN_COOKIE),
        _userId: undefined,
        _tokenKnown: undefined,
        _traits: undefined,
      };
    deviceOf(state) || newDevice(state);
    const device = deviceOf(state);
    const server = serverOf(options);
    const send = (path: string, body: object) => {
      try {
        return (
          server &&
          head._site &&
          navigator.sendBeacon?.(
            apiUrl(server, head._site, path),
            JSON.stringify({ site: head._site, deviceId: device, deviceToken: state._token, ...body }),
          )
        );
      } catch {}
    };
    // A denial keeps nothing; what was done before a logout is the old device's.
    if (consent == 'granted' && events[0] && send('collect', { events })) told = 1;
    told ||= cookieId;
    // A denial after a grant, or a logout, of a device the server may know: it hears it, as from the
    // core (a logout, with reason 'denied' for a denial), and revokes the token, so that its
    // server-set cookie recovers nothing on the next page. (After the events: should the server
    // take the logout first, it refuses them.)
    if (told && (consent == 'denied' ? head._consent == 'granted' : forget))
      send('logout', consent == 'denied' ? { reason: 'denied' } : {});
    head._consent = consent;
    if (consent != 'granted' || forget) {
      // Denied, or logged out: the visitor's state, spill and cookies go now, the rest at the next page.
      for (const key of [STATE_KEY, SPILL_KEY]) lsRemove(key);
      cookies.remove();
      lsSet(WIPE_KEY, 1);
      forgetHere();
      // Other tabs hear of a denial, as from the core: the storage event is the message (a value of
      // its own, so that it fires, and the key goes at once).
      if (consent != 'granted') lsSet(DENIED_KEY, Date.now()), lsRemove(DENIED_KEY);
      else {
        // A logout moves to a new device at once, stored unsettled, as the core's reset does: other
        // tabs follow it instead of writing the old one back. An explicit grant outlasts it.
        const fresh = head._state;
        newDevice(fresh);
        if (state._granted || said) fresh._granted = 1;
        writeState(fresh);
        // Not stored (storage refused): the core makes its own, rather than take one no tab knows
        // for another tab's denial.
        readState() || (fresh._token = fresh._newDeviceId = undefined);
      }
      return;
    }
    // A grant queued here is the visitor's word, kept for the next pages as the core keeps it.
    if (said) state._granted = 1;
    writeState(state);
    head._state = state;
    spill(device!, events);
  };
  addEventListener('pagehide', guard(leave));
  doc.addEventListener(
    'visibilitychange',
    guard(() => doc.visibilityState == 'hidden' && leave()),
  );
  // The core, from beside this script (the sync server serves both), asynchronously. An inline
  // head with no server has nowhere to load it from: the page brings it. It is asked for after
  // first paint, where it runs: starting the request was a tenth of the head's time before first
  // paint (V8's sampling profiler, 4× CPU), which the first paint need not wait for. At once,
  // though, when the head hid the slots for want of a config (consent granted, no config): they stay
  // hidden, 300 ms at most, until the core has fetched one.
  const base = src || (options.server && serverOf(options) + '/v1/');
  // Blocked (CSP, an ad blocker, offline) or nowhere to ask (a server that is no URL): calls must
  // not wait forever. `ready` resolves, and every call made through the stub, now or later, rejects.
  const fail = () => stub._fail(new CairnError('network'));
  const load = () => {
    try {
      const core = doc.createElement('script');
      core.src = new URL(CORE_FILE, base!).href;
      core.async = true;
      core.nonce = script?.nonce || '';
      core.onerror = fail;
      doc.head.append(core);
      stub._coreTag = core;
    } catch (e) {
      warn(e);
      fail();
    }
  };
  if (base) head._config || head._consent != 'granted' ? afterPaint(load) : load();
} catch (e) {
  warn(e);
}
