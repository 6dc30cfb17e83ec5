// The pages the browser sections load: copies of the demo storefront's home page that differ only in
// the script they carry. Each copy has its own origin (so every one is served at "/" with the same
// URL), and every other path (CSS, images, the shop's own scripts) is fetched once from the real
// storefront and then served from memory, so the storefront's speed is not part of the measurement.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { NODE_MODULES } from './paths.mjs';
import { loadServer } from './cairn.mjs';
import { tmpDir } from './tmp.mjs';

export const SITE = 'bench';
/** The one URL-targeted change both Cairn and GrowthBook apply, and the URL that triggers it. */
export const CHANGE = {
  slot: 'hero-title',
  selector: '[data-cairn-slot="hero-title"]',
  text: 'Styled on Pinterest: the linen edit, and a free styling guide',
  query: '?utm_source=pinterest&utm_medium=social',
};
const GB_KEY = 'sdk-bench';

/** Cairn's site config: one variant, one slot, for visitors from Pinterest. */
export function benchConfig(origins) {
  return {
    site: SITE,
    origins,
    variants: [{ id: 'pinterest-hero', name: 'Pinterest visitors', when: { source: 'pinterest' }, slots: { [CHANGE.slot]: { text: CHANGE.text } } }],
    prompts: [],
  };
}

/** GrowthBook's payload: one visual experiment, URL-targeted, with every visitor in the changed variation. */
export function growthbookPayload() {
  return {
    features: {},
    experiments: [
      {
        key: 'pinterest-hero',
        changeId: 'pinterest-hero-1',
        hashAttribute: 'id',
        hashVersion: 2,
        urlPatterns: [{ include: true, type: 'regex', pattern: 'utm_source=pinterest' }],
        weights: [0, 1],
        coverage: 1,
        meta: [{ key: '0' }, { key: '1' }],
        variations: [{}, { domMutations: [{ selector: CHANGE.selector, action: 'set', attribute: 'html', value: CHANGE.text }] }],
      },
    ],
    dateUpdated: new Date().toISOString(),
  };
}

/**
 * GrowthBook's head tags, placed where the storefront puts Cairn's. Its documented snippet is `async`;
 * with anti-flicker the tag is render-blocking instead, else the page can paint before the script
 * hides it: GrowthBook at its best.
 */
function growthbookTags(origin, { antiFlicker, inline }) {
  const cfg = inline ? `<script>window.growthbook_config={payload:${JSON.stringify(growthbookPayload())}};</script>\n    ` : '';
  return `${cfg}<script${antiFlicker ? '' : ' async'} src="/gb/auto.min.js" data-api-host="${origin}" data-client-key="${GB_KEY}" data-no-streaming="1"${antiFlicker ? ' data-anti-flicker="1"' : ''}></script>`;
}

const isCairnTag = (tag) => /\/v1\/sdk\.js|\/cairn\.js|id="cairn-config"|window\.cairn\s*=/.test(tag);
const cairnScripts = (page) => [...page.matchAll(/<script\b[^>]*>[\s\S]*?<\/script>\s*/g)].filter((m) => isCairnTag(m[0]));

/**
 * Splits the storefront's home page into the parts before and after its Cairn tags.
 * Throws if the page has no Cairn tag, or if one is left after removal.
 */
export function splitCairnTags(page) {
  const tags = cairnScripts(page);
  if (!tags.length) throw new Error('the storefront home page has no Cairn script tag');
  const first = tags[0].index;
  const last = tags[tags.length - 1];
  const end = last.index + last[0].length;
  // Whatever sat between the Cairn tags (whitespace, in practice) stays in place.
  const rest = tags.reduce((s, m) => s.replace(m[0], ''), page.slice(first, end));
  const before = page.slice(0, first);
  const after = rest + page.slice(end);
  if (cairnScripts(before + after).length) throw new Error('a Cairn tag is left in the storefront page after removal');
  return { before, cairn: tags.map((m) => m[0]).join(''), after };
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

/**
 * Starts the Cairn sync server (SQLite, in this process), the storefront, and one origin per page kind.
 * Kinds: none, cairn, gb (anti-flicker, features from a local endpoint), gb-noaf (no anti-flicker),
 * gb-inline (anti-flicker, payload inline).
 */
export async function startSites() {
  const { startServer } = await loadServer();
  const { startStorefront } = await import('@cairn/example-storefront/server.mjs');
  const gbFile = readFileSync(join(NODE_MODULES, '@growthbook/growthbook/dist/bundles/auto.min.js'));
  const gbPayload = JSON.stringify(growthbookPayload());
  const kinds = ['none', 'cairn', 'gb', 'gb-noaf', 'gb-inline'];
  const assets = new Map();
  /** @type {Record<string, { url: string, html: string, server: import('node:http').Server }>} */
  const sites = {};
  let shopUrl = '';

  for (const kind of kinds) {
    const site = { url: '', html: '', server: createServer((req, res) => serve(site, req, res).catch((e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e?.message ?? e));
    })) };
    site.url = await listen(site.server);
    sites[kind] = site;
  }

  async function serve(site, req, res) {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(site.html);
    }
    if (path === '/gb/auto.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-cache' });
      return res.end(gbFile);
    }
    if (path.startsWith(`/api/features/${GB_KEY}`)) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      return res.end(gbPayload);
    }
    let a = assets.get(path);
    if (!a) {
      const r = await fetch(shopUrl + path);
      a = { status: r.status, type: r.headers.get('content-type') ?? 'application/octet-stream', body: Buffer.from(await r.arrayBuffer()) };
      if (r.ok) assets.set(path, a);
    }
    res.writeHead(a.status, { 'content-type': a.type, 'cache-control': 'no-cache' });
    res.end(a.body);
  }

  const dir = tmpDir('sites');
  const cairn = await startServer({
    port: 0,
    host: '127.0.0.1',
    db: join(dir, 'cairn.db'),
    config: benchConfig([sites.cairn.url]),
    origins: [sites.cairn.url],
    identitySecret: randomBytes(32).toString('hex'),
    logger: false,
  });
  const shop = await startStorefront({
    port: 0,
    host: '127.0.0.1',
    serverUrl: cairn.url,
    identitySecret: randomBytes(32).toString('hex'),
    site: SITE,
    sdk: 'server',
    siteConfig: benchConfig([sites.cairn.url]),
  });
  shopUrl = shop.url.replace('localhost', '127.0.0.1');
  const home = await (await fetch(shopUrl + '/')).text();
  const { before, cairn: cairnTags, after } = splitCairnTags(home);
  sites.none.html = before + after;
  sites.cairn.html = before + cairnTags + after;
  sites.gb.html = before + growthbookTags(sites.gb.url, { antiFlicker: true }) + after;
  sites['gb-noaf'].html = before + growthbookTags(sites['gb-noaf'].url, { antiFlicker: false }) + after;
  sites['gb-inline'].html = before + growthbookTags(sites['gb-inline'].url, { antiFlicker: true, inline: true }) + after;
  const defaultText = /data-cairn-slot="hero-title"[^>]*>([^<]*)</.exec(home)?.[1]?.trim();
  if (!defaultText) throw new Error('the storefront home page has no hero-title slot');

  return {
    sites,
    cairn,
    defaultText,
    async close() {
      for (const s of Object.values(sites)) {
        s.server.closeAllConnections();
        await new Promise((r) => s.server.close(() => r()));
      }
      await shop.close();
      await cairn.close();
    },
  };
}
