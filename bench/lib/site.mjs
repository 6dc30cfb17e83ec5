// The pages the browser sections load: copies of the demo storefront's home page that differ only in
// the script they carry. Each copy has its own origin (so every one is served at "/" with the same
// URL), and every other path (CSS, images, the shop's own scripts) is fetched once from the real
// storefront and then served from memory, so the storefront's speed is not part of the measurement.
// Scripts go compressed as a CDN or Cairn's sync server sends them: brotli when the request accepts it.
import { createServer } from 'node:http';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { CAIRN_JS, NODE_MODULES } from './paths.mjs';
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

/**
 * V8's explicit compile hint: a magic comment at the top of a script asking V8 to compile every
 * function in it eagerly (off the main thread when the script is streamed) instead of on first call.
 */
export const COMPILE_HINT = '//# allFunctionsCalledOnLoad\n';

/** The page kinds whose head is Cairn's, and those whose is GrowthBook's. */
export const CAIRN_KINDS = ['cairn', 'cairn-plain', 'cairn-hint'];
const GB_KINDS = ['gb', 'gb-noaf', 'gb-inline'];

/** Cairn's site config: one variant, one slot, for visitors from Pinterest. */
export function benchConfig(origins) {
  return {
    site: SITE,
    origins,
    variants: [
      {
        id: 'pinterest-hero',
        name: 'Pinterest visitors',
        when: { source: 'pinterest' },
        slots: { [CHANGE.slot]: { text: CHANGE.text } },
      },
    ],
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
        variations: [
          {},
          { domMutations: [{ selector: CHANGE.selector, action: 'set', attribute: 'html', value: CHANGE.text }] },
        ],
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
  const cfg = inline
    ? `<script>window.growthbook_config={payload:${JSON.stringify(growthbookPayload())}};</script>\n    `
    : '';
  return `${cfg}<script${antiFlicker ? '' : ' async'} src="/gb/auto.min.js" data-api-host="${origin}" data-client-key="${GB_KEY}" data-no-streaming="1"${antiFlicker ? ' data-anti-flicker="1"' : ''}></script>`;
}

/**
 * Where each inline script in `html` matched by `isTag` starts its text: 1-based line and column, as
 * Chromium's trace names an inline script's position.
 */
export function inlineScriptPositions(html, isTag = () => true) {
  const out = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    if (/\ssrc\s*=/.test(m[1]) || !isTag(m[0])) continue;
    const at = m.index + m[0].indexOf('>') + 1;
    const before = html.slice(0, at);
    const nl = before.lastIndexOf('\n');
    out.push({ line: before.split('\n').length, column: at - nl });
  }
  return out;
}

/**
 * The scripts a page kind's trace tells apart (see lib/trace.mjs): Cairn's head (sdk.js), its core
 * chunk and its inline queue snippet; GrowthBook's file.
 * @param {string} kind @param {{ url: string, html: string }} site
 * @returns {import('./trace.mjs').Owner[]}
 */
export function scriptOwners(kind, site) {
  if (CAIRN_KINDS.includes(kind)) {
    const page = new RegExp(`^${site.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(\\?|$)`);
    return [
      { key: 'head', url: /\/v1\/sdk\.js(\?|$)/ },
      { key: 'core', url: /\/cairn-core\.[0-9a-f]+\.js(\?|$)/ },
      { key: 'snippet', inline: { url: page, at: inlineScriptPositions(site.html, isCairnTag) } },
    ];
  }
  if (GB_KINDS.includes(kind)) return [{ key: 'gb', url: /\/gb\/auto\.min\.js(\?|$)/ }];
  return [];
}

/** The codings an Accept-Encoding header accepts (those not at q=0), lower-cased. */
export function acceptedCodings(header) {
  return new Set(
    String(header ?? '')
      .split(',')
      .map((t) => t.split(';').map((p) => p.trim()))
      .filter(([c, ...params]) => c && !params.some((p) => /^q\s*=\s*0(\.0*)?$/i.test(p)))
      .map(([c]) => c.toLowerCase()),
  );
}

/** A body in the codings a client may accept (brotli first, then gzip), each compressed once at its strongest. */
export function encodings(body) {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  let br = null;
  let gz = null;
  return (acceptEncoding) => {
    const ok = acceptedCodings(acceptEncoding);
    if (ok.has('br'))
      return {
        coding: 'br',
        body: (br ??= brotliCompressSync(b, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: b.length },
        })),
      };
    if (ok.has('gzip')) return { coding: 'gzip', body: (gz ??= gzipSync(b, { level: 9 })) };
    return { coding: null, body: b };
  };
}

function sendEncoded(req, res, type, pick) {
  const { coding, body } = pick(req.headers['accept-encoding']);
  res.writeHead(200, {
    'content-type': type,
    'cache-control': 'no-cache',
    vary: 'Accept-Encoding',
    'content-length': body.length,
    ...(coding ? { 'content-encoding': coding } : {}),
  });
  res.end(body);
}

const isCairnTag = (tag) => /\/v1\/sdk\.js|\/cairn\.js|id="cairn-config"|window\.cairn\s*=/.test(tag);
const cairnScripts = (page) =>
  [...page.matchAll(/<script\b[^>]*>[\s\S]*?<\/script>\s*/g)].filter((m) => isCairnTag(m[0]));

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

/**
 * Copies the built SDK (cairn.js, the core chunk it names, and the chunks the core names) into `dir`,
 * so that the sync server serves one build for the whole run even if the SDK is rebuilt meanwhile. A
 * build caught half-written (a file naming a chunk not there yet, or gone) is retried a few times.
 * @returns {{ path: string, core: string | null, sha: string }}
 */
export function snapshotSdk(dir, from = CAIRN_JS, tries = 20) {
  mkdirSync(dir, { recursive: true });
  let last;
  for (let attempt = 0; attempt < tries; attempt++) {
    try {
      const head = readFileSync(from, 'utf8');
      const core = /cairn-core\.[0-9a-f]{8,64}\.js/.exec(head)?.[0] ?? null;
      if (core) {
        copyFileSync(join(dirname(from), core), join(dir, core));
        const named = readFileSync(join(dir, core), 'utf8').match(/cairn-[a-z0-9-]+\.[0-9a-f]{8,64}\.js/g) ?? [];
        for (const chunk of named) copyFileSync(join(dirname(from), chunk), join(dir, chunk));
      }
      writeFileSync(join(dir, 'cairn.js'), head);
      return { path: join(dir, 'cairn.js'), core, sha: createHash('sha256').update(head).digest('hex').slice(0, 12) };
    } catch (e) {
      last = e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  throw new Error(`could not copy the built SDK: ${last?.message ?? last}`);
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

/**
 * Starts the Cairn sync server (SQLite, in this process, serving a copy of the SDK build taken now),
 * the storefront, and one origin per page kind.
 * Kinds: none, cairn, gb (anti-flicker, features from a local endpoint), gb-noaf (no anti-flicker),
 * gb-inline (anti-flicker, payload inline); cairn-plain and cairn-hint, whose sdk.js and core come
 * from the page's own origin, copied from the sync server, and identical but for the compile hint at
 * the top of cairn-hint's sdk.js: a comparison in which nothing else differs.
 */
export async function startSites() {
  const { startServer } = await loadServer();
  const { startStorefront } = await import('@cairn/example-storefront/server.mjs');
  const gbFile = encodings(readFileSync(join(NODE_MODULES, '@growthbook/growthbook/dist/bundles/auto.min.js')));
  const gbPayload = JSON.stringify(growthbookPayload());
  const kinds = ['none', ...CAIRN_KINDS, ...GB_KINDS];
  /** The sync server's sdk.js and chunks as the copies serve them, fetched once: both copies alike. */
  const copies = new Map();
  let cairnUrl = '';
  const assets = new Map();
  /** @type {Record<string, { url: string, html: string, server: import('node:http').Server }>} */
  const sites = {};
  let shopUrl = '';

  for (const kind of kinds) {
    const site = {
      kind,
      url: '',
      html: '',
      server: createServer((req, res) =>
        serve(site, req, res).catch((e) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(e?.message ?? e));
        }),
      ),
    };
    site.url = await listen(site.server);
    sites[kind] = site;
  }

  async function serve(site, req, res) {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(site.html);
    }
    if (path === '/gb/auto.min.js') return sendEncoded(req, res, 'text/javascript', gbFile);
    if (
      (site.kind === 'cairn-plain' || site.kind === 'cairn-hint') &&
      /^\/v1\/(sdk\.js|cairn-[a-z0-9-]+\.[0-9a-f]+\.js)$/.test(path)
    ) {
      const from = path === '/v1/sdk.js' ? `/v1/sdk.js?site=${SITE}` : path;
      let text = copies.get(from);
      if (text === undefined) {
        const r = await fetch(cairnUrl + from);
        if (!r.ok) throw new Error(`the sync server answered ${r.status} for ${from}`);
        text = await r.text();
        copies.set(from, text);
      }
      const key = `${site.kind}:${from}`;
      if (!copies.has(key))
        copies.set(key, encodings(site.kind === 'cairn-hint' && path === '/v1/sdk.js' ? COMPILE_HINT + text : text));
      return sendEncoded(req, res, 'application/javascript; charset=utf-8', copies.get(key));
    }
    if (path.startsWith(`/api/features/${GB_KEY}`)) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      return res.end(gbPayload);
    }
    let a = assets.get(path);
    if (!a) {
      const r = await fetch(shopUrl + path);
      a = {
        status: r.status,
        type: r.headers.get('content-type') ?? 'application/octet-stream',
        body: Buffer.from(await r.arrayBuffer()),
      };
      if (r.ok) assets.set(path, a);
    }
    res.writeHead(a.status, { 'content-type': a.type, 'cache-control': 'no-cache' });
    res.end(a.body);
  }

  const dir = tmpDir('sites');
  const sdk = snapshotSdk(join(dir, 'sdk'));
  const cairnOrigins = CAIRN_KINDS.map((k) => sites[k].url);
  const cairn = await startServer({
    port: 0,
    host: '127.0.0.1',
    db: join(dir, 'cairn.db'),
    sdkPath: sdk.path,
    config: benchConfig(cairnOrigins),
    origins: cairnOrigins,
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
    siteConfig: benchConfig(cairnOrigins),
  });
  shopUrl = shop.url.replace('localhost', '127.0.0.1');
  cairnUrl = cairn.url.replace('localhost', '127.0.0.1');
  const home = await (await fetch(shopUrl + '/')).text();
  const { before, cairn: cairnTags, after } = splitCairnTags(home);
  sites.none.html = before + after;
  sites.cairn.html = before + cairnTags + after;
  // The copies' sdk.js from their own origin; data-server still names the sync server.
  const headSrc = /(<script\b[^>]*\ssrc=")[^"]*\/v1\/sdk\.js\?[^"]*(")/;
  if (!headSrc.test(cairnTags)) throw new Error("the storefront's Cairn tag does not load /v1/sdk.js");
  for (const k of ['cairn-plain', 'cairn-hint'])
    sites[k].html = before + cairnTags.replace(headSrc, `$1${sites[k].url}/v1/sdk.js?site=${SITE}$2`) + after;
  sites.gb.html = before + growthbookTags(sites.gb.url, { antiFlicker: true }) + after;
  sites['gb-noaf'].html = before + growthbookTags(sites['gb-noaf'].url, { antiFlicker: false }) + after;
  sites['gb-inline'].html =
    before + growthbookTags(sites['gb-inline'].url, { antiFlicker: true, inline: true }) + after;
  const defaultText = /data-cairn-slot="hero-title"[^>]*>([^<]*)</.exec(home)?.[1]?.trim();
  if (!defaultText) throw new Error('the storefront home page has no hero-title slot');

  return {
    sites,
    cairn,
    defaultText,
    /** The SDK build the sync server serves for the whole run: cairn.js's sha-256 (12 hex) and its core. */
    sdk: { sha: sdk.sha, core: sdk.core },
    /** sdk.js as the sync server serves it now (the copies keep the first one they fetched). */
    async headText() {
      const r = await fetch(`${cairnUrl}/v1/sdk.js?site=${SITE}`);
      if (!r.ok) throw new Error(`the sync server answered ${r.status} for sdk.js`);
      return r.text();
    },
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
