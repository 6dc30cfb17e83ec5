// The demo storefront on plain node:http: static pages, a cookie cart, a username-only login whose token is
// signed server-side, and a strict Content-Security-Policy that the Cairn SDK must work under.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { categoryBySlug, guideBySlug, productBySku, PRODUCTS, CATEGORIES } from './catalog.mjs';
import {
  categoryPage,
  cartPage,
  checkoutPage,
  guidePage,
  homePage,
  loggedOutPage,
  loginPage,
  notFoundPage,
  productPage,
  signedInPage,
} from './pages.mjs';
import { categorySvg, productSvg } from './images.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PUBLIC = join(HERE, 'public');
export const SITE_CONFIG_PATH = join(HERE, 'site-config.json');

const TYPES = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/svg+xml',
};

/** Where the plain SDK bundle lives: the workspace package's dist, read per request so rebuilds show up. */
function sdkBundlePath() {
  try {
    return fileURLToPath(import.meta.resolve('@cairn/sdk/cairn.js'));
  } catch {
    return join(HERE, '..', '..', 'packages', 'sdk', 'dist', 'cairn.js');
  }
}

const USERNAME = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * Where to go back after login: a path on this shop, or a full URL on this host (prompts send the page's URL).
 * Anything else, `//evil.example` or `/\evil` included, would leave the shop: it becomes "/".
 */
function safeReturn(r, host) {
  if (typeof r !== 'string' || r.length > 2000) return '/';
  if (/^\/(?![/\\])/.test(r)) return r;
  try {
    const u = new URL(r);
    if (/^https?:$/.test(u.protocol) && u.host === host) return u.pathname + u.search;
  } catch {
    /* not a URL */
  }
  return '/';
}

function parseCookies(header = '') {
  const out = {};
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) {
      try {
        out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        /* a malformed cookie is ignored */
      }
    }
  }
  return out;
}

/** The cart is a cookie of `SKU:qty` pairs; unknown SKUs are dropped. */
function readCart(cookies) {
  return (cookies.cart ?? '')
    .split(',')
    .map((s) => s.split(':'))
    .map(([sku, q]) => ({ sku, qty: Math.min(99, Math.max(1, parseInt(q, 10) || 1)) }))
    .filter((l) => productBySku(l.sku));
}
const writeCart = (cart) => cart.map((l) => `${l.sku}:${l.qty}`).join(',');

function readBody(req, limit = 16 * 1024) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/**
 * @typedef {object} StorefrontOptions
 * @property {number} [port] 0 picks a free one; default 3000.
 * @property {string} [host] all interfaces when omitted.
 * @property {string} [serverUrl] the Cairn sync server, e.g. http://127.0.0.1:8787.
 * @property {string} identitySecret shared with the sync server: signs the login token.
 * @property {string} [site] the site id; default "demo".
 * @property {'server' | 'bundle'} [sdk] 'server' (default): `<serverUrl>/v1/sdk.js?site=`, the one-tag setup;
 *   'bundle': the shop's own /cairn.js with the config inline in `#cairn-config`.
 * @property {'pending' | 'granted' | 'denied'} [consent] 'pending' loads Cairn without consent and shows a consent banner.
 * @property {object} [siteConfig] the config inlined in 'bundle' mode; default ./site-config.json.
 */

/**
 * Starts the shop.
 * @param {StorefrontOptions} options
 * @returns {Promise<{ url: string, port: number, close(): Promise<void> }>}
 */
export async function startStorefront({
  port = 3000,
  host,
  serverUrl = 'http://127.0.0.1:8787',
  identitySecret,
  site = 'demo',
  sdk = 'server',
  consent,
  siteConfig,
}) {
  if (!identitySecret) throw new Error('startStorefront: identitySecret is required (it signs the login token)');
  const { signIdentity, signOrder } = await import('@cairn/server');
  // Triggers (webhook URLs) are the sync server's alone: never inlined in a page.
  const { triggers: _serverOnly, ...config } = siteConfig ?? JSON.parse(readFileSync(SITE_CONFIG_PATH, 'utf8'));
  const serverOrigin = new URL(serverUrl).origin;
  const bundlePath = sdkBundlePath();

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(err.status ?? 500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(err.status ? err.message : 'Internal error');
      } else res.destroy();
      if (!err.status) console.error('[storefront]', err);
    });
  });

  /**
   * Confirms the order to the sync server as a shop's backend does: the total from the cart this
   * server holds (not the page's), signed with the identity secret, for the device whose `cairn_id`
   * cookie came with the checkout. A site config with `orders.confirmation: "required"` counts only
   * such orders. A failure never stops the checkout: the order is placed all the same.
   */
  async function confirmOrder(orderId, cart, deviceId) {
    if (typeof orderId !== 'string' || !/^D-[0-9a-f]{8}$/.test(orderId) || cart.length === 0) return;
    const value = cart.reduce((s, l) => s + productBySku(l.sku).price * l.qty, 0);
    const token = signOrder({
      secret: identitySecret,
      site,
      orderId,
      value,
      currency: 'EUR',
      ...(typeof deviceId === 'string' && /^[\w-]{8,64}$/.test(deviceId) ? { deviceId } : {}),
    });
    try {
      const r = await fetch(`${serverUrl}/v1/orders/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ site, token }),
        signal: AbortSignal.timeout(3000),
      });
      if (!r.ok) console.error('[storefront] order confirmation refused:', r.status, await r.text());
    } catch (err) {
      console.error('[storefront] order confirmation failed:', err.message);
    }
  }

  async function handle(req, res) {
    const url = new URL(req.url ?? '/', 'http://shop.local');
    const path = url.pathname;
    const cookies = parseCookies(req.headers.cookie);
    const nonce = randomBytes(16).toString('base64');
    const consentChoice =
      consent === 'pending' && ['granted', 'denied'].includes(cookies.demo_consent) ? cookies.demo_consent : consent;
    const cart = readCart(cookies);
    const ctx = {
      nonce,
      site,
      serverUrl,
      siteConfig: config,
      sdk: path === '/plain' ? 'bundle' : sdk,
      consent: consentChoice,
      consentMode: consent === 'pending',
      user: USERNAME.test(cookies.demo_user ?? '') ? cookies.demo_user : null,
      cartCount: cart.reduce((s, l) => s + l.qty, 0),
    };

    const send = (status, body, headers = {}) => {
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const page = (status, markup, extra = {}) =>
      send(status, String(markup), {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': [
          "default-src 'self'",
          `script-src 'self' ${serverOrigin} 'nonce-${nonce}'`,
          "style-src 'self'",
          "img-src 'self'",
          `connect-src 'self' ${serverOrigin}`,
          "object-src 'none'",
          "base-uri 'none'",
          "form-action 'self'",
          "frame-ancestors 'none'",
        ].join('; '),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'strict-origin-when-cross-origin',
        ...extra,
      });
    const redirect = (to, extra = {}) => send(303, '', { location: to, ...extra });
    const cookie = (name, value, { maxAge, httpOnly = true } = {}) =>
      `${name}=${encodeURIComponent(value)}; Path=/; SameSite=Lax${httpOnly ? '; HttpOnly' : ''}${maxAge !== undefined ? `; Max-Age=${maxAge}` : ''}`;

    const get = req.method === 'GET' || req.method === 'HEAD';
    let m;

    if (get && (path === '/' || path === '/plain')) return page(200, homePage(ctx));
    if (get && (m = /^\/category\/([a-z-]+)$/.exec(path)) && categoryBySlug(m[1]))
      return page(200, categoryPage(ctx, categoryBySlug(m[1])));
    if (get && (m = /^\/product\/([A-Z-]+)$/.exec(path)) && productBySku(m[1]))
      return page(200, productPage(ctx, productBySku(m[1])));
    if (get && (m = /^\/guides\/([a-z-]+)$/.exec(path)) && guideBySlug(m[1]))
      return page(200, guidePage(ctx, guideBySlug(m[1])));
    if (get && path === '/cart') return page(200, cartPage(ctx, cart));
    if (get && path === '/checkout') return page(200, checkoutPage(ctx, cart));
    if (get && path === '/login') {
      const back = url.searchParams.get('returnTo') ?? url.searchParams.get('return');
      return page(
        200,
        loginPage(ctx, { provider: url.searchParams.get('provider'), returnTo: safeReturn(back, req.headers.host) }),
      );
    }
    if (get && path === '/logout') {
      return page(200, loggedOutPage({ ...ctx, user: null }), { 'set-cookie': cookie('demo_user', '', { maxAge: 0 }) });
    }

    if (req.method === 'POST' && path === '/cart/add') {
      const sku = (await readBody(req)).get('sku');
      if (!productBySku(sku ?? ''))
        return send(400, 'Unknown product', { 'content-type': 'text/plain; charset=utf-8' });
      const line = cart.find((l) => l.sku === sku);
      if (line) line.qty = Math.min(99, line.qty + 1);
      else cart.push({ sku, qty: 1 });
      return redirect('/cart', { 'set-cookie': cookie('cart', writeCart(cart), { maxAge: 7 * 86400 }) });
    }
    if (req.method === 'POST' && path === '/checkout') {
      const form = await readBody(req);
      await confirmOrder(form.get('orderId'), cart, cookies.cairn_id);
      return page(200, checkoutPage({ ...ctx, cartCount: 0 }, [], true), {
        'set-cookie': cookie('cart', '', { maxAge: 0 }),
      });
    }
    if (req.method === 'POST' && path === '/login') {
      const form = await readBody(req);
      const user = (form.get('username') ?? '').trim();
      const returnTo = safeReturn(form.get('return'), req.headers.host);
      if (!USERNAME.test(user)) {
        return page(
          400,
          loginPage(ctx, {
            provider: form.get('provider'),
            returnTo,
            error: 'Use 1 to 32 letters, digits, ".", "-" or "_".',
          }),
        );
      }
      // The proof of login: signed here, with the secret shared with the sync server, never in the browser.
      const token = await signIdentity({ userId: user, secret: identitySecret, site });
      return page(200, signedInPage({ ...ctx, user }, { user, token, returnTo }), {
        'set-cookie': cookie('demo_user', user),
      });
    }

    if (get && path === '/catalog.json') {
      const body = JSON.stringify({
        products: PRODUCTS.map(({ sku, name, shade, price, category }) => ({ sku, name, shade, price, category })),
        categories: CATEGORIES,
      });
      return send(200, body, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
    }
    if (get && path === '/cairn.js') {
      const js = await readFile(bundlePath).catch(() => null);
      if (!js)
        return send(404, 'SDK bundle not built: run the build first', { 'content-type': 'text/plain; charset=utf-8' });
      return send(200, js, { 'content-type': TYPES['.js'], 'cache-control': 'no-cache' });
    }
    // The core the self-hosted head loads from beside itself, and the prompts' UI the core loads from
    // beside itself: named by their content hash, so immutable.
    if (get && /^\/cairn-(core|prompts)\.[0-9a-f]{8,64}\.js$/.test(path)) {
      const js = await readFile(join(dirname(bundlePath), path.slice(1))).catch(() => null);
      if (!js) return page(404, notFoundPage(ctx));
      return send(200, js, { 'content-type': TYPES['.js'], 'cache-control': 'public, max-age=31536000, immutable' });
    }
    if (get && (m = /^\/img\/product\/([A-Z-]+)\.svg$/.exec(path)) && productBySku(m[1])) {
      return send(200, productSvg(productBySku(m[1]).color), {
        'content-type': TYPES['.svg'],
        'cache-control': 'max-age=3600',
      });
    }
    if (get && (m = /^\/img\/category\/([a-z-]+)\.svg$/.exec(path)) && categoryBySlug(m[1])) {
      return send(200, categorySvg(m[1]), { 'content-type': TYPES['.svg'], 'cache-control': 'max-age=3600' });
    }
    if (get && (path === '/favicon.ico' || path === '/favicon.svg')) return sendFile('img/logo.svg');
    if (get && (path.startsWith('/static/') || path.startsWith('/img/')))
      return sendFile(path.slice(1).replace(/^static\//, ''));
    if (get && path === '/healthz') return send(200, 'ok', { 'content-type': 'text/plain' });

    if (!get && req.method !== 'POST') return send(405, 'Method not allowed', { allow: 'GET, HEAD, POST' });
    return page(404, notFoundPage(ctx));

    async function sendFile(rel) {
      const file = normalize(join(PUBLIC, rel));
      if (!file.startsWith(PUBLIC + sep)) return send(404, 'Not found');
      const body = await readFile(file).catch(() => null);
      if (!body) return page(404, notFoundPage(ctx));
      return send(200, body, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = server.address().port;
  return {
    url: `http://localhost:${actual}`,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
