// The script tag: <script src=".../cairn.js" data-site="shop" data-server="https://sync.shop.com">.
// It starts by itself from its own data-* attributes:
//   data-site, data-server, data-consent (granted|denied|pending), data-cookie-domain,
//   data-site-hosts (comma or space separated), data-respect-gpc="false", data-auto-page="false".
// Loaded from a sync server's /v1/sdk.js, the server defaults to that origin and the site to ?site=.
//
// Calls made before it loads are queued and replayed in order. Either snippet works:
//   window.cairn = window.cairn || []; cairn.push(['page', { product: 'SKU-1' }]);
// or, to call methods by name before the script is there (the stub pushes onto the same queue):
//   window.cairn = window.cairn || [];
//   ['page','track','identify','reset','consent','on'].forEach(function (m) {
//     cairn[m] = cairn[m] || function () { cairn.push([m].concat([].slice.call(arguments))); };
//   });
// A page view is recorded by itself unless the queue already holds a `page` call or
// data-auto-page="false". Afterwards `window.cairn` is the API, and `cairn.push([...])` still works.
import { createCairn, type Cairn } from './cairn.js';
import { warn } from './errors.js';
import { parse } from './json.js';
import type { Consent } from './types.js';

type Call = [keyof Cairn, ...unknown[]];

// /v1/sdk.js replaces this literal, quotes included, with the site config JSON as a JS string
// literal, e.g. "{\"site\":\"shop\"}". Unreplaced, it is not JSON and there is no embedded config.
const EMBEDDED = '__CAIRN_EMBEDDED_CONFIG__';

try {
  const w = window as Window & { cairn?: unknown };
  const d = document;
  const s = (d.currentScript || d.querySelector('script[data-site]')) as HTMLScriptElement | null;
  const a = (n: string) => s?.getAttribute('data-' + n);
  const src = s?.src ? new URL(s.src) : undefined;
  const q = w.cairn as Call[] | { q?: Call[] } | undefined;
  const queue: Call[] = (Array.isArray(q) ? q : q?.q) || [];
  const api = createCairn({
    site: a('site') || src?.searchParams.get('site'),
    server: a('server') || (src && /\/v1\/sdk\.js$/.test(src.pathname) ? src.origin : null),
    consent: a('consent') as Consent | null,
    cookieDomain: a('cookie-domain'),
    siteHosts: a('site-hosts')?.split(/[\s,]+/).filter(Boolean),
    respectGpc: a('respect-gpc') != 'false' && null,
    config: parse(EMBEDDED),
  });
  const call = (c: Call) => {
    try {
      // A queued call has no caller to take its rejection (identify offline, say): warned, not thrown.
      (api[c[0]] as (...x: unknown[]) => { catch?: (f: typeof warn) => unknown } | undefined)(...c.slice(1))?.catch?.(warn);
    } catch (e) {
      warn(e);
    }
  };
  w.cairn = { ...api, push: (...c: Call[]) => c.forEach(call) };
  queue.forEach(call);
  if (a('auto-page') != 'false' && !queue.some((c) => c?.[0] == 'page')) api.page();
} catch (e) {
  warn(e);
}
