#!/usr/bin/env node
// Seeds a running sync server with a month of simulated shoppers, so the console has something to
// show: a few thousand visitors from a realistic mix of channels, on phones and laptops, some on
// both; they browse, get the variant their source matches, see prompts, opt in, create accounts,
// add to cart, buy (now and then twice, and now and then the same order sent twice) and come back.
// Everything goes through the real endpoints (POST /v1/collect, /v1/identify, /v1/optins) with
// events dated over the last 30 days, built as the SDK builds them (resolveTouch, matchVariant),
// each device with its own token (Authorization: Bearer) as the server requires on every write.
//
// Last, one person's cross-device journey for the triggers (crossDevice below): two or three products
// browsed on a phone from a Pinterest pin, a sign-in, and gone; then the same person signs in on a
// laptop. The demo's browse-abandon trigger then sends the email tool one webhook naming the phone's
// products, about a minute later (its `after`).
//
// Holdouts, as the SDK decides them: a share of each variant's and prompt's audience is kept on the
// default and sends `variant_held` / `prompt_held` where the others send `variant_applied` /
// `prompt_shown`. The true effects are known, so the console's verdicts can be checked against them:
// the Google buying guide really lifts purchases (TRUE_LIFT), the Facebook offer does nothing, and
// the prompts cost no sales (they only bring opt-ins and accounts).
//
//   node scripts/seed.mjs            (the lead's `pnpm demo:seed`)
//
// Env: CAIRN_SERVER_URL (http://localhost:8787), CAIRN_SITE (demo), CAIRN_IDENTITY_SECRET (the
// server's; default: the demo's, from examples/storefront/.cairn/dev-keys.json; without one nobody
// is identified), CAIRN_SEED_VISITORS (3000), CAIRN_SEED (42: the same
// seed gives the same mix of journeys; ids are always new, so each run adds visitors),
// CAIRN_SEED_HOLDOUT (0.5: the share held out of the two measured variants, the buying guide and the
// Facebook offer, SAVED INTO the site's config first (PUT /v1/config with the admin key), so the data
// matches the config and the storefront holds out as many; "config" leaves the config as it is, 10%
// by default, which needs several times more visitors for a verdict), CAIRN_ADMIN_KEY (default: the
// demo's), CAIRN_SEED_FLAT_VISITORS (12000: more visitors from the Facebook ad, so many that the
// console can tell its flat offer from a 10% lift: "no detectable difference"). CAIRN_SEED_VISITORS=0
// and CAIRN_SEED_FLAT_VISITORS=0 send the cross-device journey alone.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MIN = 60_000;

/** A small deterministic PRNG (mulberry32): the same seed, the same journeys. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    chance: (p) => next() < p,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    /** One of `[item, weight]`. */
    weighted: (list) => {
      let x = next() * list.reduce((n, [, w]) => n + w, 0);
      for (const [item, w] of list) if ((x -= w) < 0) return item;
      return list[list.length - 1][0];
    },
  };
  return r;
}

// Where visits come from: a landing URL and referrer as a browser would present them, resolved by the
// SDK's own resolveTouch. `q` scales the odds of buying (search and email convert better than social).
const SHOP = 'https://shop.example';
const SOURCES = [
  { w: 22, q: 1.2, url: '/', referrer: 'https://www.google.com/' },
  { w: 11, q: 1.5, url: '/category/bedding?gclid=Cj0KCQiA-demo', referrer: 'https://www.google.com/' },
  { w: 3, q: 1.0, url: '/', referrer: 'https://www.bing.com/' },
  {
    w: 10,
    q: 0.8,
    url: '/?utm_source=facebook&utm_medium=paid_social&utm_campaign=first-set-20',
    referrer: 'https://m.facebook.com/',
  },
  { w: 10, q: 0.6, url: '/?utm_source=pinterest&utm_medium=social', referrer: 'https://www.pinterest.com/' },
  { w: 5, q: 0.5, url: '/', referrer: 'https://l.instagram.com/' },
  { w: 3, q: 0.7, url: '/?utm_source=tiktok&utm_medium=paid_social&utm_campaign=summer-linen', referrer: '' },
  { w: 7, q: 1.8, url: '/?utm_source=newsletter&utm_medium=email&utm_campaign=spring', referrer: '' },
  { w: 4, q: 1.1, url: '/guides/care', referrer: 'https://blog.slowhome.example/linen-review' },
  { w: 3, q: 1.3, url: '/?utm_source=partner-deals&utm_medium=affiliate&utm_campaign=june', referrer: '' },
  { w: 2, q: 0.9, url: '/?utm_source=youtube&utm_medium=video', referrer: 'https://www.youtube.com/' },
  { w: 20, q: 1.0, url: '/', referrer: '' },
];
const DIRECT = SOURCES[SOURCES.length - 1];

/**
 * What each variant truly does to the odds of adding to cart and of checking out, for the people it
 * is applied to: the buying guide really works, the Facebook offer does nothing. Others: nothing either.
 */
const TRUE_LIFT = { 'google-buying-guide': 2, 'facebook-offer': 1 };
/** Where the Facebook offer's audience comes from: the extra `flatVisitors` arrive through it. */
const FACEBOOK_AD = SOURCES.find((x) => x.url.includes('utm_source=facebook'));

/** Where `key` falls in [0, 1): FNV-1a with murmur3's finaliser, as the SDK places a device in a holdout (sdk/src/variants/holdout.ts). */
function place(key) {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}
const NEWSLETTER = SOURCES.find((x) => x.url.includes('newsletter'));

const FALLBACK_PRODUCTS = [
  { sku: 'SHEET-OAT', category: 'bedding', price: 149, name: 'Stonewashed sheet set' },
  { sku: 'DUVET-SAGE', category: 'bedding', price: 179, name: 'Linen duvet cover' },
  { sku: 'PILLOW-CHALK', category: 'bedding', price: 49, name: 'Pillowcases, pair' },
  { sku: 'NAPKIN-RUST', category: 'table', price: 36, name: 'Napkins, set of four' },
  { sku: 'CLOTH-NAVY', category: 'table', price: 89, name: 'Tablecloth' },
  { sku: 'RUNNER-OAT', category: 'table', price: 45, name: 'Table runner' },
];

async function loadSdk() {
  try {
    const sdk = await import(new URL('../packages/sdk/dist/index.js', import.meta.url).href);
    const server = await import(new URL('../packages/server/dist/index.js', import.meta.url).href);
    return { resolveTouch: sdk.resolveTouch, matchVariant: sdk.matchVariant, signIdentity: server.signIdentity };
  } catch (e) {
    throw new Error(
      `cannot load the built SDK and server (run \`pnpm build\` first): ${/** @type {Error} */ (e).message}`,
    );
  }
}

async function loadProducts() {
  try {
    const { PRODUCTS } = await import(new URL('../examples/storefront/catalog.mjs', import.meta.url).href);
    if (Array.isArray(PRODUCTS) && PRODUCTS.length && PRODUCTS.every((p) => p.sku && p.category && p.price > 0))
      return PRODUCTS;
  } catch {}
  return FALLBACK_PRODUCTS;
}

/** A small HTTP client that waits out 429s (Retry-After) and counts what it did. */
function client(base, stats) {
  return async function call(path, body, token) {
    for (let attempt = 0; ; attempt++) {
      const headers = { 'content-type': 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      stats.requests++;
      const res = await fetch(
        base + path,
        body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) },
      );
      if (res.status === 429 && attempt < 30) {
        stats.rateLimited++;
        await res.body?.cancel();
        const wait = Number(res.headers.get('retry-after')) || 1;
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      /** @type {any} The server's JSON body (or null), read as the caller expects it. */
      const json = await res.json().catch(() => null);
      if (!res.ok) throw new Error(`${path}: ${res.status} ${json?.message ?? ''}`.trim());
      return json;
    }
  };
}

/**
 * Simulates `visitors` people over the last `days` days and sends them to the server at `url`, and
 * `flatVisitors` more whose first visit comes from the Facebook ad.
 * `measuredHoldout` with `adminKey`: first saves that share as the `holdout` of the measured variants
 * (TRUE_LIFT) in the site's config, so the data matches the config. `holdout`: the share held out of
 * every variant and prompt in the simulation only, whatever the config says (for tests); left out,
 * the config's (as the SDK).
 * Resolves to a summary of what was sent.
 * @param {{ url?: string, site?: string, secret?: string, visitors?: number, flatVisitors?: number,
 *   days?: number, seed?: number, concurrency?: number, now?: number, holdout?: number,
 *   measuredHoldout?: number, adminKey?: string, log?: (line: string) => void }} [options]
 * @returns {Promise<{ visitors: number, devices: number, events: number, orders: number, optins: number,
 *   identified: number, requests: number, rateLimited: number }>}
 */
export async function seed({
  url = 'http://localhost:8787',
  site = 'demo',
  secret,
  visitors = 3000,
  flatVisitors = 0,
  days = 30,
  seed: seedValue = 42,
  concurrency = 16,
  now = Date.now(),
  holdout,
  measuredHoldout,
  adminKey,
  log = () => {},
} = {}) {
  const { resolveTouch, matchVariant, signIdentity } = await loadSdk();
  const products = await loadProducts();
  const base = url.replace(/\/+$/, '');
  const stats = {
    visitors: 0,
    devices: 0,
    events: 0,
    orders: 0,
    optins: 0,
    identified: 0,
    requests: 0,
    rateLimited: 0,
  };
  const call = client(base, stats);
  const config = await call(`/v1/config?site=${encodeURIComponent(site)}`).catch((e) => {
    throw new Error(
      `cannot reach the sync server at ${base} (${e.cause?.code ?? e.message}); start it first, or set CAIRN_SERVER_URL`,
    );
  });
  if (measuredHoldout !== undefined && adminKey)
    await saveMeasuredHoldout(base, config, measuredHoldout, adminKey, log);
  const variants = Array.isArray(config?.variants) ? config.variants : [];
  const prompts = Array.isArray(config?.prompts) ? config.prompts : [];
  const siteHoldout = typeof config?.measurement?.holdout === 'number' ? config.measurement.holdout : 0.1;
  /** The share held out of a variant or prompt: the seed's, else the item's, else the site's. */
  const shareOf = (item) => holdout ?? (typeof item.holdout === 'number' ? item.holdout : siteHoldout);
  /**
   * Held out of `key` on `dev`: decided at the device's first exposure from its id (as the SDK does)
   * and kept; a signed-in person's devices take the arm of their first exposure on any device.
   */
  function heldOut(person, dev, key, item) {
    if (dev.arms[key] === undefined)
      dev.arms[key] =
        person.identified && person.arms[key] !== undefined
          ? person.arms[key]
          : place(`${dev.id} ${key}`) < shareOf(item);
    person.arms[key] ??= dev.arms[key];
    return dev.arms[key];
  }
  const rnd = prng(seedValue);
  const end = now - MIN;
  const start = now - days * DAY;

  /** One person's whole month, as event batches per device plus what to do after (identify, opt-in). */
  function simulate(n) {
    const person = {
      userId: `seed-${seedValue}-${n}-${randomUUID().slice(0, 8)}`,
      identified: false,
      optedIn: false,
      orders: 0,
      /** Held out (true) or not, per variant id and `prompt:<id>`: the first exposure's, for a signed-in person. */
      arms: {},
    };
    const twoDevices = rnd.chance(0.22);
    const firstKind = rnd.chance(0.6) ? 'mobile' : 'desktop';
    const devices = [
      {
        id: randomUUID(),
        kind: firstKind,
        events: [],
        touches: { first: null, last: null, current: null },
        identify: null,
        optins: [],
        arms: {},
      },
    ];
    if (twoDevices)
      devices.push({
        id: randomUUID(),
        kind: firstKind === 'mobile' ? 'desktop' : 'mobile',
        events: [],
        touches: { first: null, last: null, current: null },
        identify: null,
        optins: [],
        arms: {},
      });
    let at = start + rnd.next() * (days - 1) * DAY;
    const sessions = rnd.weighted([
      [1, 50],
      [2, 25],
      [3, 15],
      [4, 7],
      [6, 3],
    ]);
    // Every session starts at least an hour before now, so no event lands in the future.
    for (let s = 0; s < sessions && at < end - HOUR; s++) {
      // Later sessions on the second device are where cross-device journeys come from.
      const dev = /** @type {(typeof devices)[number]} */ (
        s > 0 && twoDevices && rnd.chance(0.5) ? devices[1] : devices[0]
      );
      // Returning visitors mostly come back directly, or through the newsletter once subscribed.
      const src =
        s === 0
          ? n >= visitors
            ? FACEBOOK_AD
            : rnd.weighted(SOURCES.map((x) => [x, x.w]))
          : rnd.weighted([[DIRECT, 45], [NEWSLETTER, person.optedIn ? 30 : 5], ...SOURCES.map((x) => [x, x.w / 3])]);
      session(person, dev, src, at);
      // Signed in once, a shopper is signed in on every device they use after.
      if (person.identified && !dev.identify) identify(person, dev, at);
      at += rnd.next() * 6 * DAY + 2 * HOUR;
    }
    return { person, devices };
  }

  function session(person, dev, src, t0) {
    const session = randomUUID();
    let at = Math.floor(t0);
    const ev = (type, props) =>
      dev.events.push({ id: randomUUID(), type, at: (at += rnd.int(5, 90) * 1000), ...props });
    const touch = resolveTouch({ url: SHOP + src.url, referrer: src.referrer, now: at });
    if (touch) {
      dev.touches.current = touch;
      dev.touches.first ??= touch;
      if (touch.channel !== 'Direct') dev.touches.last = touch;
      dev.events.push({ id: randomUUID(), type: 'touch', at, touch });
    }
    const landing = new URL(src.url, SHOP).pathname;
    const variant = matchVariant(variants, { touches: dev.touches, device: dev.kind, path: landing }).variant;
    const held = variant ? heldOut(person, dev, variant.id, variant) : false;
    // A held-out visitor sees the default page: no lift, whatever the variant would have done.
    const lift = variant && !held ? (TRUE_LIFT[variant.id] ?? 1) : 1;
    const page = (path, extra = {}) => ev('page', { path, title: path, session, device: dev.kind, ...extra });
    page(landing);
    if (variant && held) ev('variant_held', { variant: variant.id });
    else if (variant) ev('variant_applied', { variant: variant.id, slots: Object.keys(variant.slots ?? {}) });
    const views = rnd.weighted([
      [1, 30],
      [2, 20],
      [3, 18],
      [5, 17],
      [8, 10],
      [12, 5],
    ]);
    const cart = [];
    for (let i = 1; i < views; i++) {
      const p = rnd.pick(products);
      if (rnd.chance(0.3)) page(`/category/${p.category}`, { category: p.category });
      else page(`/product/${p.sku}`, { product: p.sku, category: p.category });
      if (i === 2) prompt(person, dev, touch, ev);
      if (rnd.chance(0.09 * src.q * lift)) {
        cart.push(p);
        ev('add_to_cart', { sku: p.sku, value: p.price, currency: 'EUR' });
      }
    }
    // Returning customers buy more readily.
    if (cart.length && rnd.chance(Math.min(0.9, 0.45 * src.q * lift * (person.orders ? 1.4 : 1)))) {
      const value = cart.reduce((n, p) => n + p.price, 0);
      const order = {
        orderId: `SEED-${randomUUID().slice(0, 13).toUpperCase()}`,
        value,
        currency: 'EUR',
        items: cart.map((p) => ({ sku: p.sku, qty: 1, price: p.price })),
      };
      page('/checkout');
      ev('purchase', order);
      // A reloaded thank-you page sends the same order again: the reports count it once.
      if (rnd.chance(0.05)) ev('purchase', order);
      person.orders++;
      stats.orders++;
      // Some buyers create an account at checkout, and sign in on every device they use.
      if (!person.identified && rnd.chance(0.4)) identify(person, dev, at);
    }
  }

  function prompt(person, dev, touch, ev) {
    const channel = touch?.channel ?? 'Direct';
    const p = prompts.find(
      (x) =>
        (!x.audience?.channels || x.audience.channels.includes(channel)) &&
        (x.kind === 'optin' ? !person.optedIn : !person.identified),
    );
    if (!p) return;
    const props = { prompt: p.id, device: dev.kind };
    // Held out: no prompt, and the exposure event where prompt_shown would have been.
    if (heldOut(person, dev, `prompt:${p.id}`, p)) return void ev('prompt_held', props);
    ev('prompt_shown', props);
    const r = rnd.next();
    if (r < 0.14) {
      ev('prompt_submitted', props);
      if (p.kind === 'optin') {
        person.optedIn = true;
        const at = dev.events[dev.events.length - 1].at;
        dev.optins.push({
          id: randomUUID(),
          site,
          deviceId: dev.id,
          email: `${person.userId}@example.com`,
          consentText: p.content?.consent || p.content?.title || 'Email me',
          at,
          promptId: p.id,
          touch: touch ?? null,
        });
      } else identify(person, dev, dev.events[dev.events.length - 1].at);
    } else if (r < 0.7) ev('prompt_dismissed', props);
  }

  function identify(person, dev, at) {
    person.identified = true;
    dev.identify = { at };
  }

  async function send({ person, devices }) {
    stats.visitors++;
    for (const dev of devices) {
      if (!dev.events.length) continue;
      stats.devices++;
      // The device's own token, as the SDK makes one with each device id: the server adopts it.
      const token = randomUUID();
      for (let i = 0; i < dev.events.length; i += 100) {
        const r = await call('/v1/collect', { site, deviceId: dev.id, events: dev.events.slice(i, i + 100) }, token);
        stats.events += r.accepted;
      }
      if (dev.identify && secret) {
        // A login token links one device: each device's login is its own.
        const idToken = signIdentity({ userId: person.userId, secret, site, deviceId: dev.id });
        await call(
          '/v1/identify',
          { site, deviceId: dev.id, userId: person.userId, token: idToken, device: dev.kind },
          token,
        );
        stats.identified++;
      }
      for (const o of dev.optins) {
        await call('/v1/optins', o, token);
        stats.optins++;
      }
    }
  }

  const people = Array.from({ length: visitors + flatVisitors }, (_, i) => simulate(i));
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < people.length) {
      await send(/** @type {(typeof people)[number]} */ (people[next++]));
      if (++done % 500 === 0) log(`  ${done} / ${people.length} visitors sent`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return stats;
}

/**
 * One person's journey across two devices, sent as the SDK sends it: on a phone, arriving from a
 * Pinterest pin, they view two or three products (`products`, SKUs) and sign in, then leave; later
 * they sign in on a laptop and look at the home page. With a browse-abandon trigger in the site's
 * config, the person's episode holds the phone's products, and its webhook names them once it is
 * due. Needs the identity secret (the sign-ins are signed). Resolves to the user id and the products.
 * @param {{ url?: string, site?: string, secret: string, userId?: string,
 *   products?: string[], now?: number }} options
 * @returns {Promise<{ userId: string, products: string[], phone: string, laptop: string }>}
 */
export async function crossDevice({
  url = 'http://localhost:8787',
  site = 'demo',
  secret,
  userId = `shopper-${randomUUID().slice(0, 8)}`,
  products = ['DUVET-SAGE', 'SHEET-OAT', 'PILLOW-CHALK'],
  now = Date.now(),
}) {
  if (!secret) throw new Error('crossDevice: the identity secret is required (the sign-ins are signed)');
  const { resolveTouch, signIdentity } = await loadSdk();
  const catalog = await loadProducts();
  const call = client(url.replace(/\/+$/, ''), { requests: 0, rateLimited: 0 });
  const categoryOf = (sku) => catalog.find((p) => p.sku === sku)?.category;
  const phone = { id: randomUUID(), token: randomUUID(), kind: 'mobile', session: randomUUID() };
  const laptop = { id: randomUUID(), token: randomUUID(), kind: 'desktop', session: randomUUID() };
  // The last minute on the phone, the laptop just now: every event is in the past, and the episode
  // falls due `after` the phone's last view (a minute in the demo), after the seeded month's.
  let at = now - MIN;
  const landing = '/?utm_source=pinterest&utm_medium=social';
  const touch = resolveTouch({ url: SHOP + landing, referrer: 'https://www.pinterest.com/', now: at });
  const page = (dev, path, extra = {}) => ({
    id: randomUUID(),
    type: 'page',
    at: (at += 10_000),
    path,
    title: path,
    session: dev.session,
    device: dev.kind,
    ...extra,
  });
  const phoneEvents = [
    ...(touch ? [{ id: randomUUID(), type: 'touch', at, touch }] : []),
    page(phone, '/'),
    ...products.map((sku) => page(phone, `/product/${sku}`, { product: sku, category: categoryOf(sku) })),
  ];
  const signIn = async (dev) => {
    const token = signIdentity({ userId, secret, site, deviceId: dev.id });
    await call('/v1/identify', { site, deviceId: dev.id, userId, token, device: dev.kind }, dev.token);
  };
  // The sign-in reaches the server before the phone's views, as when the SDK's batch goes out after
  // the login: the episode is the user's from the start, whatever the trigger's `after` (a test's 1 s
  // would otherwise let a poll find an anonymous, unreachable device between the two requests).
  await signIn(phone);
  await call('/v1/collect', { site, deviceId: phone.id, events: phoneEvents }, phone.token);
  at = now - 15_000;
  await signIn(laptop);
  await call('/v1/collect', { site, deviceId: laptop.id, events: [page(laptop, '/')] }, laptop.token);
  return { userId, products, phone: phone.id, laptop: laptop.id };
}

/**
 * Saves `share` as the `holdout` of each measured variant (TRUE_LIFT) in the site's config, where it
 * differs, and in `config` as read: the seed then holds out what the storefront holds out.
 */
async function saveMeasuredHoldout(base, config, share, adminKey, log) {
  const measured = (config?.variants ?? []).filter((v) => v.id in TRUE_LIFT && v.holdout !== share);
  if (!measured.length) return;
  // The whole config, as the admin key reads it: the public one lacks the triggers, and saving it
  // back would delete them.
  const site = encodeURIComponent(config.site);
  const full = await fetch(`${base}/v1/config?site=${site}`, {
    headers: { authorization: `Bearer ${adminKey}`, 'cache-control': 'no-cache' },
  });
  if (!full.ok) throw new Error(`cannot read the site's config with the admin key: GET /v1/config ${full.status}`);
  /** @type {any} */
  const whole = await full.json();
  for (const v of measured) v.holdout = share;
  for (const v of whole.variants ?? []) if (v.id in TRUE_LIFT) v.holdout = share;
  const res = await fetch(`${base}/v1/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify(whole),
  });
  if (!res.ok)
    throw new Error(`cannot save the holdout in the site's config: PUT /v1/config ${res.status} ${await res.text()}`);
  log(`seed: holdout ${share} saved in the config for ${measured.map((v) => v.id).join(', ')}`);
}

/** The demo's keys, made at its first start (examples/storefront/start.mjs), or {}. */
function demoKeys() {
  const path = fileURLToPath(new URL('../examples/storefront/.cairn/dev-keys.json', import.meta.url));
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

async function main() {
  const env = process.env;
  const url = env.CAIRN_SERVER_URL || 'http://localhost:8787';
  const visitors = Number(env.CAIRN_SEED_VISITORS ?? 3000);
  if (!Number.isInteger(visitors) || visitors < 0 || visitors > 100_000)
    throw new Error(`CAIRN_SEED_VISITORS must be an integer from 0 to 100000, got "${env.CAIRN_SEED_VISITORS}"`);
  // The demo's secret (examples/storefront/start.mjs keeps it there) unless the server runs with another.
  const secret = env.CAIRN_IDENTITY_SECRET || demoKeys().identitySecret || undefined;
  const adminKey = env.CAIRN_ADMIN_KEY || demoKeys().adminKey || undefined;
  const flatVisitors = Number(env.CAIRN_SEED_FLAT_VISITORS ?? 12_000);
  if (!Number.isInteger(flatVisitors) || flatVisitors < 0 || flatVisitors > 100_000)
    throw new Error(
      `CAIRN_SEED_FLAT_VISITORS must be an integer from 0 to 100000, got "${env.CAIRN_SEED_FLAT_VISITORS}"`,
    );
  const site = env.CAIRN_SITE || 'demo';
  const holdoutEnv = env.CAIRN_SEED_HOLDOUT || '0.5';
  const measuredHoldout = holdoutEnv === 'config' ? undefined : Number(holdoutEnv);
  if (measuredHoldout !== undefined && !(measuredHoldout >= 0 && measuredHoldout <= 0.5))
    throw new Error(`CAIRN_SEED_HOLDOUT must be a share from 0 to 0.5, or "config", got "${holdoutEnv}"`);
  if (measuredHoldout !== undefined && !adminKey)
    console.log('seed: no admin key (CAIRN_ADMIN_KEY), so the config keeps its holdouts');
  console.log(
    `seed: ${visitors} visitors and ${flatVisitors} more from the Facebook ad, over the last 30 days -> ${url} (site ${site})`,
  );
  const t0 = Date.now();
  const s = await seed({
    url,
    site,
    secret,
    visitors,
    flatVisitors,
    measuredHoldout,
    adminKey,
    seed: Number(env.CAIRN_SEED || 42),
    log: console.log,
  });
  console.log(
    `seed: done in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${s.visitors} visitors, ${s.devices} devices, ${s.events} events, ` +
      `${s.orders} orders, ${s.optins} opt-ins, ${s.identified} identified devices, ${s.requests} requests.`,
  );
  if (s.rateLimited)
    console.log(
      `seed: the server rate-limited ${s.rateLimited} requests; start it with CAIRN_RATE_IP=0 to seed faster.`,
    );
  if (!secret) return console.log('seed: no identity secret, so no cross-device journey for the triggers');
  const journey = await crossDevice({ url, site, secret });
  const emailTool = env.CAIRN_DEMO_EMAIL_URL || 'http://127.0.0.1:3001';
  console.log(
    `seed: ${journey.userId} viewed ${journey.products.join(', ')} on a phone, signed in and left, then signed in on a laptop.\n` +
      `seed: once the browse-abandon trigger's "after" has passed (1 minute in the demo), the email tool ` +
      `(${emailTool}) shows the email naming the phone's products, and the console's Deliveries shows it delivered.`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(`seed: ${e.message}`);
    process.exit(1);
  });
}
