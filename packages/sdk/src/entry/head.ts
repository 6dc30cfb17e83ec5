// The script tag, the render-blocking part: <script src=".../cairn.js" data-site="shop" data-server="https://sync.shop.com">.
// It starts by itself from its own data-* attributes:
//   data-site, data-server, data-consent (granted|denied|pending), data-cookie-domain,
//   data-site-hosts (comma or space separated), data-respect-gpc="false", data-auto-page="false".
// Loaded from a sync server's /v1/sdk.js, the server defaults to that origin and the site to ?site=.
//
// It runs the head (src/head) before first paint and loads the core (src/entry/core.ts, a file named
// by its content hash, beside this one), which takes over after first paint. Until then
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
import { pageView } from '../core/page-view.js';
import { warn } from '../errors.js';
import { startHead } from '../head/start-head.js';
import { parse } from '../json.js';
import { deviceOf, overStored, readState, writeState } from '../state/device-state.js';
import { touchesOf } from '../state/session.js';
import { spill } from '../state/spill.js';
import type { Consent } from '../types.js';
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
  // The debug panel is the core's: its arguments wait for it.
  const head = startHead(options, (...args) => (stub._showDebug ? stub._showDebug(...args) : (stub._debug = args)));
  const holding = head._record;
  const stub: Stub = (w.cairn = createStub(queue, head, () => touchesOf(head._state), autoPage));

  // The visitor leaves before the core took over: what the head held is stored (the sync state, and
  // the events spilled for the next page) and sent by beacon, with the device token in its body.
  const leave = () => {
    if (head._record != holding || head._consent != 'granted') return;
    const state = overStored(readState(), head._state);
    deviceOf(state) || ((state._token = uuid()), (state._newDeviceId = uuid()));
    writeState(state);
    head._state = state;
    const events = head._held.splice(0);
    if (autoPage && !stub._left)
      events.push({ ...pageView(doc, {}, head._pageId, head._at, state._sessionId!, head._deviceKind), type: 'page' });
    stub._left = 1;
    spill(events);
    const server = serverOf(options);
    if (server && head._site && events[0])
      navigator.sendBeacon?.(
        apiUrl(server, head._site, 'collect'),
        JSON.stringify({ site: head._site, deviceId: deviceOf(state), deviceToken: state._token, events }),
      );
  };
  addEventListener('pagehide', leave);
  doc.addEventListener('visibilitychange', () => doc.visibilityState == 'hidden' && leave());

  // The core, from beside this script (the sync server serves both), asynchronously. An inline
  // head with no server has nowhere to load it from: the page brings it.
  const base = src || (options.server && serverOf(options) + '/v1/');
  if (base) {
    const core = doc.createElement('script');
    core.src = new URL(CORE_FILE, base).href;
    core.async = true;
    core.nonce = script?.nonce || '';
    doc.head.append(core);
  }
} catch (e) {
  warn(e);
}
