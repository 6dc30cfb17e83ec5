// The demo shop's pages. Every page is static HTML plus static scripts: the only inline script is the
// one-line queue snippet, allowed by a per-response nonce, so the whole demo runs under a strict CSP.
import { randomUUID } from 'node:crypto';
import { CATEGORIES, GUIDES, PRODUCTS, categoryBySlug, price, productBySku } from './catalog.mjs';
import { html, jsonForScript } from './html.mjs';

export const SHOP_NAME = 'Linen & Loom';

/** The home page's own hero content: what every visitor without a matching variant sees. */
export const HERO = {
  title: 'Linen that gets better with every wash',
  image: { src: '/img/hero-default.svg', alt: 'Folded linen sheets in oat, sage and chalk' },
  cta: { text: 'Shop bedding', href: '/category/bedding' },
  guide: { text: 'How to care for linen, in three steps', href: '/guides/care' },
};

/**
 * How the page loads Cairn.
 * - `server`: the recommended one tag, `<server>/v1/sdk.js?site=…`, with the site config embedded by the sync server.
 * - `bundle`: the plain bundle served by the shop (/cairn.js) with the config inline in `#cairn-config`.
 */
function sdkTags(ctx) {
  const { sdk, serverUrl, site, consent, siteConfig, nonce } = ctx;
  const attrs = (src) =>
    html`<script src="${src}" data-site="${site}" data-server="${serverUrl}"${consent ? html` data-consent="${consent}"` : ''}></script>`;
  const snippet = html`<script nonce="${nonce}">window.cairn=window.cairn||[];</script>`;
  if (sdk === 'bundle') {
    const config = consent
      ? { ...siteConfig, consent: { ...(siteConfig.consent ?? {}), default: consent } }
      : siteConfig;
    return html`<script type="application/json" id="cairn-config">${jsonForScript(config)}</script>
    ${snippet}
    ${attrs('/cairn.js')}`;
  }
  return html`${snippet}
    ${attrs(`${serverUrl}/v1/sdk.js?site=${encodeURIComponent(site)}`)}`;
}

export function layout(ctx, { title, description = '', meta = {}, main, scripts = [], path = '/' }) {
  const nav = [
    ['/', 'Home'],
    ['/category/bedding', 'Bedding'],
    ['/category/table', 'Table linen'],
    ['/guides/care', 'Guides'],
  ];
  const current = (href) =>
    href === '/' ? path === '/' : href.startsWith('/guides/') ? path.startsWith('/guides/') : path === href;
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${title ? `${title} · ${SHOP_NAME}` : SHOP_NAME}</title>
    <meta name="description" content="${description}">
    ${meta.product ? html`<meta name="cairn:product" content="${meta.product}">` : ''}
    ${meta.category ? html`<meta name="cairn:category" content="${meta.category}">` : ''}
    <link rel="icon" href="/favicon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="/static/site.css">
    ${sdkTags(ctx)}
    <script src="/static/shop.js" defer></script>
    ${[...scripts, ...(ctx.consentMode ? ['/static/consent.js'] : [])].map((s) => html`<script src="${s}" defer></script>`)}
  </head>
  <body>
    <a class="skip" href="#main">Skip to content</a>
    <header class="site-header">
      <a class="brand" href="/"><img src="/img/logo.svg" alt="" width="28" height="28"><span>${SHOP_NAME}</span></a>
      <nav aria-label="Main">
        <ul>
          ${nav.map(([href, label]) => html`<li><a href="${href}"${current(href) ? html` aria-current="page"` : ''}>${label}</a></li>`)}
        </ul>
      </nav>
      <div class="account">
        ${
          ctx.user
            ? html`<span class="who">Hi, ${ctx.user}</span> <a href="/logout">Sign out</a>`
            : html`<a href="/login">Sign in</a>`
        }
        <a class="cart-link" href="/cart">Cart${ctx.cartCount ? html` <span class="badge">${ctx.cartCount}</span>` : ''}</a>
      </div>
    </header>
    ${ctx.consentMode ? consentBanner(ctx.consent !== 'pending') : ''}
    <main id="main">
${main}
    </main>
    <footer class="site-footer">
      <p>${SHOP_NAME} is a demo shop for Cairn. Nothing here is for sale.</p>
      <p class="muted">Try <a href="/?utm_source=pinterest&amp;utm_medium=social">Pinterest</a>,
        <a href="/?utm_source=facebook&amp;utm_medium=paid_social&amp;utm_campaign=first-set-20">a Facebook ad</a>,
        <a href="/?utm_source=newsletter&amp;utm_medium=email">the newsletter</a>,
        or <a href="/?cairn_debug=1">the debug overlay</a>.</p>
      ${ctx.consentMode ? html`<p><button type="button" class="linkish" data-consent-open>Privacy choices</button></p>` : ''}
    </footer>
  </body>
</html>
`;
}

function consentBanner(chosen) {
  return html`<section class="consent" data-demo-consent aria-labelledby="consent-title"${chosen ? html` hidden` : ''}>
      <h2 id="consent-title">Cookies and history</h2>
      <p>We remember the pages you visit on this device to show you relevant content. Nothing is stored or sent until you choose.</p>
      <div class="consent-actions">
        <button type="button" class="button" data-consent-choice="granted">Accept</button>
        <button type="button" class="button secondary" data-consent-choice="denied">Decline</button>
      </div>
    </section>`;
}

const card = (p) => html`<li><a class="card" href="/product/${p.sku}">
          <img src="/img/product/${p.sku}.svg" alt="" width="320" height="240" loading="lazy">
          <span class="card-name">${p.name}</span>
          <span class="card-meta">${p.shade} · ${price(p.price)}</span>
        </a></li>`;

/** Filled client-side (static/recent.js) from `cairn.history()` and `cairn.profile()`: it includes other devices once signed in. */
const recentBlock = () => html`<section class="recent" aria-labelledby="recent-title">
        <h2 id="recent-title">Recently viewed</h2>
        <ul class="grid small" data-cairn-recent></ul>
        <p class="muted" data-recent-empty>Nothing yet. Browse a little and your products will wait for you here, on every device you sign in on.</p>
      </section>`;

const inlineAnchor = () => html`<div class="inline-slot" data-cairn-inline></div>`;

export function homePage(ctx) {
  return layout(ctx, {
    path: '/',
    description: 'Stonewashed linen bedding and table linen.',
    scripts: ['/static/recent.js'],
    main: html`
      <section class="hero">
        <div class="hero-copy">
          <p class="eyebrow">The spring collection</p>
          <h1 data-cairn-slot="hero-title">${HERO.title}</h1>
          <p class="lead">Bedding and table linen woven from European flax, stonewashed, and sent in plastic-free parcels.</p>
          <p><a class="button" data-cairn-slot="hero-cta" href="${HERO.cta.href}">${HERO.cta.text}</a></p>
        </div>
        <img class="hero-image" data-cairn-slot="hero-image" src="${HERO.image.src}" alt="${HERO.image.alt}" width="640" height="480">
      </section>
      <aside class="guide" aria-label="Guide">
        <img src="/img/guide.svg" alt="" width="48" height="48">
        <div>
          <p class="eyebrow">From the journal</p>
          <a class="guide-link" data-cairn-slot="guide" href="${HERO.guide.href}">${HERO.guide.text}</a>
        </div>
      </aside>
      <section aria-labelledby="cats-title">
        <h2 id="cats-title">Shop by room</h2>
        <ul class="grid two">
          ${CATEGORIES.map(
            (c) => html`<li><a class="card category" href="/category/${c.slug}">
            <img src="/img/category/${c.slug}.svg" alt="" width="480" height="240" loading="lazy">
            <span class="card-name">${c.name}</span>
            <span class="card-meta">${c.intro}</span>
          </a></li>`,
          )}
        </ul>
      </section>
      <section aria-labelledby="best-title">
        <h2 id="best-title">Bestsellers</h2>
        <ul class="grid">
          ${[PRODUCTS[0], PRODUCTS[3], PRODUCTS[1]].map(card)}
        </ul>
      </section>
      ${recentBlock()}
      ${inlineAnchor()}`,
  });
}

export function categoryPage(ctx, cat) {
  const items = PRODUCTS.filter((p) => p.category === cat.slug);
  return layout(ctx, {
    path: `/category/${cat.slug}`,
    title: cat.name,
    description: cat.intro,
    meta: { category: cat.slug },
    main: html`
      <nav class="crumbs" aria-label="Breadcrumb"><a href="/">Home</a> / <span aria-current="page">${cat.name}</span></nav>
      <h1>${cat.name}</h1>
      <p class="lead">${cat.intro}</p>
      <ul class="grid">
        ${items.map(card)}
      </ul>
      ${inlineAnchor()}`,
  });
}

export function productPage(ctx, p) {
  const cat = categoryBySlug(p.category);
  const related = PRODUCTS.filter((o) => o.category === p.category && o.sku !== p.sku);
  return layout(ctx, {
    path: `/product/${p.sku}`,
    title: `${p.name}, ${p.shade}`,
    description: p.blurb,
    meta: { product: p.sku, category: p.category },
    scripts: ['/static/recent.js'],
    main: html`
      <nav class="crumbs" aria-label="Breadcrumb"><a href="/">Home</a> / <a href="/category/${cat.slug}">${cat.name}</a> / <span aria-current="page">${p.name}</span></nav>
      <article class="product">
        <img class="product-image" src="/img/product/${p.sku}.svg" alt="${p.name} in ${p.shade}" width="640" height="480">
        <div class="product-info">
          <h1>${p.name}</h1>
          <p class="shade">${p.shade}</p>
          <p class="price">${price(p.price)}</p>
          <p>${p.blurb}</p>
          <ul class="details">${p.details.map((d) => html`<li>${d}</li>`)}</ul>
          <form method="post" action="/cart/add" class="buy">
            <input type="hidden" name="sku" value="${p.sku}">
            <button type="submit" class="button" data-track="add_to_cart" data-product="${p.sku}" data-value="${p.price}">Add to cart</button>
            <button type="button" class="button secondary" data-track="wishlist" data-product="${p.sku}" aria-pressed="false">Save for later</button>
          </form>
          <p class="muted">Free delivery over €100 · 60-day returns</p>
        </div>
      </article>
      ${inlineAnchor()}
      <section aria-labelledby="related-title">
        <h2 id="related-title">More ${cat.name.toLowerCase()}</h2>
        <ul class="grid">${related.map(card)}</ul>
      </section>
      ${recentBlock()}`,
  });
}

export function guidePage(ctx, g) {
  return layout(ctx, {
    path: `/guides/${g.slug}`,
    title: g.title,
    description: g.lead,
    main: html`
      <nav class="crumbs" aria-label="Breadcrumb"><a href="/">Home</a> / <span aria-current="page">Guides</span></nav>
      <article class="guide-article">
        <h1>${g.title}</h1>
        <p class="lead">${g.lead}</p>
        ${g.sections.map(([h, t]) => html`<h2>${h}</h2><p>${t}</p>`)}
      </article>
      ${inlineAnchor()}
      <nav class="more-guides" aria-label="More guides"><h2>More guides</h2><ul>
        ${GUIDES.filter((o) => o.slug !== g.slug).map((o) => html`<li><a href="/guides/${o.slug}">${o.title}</a></li>`)}
      </ul></nav>`,
  });
}

export function cartPage(ctx, cart) {
  const lines = cart.map(({ sku, qty }) => ({ p: productBySku(sku), qty })).filter((l) => l.p);
  const total = lines.reduce((s, l) => s + l.p.price * l.qty, 0);
  return layout(ctx, {
    path: '/cart',
    title: 'Cart',
    main: html`
      <h1>Your cart</h1>
      ${
        lines.length
          ? html`<table class="cart">
          <caption class="visually-hidden">Items in your cart</caption>
          <thead><tr><th scope="col">Product</th><th scope="col">Quantity</th><th scope="col">Price</th></tr></thead>
          <tbody>${lines.map((l) => html`<tr><td><a href="/product/${l.p.sku}">${l.p.name}, ${l.p.shade}</a></td><td>${l.qty}</td><td>${price(l.p.price * l.qty)}</td></tr>`)}</tbody>
          <tfoot><tr><th scope="row" colspan="2">Total</th><td>${price(total)}</td></tr></tfoot>
        </table>
        <p><a class="button" href="/checkout">Checkout</a></p>`
          : html`<p>Your cart is empty. <a href="/category/bedding">Start with bedding</a>.</p>`
      }`,
  });
}

export function checkoutPage(ctx, cart, done = false) {
  const total = cart.reduce((s, { sku, qty }) => s + (productBySku(sku)?.price ?? 0) * qty, 0);
  // One id per checkout: a resent purchase event (double click, retry) counts once in the reports.
  const orderId = `D-${randomUUID().slice(0, 8)}`;
  return layout(ctx, {
    path: '/checkout',
    title: 'Checkout',
    scripts: ['/static/checkout.js'],
    main: done
      ? html`<h1>Thank you</h1><p role="status">Your order is placed. (It is a demo: nothing ships.)</p><p><a href="/">Back to the shop</a></p>`
      : html`
      <h1>Checkout</h1>
      <form method="post" action="/checkout" class="stack" data-checkout data-total="${total}" data-order-id="${orderId}" data-items="${cart.map((l) => `${l.sku}:${l.qty}`).join(',')}">
        <input type="hidden" name="orderId" value="${orderId}">
        <label>Name <input name="name" autocomplete="name" required></label>
        <label>Email <input name="email" type="email" autocomplete="email" required></label>
        <label>Address <textarea name="address" rows="3" autocomplete="street-address" required></textarea></label>
        <p class="price">Total ${price(total)}</p>
        <button type="submit" class="button">Place order</button>
      </form>`,
  });
}

const PROVIDERS = { google: 'Google', apple: 'Apple', facebook: 'Facebook' };

export function loginPage(ctx, { provider, returnTo, error }) {
  const via = PROVIDERS[provider];
  return layout(ctx, {
    path: '/login',
    title: 'Sign in',
    main: html`
      <h1>Sign in</h1>
      ${via ? html`<p class="lead">Continue with ${via}. In this demo any username works: there is no password.</p>` : html`<p class="lead">A demo sign-in: pick any username, no password. Sign in with the same name on two devices to see one history on both.</p>`}
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <form method="post" action="/login" class="stack narrow">
        <label>Username <input name="username" autocomplete="username" required pattern="[A-Za-z0-9_.\\-]{1,32}" maxlength="32"></label>
        <input type="hidden" name="return" value="${returnTo}">
        ${via ? html`<input type="hidden" name="provider" value="${provider}">` : ''}
        <button type="submit" class="button">Sign in</button>
      </form>`,
  });
}

/** After POST /login: the signed token is rendered as data, and static/login.js hands it to `cairn.identify`. */
export function signedInPage(ctx, { user, token, returnTo }) {
  return layout(ctx, {
    path: '/login',
    title: 'Signed in',
    scripts: ['/static/recent.js', '/static/login.js'],
    main: html`
      <h1>Welcome, ${user}</h1>
      <script type="application/json" id="demo-identity">${jsonForScript({ user, token })}</script>
      <p role="status" data-identify-status>Linking this device to your account…</p>
      <p><a class="button" href="${returnTo}">Continue shopping</a></p>
      ${recentBlock()}`,
  });
}

export function loggedOutPage(ctx) {
  return layout(ctx, {
    path: '/logout',
    title: 'Signed out',
    scripts: ['/static/logout.js'],
    main: html`
      <h1>Signed out</h1>
      <p role="status" data-reset-status>Clearing this device…</p>
      <p><a href="/">Back to the shop</a></p>`,
  });
}

export function notFoundPage(ctx) {
  return layout(ctx, {
    path: '',
    title: 'Not found',
    main: html`<h1>Not found</h1><p>That page does not exist. <a href="/">Back to the shop</a>.</p>`,
  });
}
