import { lsGet, lsSet, parse } from '../json';
import type { SiteConfig } from '../types';

// Where the site config comes from, in order: embedded in the script by the server's /v1/sdk.js
// (script.ts), the `config` option, an inline <script type="application/json" id="cairn-config">,
// else the copy cached in localStorage from an earlier GET /v1/config (refreshed in the background
// with If-None-Match). Configs are not validated here: their consumers read them defensively.

const CACHE = 'cairn.cfg';

/** Only an object counts as a config. */
const obj = (c: any): SiteConfig | undefined => (c?.constructor == Object ? c : undefined);

/** A config from JSON text; undefined when it is not one. */
export const parseConfig = (s: string | null | undefined) => obj(parse(s));

export const inlineConfig = (doc: Document) => parseConfig(doc.getElementById('cairn-config')?.textContent);

/** The cached `{ s: site, e: etag, c: config }`, for this site only. */
const cached = (l: Storage | undefined, site: string): { e?: string; c: SiteConfig } | undefined => {
  const c = lsGet(l, CACHE);
  if (c?.s == site && obj(c.c)) return c;
};

export const cachedConfig = (l: Storage | undefined, site: string) => cached(l, site)?.c;

/** GET /v1/config: the fresh config (the cached one on 304), cached with its ETag. */
export async function fetchConfig(server: string, site: string, l: Storage | undefined): Promise<SiteConfig> {
  const old = cached(l, site);
  const r = await fetch(server + '/v1/config?site=' + encodeURIComponent(site), { headers: old?.e ? { 'if-none-match': old.e } : {} });
  if (r.status == 304 && old) return old.c;
  const c = r.ok && obj(await r.json());
  if (!c) throw Error('config: ' + r.status);
  lsSet(l, CACHE, { s: site, e: r.headers.get('etag'), c });
  return c;
}
