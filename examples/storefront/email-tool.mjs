// The demo's "email tool": a small local stand-in for the store's email or SMS service, the receiver of
// Cairn's trigger webhooks. It does what a real receiver must do, in the order it must do it:
//   1. read the raw body (the signature covers the bytes, not a re-serialised object);
//   2. check `Cairn-Signature: t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the site's webhook
//      secret, in constant time, and refuse a timestamp older than five minutes (a replayed request);
//   3. drop a body whose `idempotencyKey` it has already processed, answering 2xx so that the sender stops;
//   4. answer 2xx quickly; the work (here: showing the email it would send) comes after.
// It listens on loopback only. Its page shows the emails it would send, newest first, with the products
// named from the catalogue; everything from a payload is rendered as escaped text, never as HTML.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { CATEGORIES, PRODUCTS } from './catalog.mjs';
import { html } from './html.mjs';

/** Older signatures are refused: a captured request cannot be replayed later. */
const TOLERANCE_SECONDS = 300;
/** A webhook body is a few kilobytes; anything far larger is not one. */
const MAX_BODY_BYTES = 256 * 1024;
/** The page and the JSON list keep the newest ones only. */
const KEEP = 200;

const PAGE_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CSS = `body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #222; }
.email { border: 1px solid #ddd; border-radius: 10px; padding: 0.5rem 1.2rem; margin: 1rem 0; background: #fff; }
.subject { font-size: 1.15rem; font-weight: 600; margin-bottom: 0; }
.muted, .none { color: #666; font-size: 0.9rem; }
h3 { font-size: 0.95rem; margin: 0.8rem 0 0.2rem; }
ul { margin: 0.2rem 0; }
pre { white-space: pre-wrap; word-break: break-all; font-size: 0.8rem; }
`;

/**
 * Checks a `Cairn-Signature` header against the raw body. Several `v1=` entries may be present (while a
 * secret is being rotated): any one that matches is enough.
 * @param {string | undefined} header
 * @param {Buffer} raw
 * @param {string} secret
 * @param {number} [now] epoch ms
 * @returns {{ ok: true, timestamp: number } | { ok: false, reason: string }}
 */
export function verifySignature(header, raw, secret, now = Date.now()) {
  if (!header) return { ok: false, reason: 'no Cairn-Signature header' };
  let timestamp = Number.NaN;
  /** @type {string[]} */
  const signatures = [];
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    const key = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (!Number.isFinite(timestamp) || signatures.length === 0)
    return { ok: false, reason: 'Cairn-Signature needs t=<seconds> and v1=<hex>' };
  if (Math.abs(now / 1000 - timestamp) > TOLERANCE_SECONDS)
    return { ok: false, reason: `timestamp ${timestamp} is more than ${TOLERANCE_SECONDS} s away` };
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest();
  const match = signatures.some((hex) => timingSafeEqual(Buffer.from(hex, 'hex'), expected));
  return match ? { ok: true, timestamp } : { ok: false, reason: 'signature mismatch (another webhook secret?)' };
}

/**
 * @typedef {object} ReceivedPost One POST that passed the signature check.
 * @property {number} receivedAt epoch ms
 * @property {string} signature the `Cairn-Signature` header as received
 * @property {string | null} idempotencyKeyHeader the `Idempotency-Key` header
 * @property {string} raw the body as received
 *
 * @typedef {object} ReceivedWebhook One webhook (an idempotency key), with every POST that carried it.
 * @property {string} idempotencyKey
 * @property {any} body the first POST's parsed body
 * @property {ReceivedPost[]} posts the first one processed, the others dropped as duplicates
 *
 * @typedef {object} RefusedPost A POST refused before its body was trusted.
 * @property {number} receivedAt
 * @property {number} status the answer sent
 * @property {string} reason
 */

/**
 * Starts the email tool.
 * @param {{ port?: number, host?: string, secret: string, site?: string }} options `port` 0 picks a free one.
 * @returns {Promise<{ url: string, webhookUrl: string, port: number,
 *   received(): ReceivedWebhook[], refused(): RefusedPost[], close(): Promise<void> }>}
 */
export async function startEmailTool({ port = 3001, host = '127.0.0.1', secret, site }) {
  if (!secret) throw new Error('startEmailTool: secret is required (the site webhook secret, to verify signatures)');
  /** Newest first. */
  /** @type {ReceivedWebhook[]} */
  const webhooks = [];
  /** @type {Map<string, ReceivedWebhook>} */
  const byKey = new Map();
  /** @type {RefusedPost[]} */
  const refused = [];

  function refuse(res, status, reason) {
    refused.unshift({ receivedAt: Date.now(), status, reason });
    refused.length = Math.min(refused.length, KEEP);
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${reason}\n`);
  }

  /** @param {import('node:http').IncomingMessage} req */
  function readRaw(req) {
    return new Promise((resolve, reject) => {
      let size = 0;
      /** @type {Buffer[]} */
      const chunks = [];
      req.on('data', (c) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          reject(Object.assign(new Error('body too large'), { status: 413 }));
          req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  async function receive(req, res) {
    const raw = await readRaw(req);
    const header = req.headers['cairn-signature'];
    const check = verifySignature(Array.isArray(header) ? header[0] : header, raw, secret);
    if (!check.ok) return refuse(res, 400, check.reason);
    let body;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return refuse(res, 400, 'the body is not JSON');
    }
    const key = body?.idempotencyKey;
    if (typeof key !== 'string' || key === '' || key.length > 200) return refuse(res, 400, 'no idempotencyKey');
    if (site && body.site !== site) return refuse(res, 400, `a webhook for site "${body.site}", not "${site}"`);
    const idHeader = req.headers['idempotency-key'];
    /** @type {ReceivedPost} */
    const post = {
      receivedAt: Date.now(),
      signature: String(header),
      idempotencyKeyHeader: typeof idHeader === 'string' ? idHeader : null,
      raw: raw.toString('utf8'),
    };
    const seen = byKey.get(key);
    if (seen) {
      // Processed already (a retry after a lost answer): 2xx, so that the sender stops, and nothing sent twice.
      seen.posts.push(post);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"received":true,"duplicate":true}\n');
    }
    const webhook = { idempotencyKey: key, body, posts: [post] };
    byKey.set(key, webhook);
    webhooks.unshift(webhook);
    for (const old of webhooks.splice(KEEP)) byKey.delete(old.idempotencyKey);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"received":true}\n');
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handle = async () => {
      if (path === '/webhooks') {
        if (req.method !== 'POST') {
          res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain; charset=utf-8' });
          return res.end('POST webhooks here\n');
        }
        return receive(req, res);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
        return res.end();
      }
      if (path === '/') {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': PAGE_CSP,
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-store',
        });
        return res.end(req.method === 'HEAD' ? undefined : page(webhooks, refused));
      }
      if (path === '/email.css') {
        res.writeHead(200, { 'content-type': 'text/css; charset=utf-8' });
        return res.end(req.method === 'HEAD' ? undefined : CSS);
      }
      if (path === '/received.json') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        return res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ webhooks, refused }));
      }
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
    };
    handle().catch((err) => {
      if (!res.headersSent) {
        res.writeHead(err.status ?? 500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(err.status ? err.message : 'internal error');
      } else res.destroy();
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  return {
    url,
    webhookUrl: `${url}/webhooks`,
    port: bound,
    received: () => webhooks,
    refused: () => refused,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---- The page: the emails the store would send, as text -------------------------------------------------

const productName = (sku) => PRODUCTS.find((p) => p.sku === sku)?.name;
const categoryName = (slug) => CATEGORIES.find((c) => c.slug === slug)?.name;
const DEVICE_WORDS = { mobile: 'on a phone', desktop: 'on a computer', tablet: 'on a tablet' };
const when = (ms) => (typeof ms === 'number' ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '');

function touchLine(touch) {
  if (!touch || typeof touch !== 'object') return 'none';
  const parts = [touch.channel, touch.source && `${touch.source} / ${touch.medium ?? ''}`, touch.campaign];
  return parts.filter(Boolean).join(' · ') || 'none';
}

function subject(body, names) {
  const first = names[0] ?? 'what you looked at';
  if (body?.trigger?.on === 'cart_abandoned')
    return `Your cart is waiting: ${first}${names.length > 1 ? ` and ${names.length - 1} more` : ''}`;
  return `Still thinking about the ${first}?`;
}

function itemList(items, name) {
  if (!Array.isArray(items) || items.length === 0) return html`<p class="none">none</p>`;
  return html`<ul>${items.map(
    (i) =>
      html`<li><strong>${name(i?.id) ?? String(i?.id)}</strong> <code>${String(i?.id)}</code>
        <span class="muted">${[DEVICE_WORDS[i?.device], when(i?.at)].filter(Boolean).join(', ')}</span></li>`,
  )}</ul>`;
}

function card(webhook) {
  const b = webhook.body ?? {};
  const products = Array.isArray(b.products) ? b.products : [];
  const cart = Array.isArray(b.cart) ? b.cart : [];
  const names = (b.trigger?.on === 'cart_abandoned' && cart.length ? cart : products).map(
    (i) => productName(i?.id) ?? String(i?.id),
  );
  const person = b.person ?? {};
  const to = [person.userId && `user ${person.userId}`, person.email].filter(Boolean).join(', ') || 'unknown';
  const posts = webhook.posts.length;
  return html`<article class="email" data-key="${webhook.idempotencyKey}">
    <header>
      <p class="subject">${subject(b, names)}</p>
      <p class="muted">To ${to} · by ${(person.channels ?? []).join(', ') || 'no channel'} ·
        trigger <code>${b.trigger?.id ?? ''}</code> (${b.trigger?.on ?? ''}) ·
        received ${when(webhook.posts[0].receivedAt)}${posts > 1 ? `, and ${posts - 1} duplicate${posts > 2 ? 's' : ''} dropped` : ''}</p>
    </header>
    <h3>Products viewed, newest first</h3>
    ${itemList(products, productName)}
    ${b.trigger?.on === 'cart_abandoned' ? html`<h3>In the cart</h3>${itemList(cart, productName)}` : ''}
    <h3>Categories</h3>
    ${itemList(b.categories, categoryName)}
    <p class="muted">Devices: ${(Array.isArray(b.devices) ? b.devices : []).join(', ') || 'unknown'} ·
      first touch: ${touchLine(b.firstTouch)} · last touch: ${touchLine(b.lastTouch)}</p>
    <details><summary>The webhook's JSON body (signature verified)</summary><pre>${JSON.stringify(b, null, 2)}</pre></details>
  </article>`;
}

function page(webhooks, refused) {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="refresh" content="5">
  <title>Email tool · ${webhooks.length} received</title>
  <link rel="stylesheet" href="/email.css">
</head>
<body>
  <h1>Email tool</h1>
  <p>The demo's stand-in for the store's email service: the webhooks Cairn's triggers sent, each checked
    against the site's webhook secret, one email per idempotency key, newest first. This page reloads every 5 s.</p>
  <p id="count">${webhooks.length} received${refused.length ? `, ${refused.length} refused` : ''}.</p>
  ${webhooks.length ? webhooks.map(card) : html`<p>Nothing yet. Browse two products on the shop, sign in, and leave it for a minute.</p>`}
  ${
    refused.length
      ? html`<h2>Refused</h2><ul>${refused.slice(0, 20).map((r) => html`<li>${when(r.receivedAt)}: ${r.status} ${r.reason}</li>`)}</ul>`
      : ''
  }
</body>
</html>`.toString();
}
