// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promptSchema, type Prompt, type TraitsMatcher } from '@cairn/schema';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { keepTraits } from '../src/core/traits';
import { pickPrompt, type PickInput } from '../src/prompts';
import type { DeviceState } from '../src/state/device-state';
import type { Profile, SiteConfig, Traits, Variant, VariantContext } from '../src/types';
import { matchVariant, startVariants } from '../src/variants';
import { traitsWhy } from '../src/variants/match';
import { fakeServer, freshDevice, idbDump, instances, settle, type FakeServer } from './core-helpers';

// CRM traits on the device: only an identified person's, only those the config names, decided on
// before first paint from the page after they arrive; wiped by a logout and by a denial, which the
// server hears of (a logout with reason 'denied').

/** The table the SDK and the server share (packages/server/src/triggers/traits-match.ts runs it too). */
const TABLE = JSON.parse(
  readFileSync(
    fileURLToPath(import.meta.url).replace(/sdk\/test\/[^/]+$/, 'schema/test/fixtures/traits-matching.json'),
    'utf8',
  ),
) as { cases: { matcher: TraitsMatcher; traits: Traits | null; matches: boolean; why: string }[] };

describe('matching', () => {
  test.each(TABLE.cases)('$why', ({ matcher, traits, matches }) => {
    expect(!traitsWhy(matcher, traits ?? undefined)).toBe(matches);
    // The same through a variant's when.traits…
    const v = { id: 'v', name: 'v', when: { touch: 'current', traits: matcher }, slots: { hero: { text: 'x' } } };
    const picked = matchVariant([v as unknown as Variant], {
      touches: { current: null, first: null, last: null },
      device: 'desktop',
      traits: traits ?? undefined,
    });
    expect(picked.variant?.id ?? null).toBe(matches ? 'v' : null);
  });

  test('the debug panel says why a traits variant did not apply', () => {
    const vs = [
      { id: 'vip', name: 'VIP', when: { touch: 'current', traits: { tier: 'vip' } }, slots: { hero: { text: 'x' } } },
      {
        id: 'loyal',
        name: 'Loyal',
        when: { touch: 'current', traits: { tier: ['gold', 'vip'], orders: 3 } },
        slots: { hero: { text: 'y' } },
      },
    ] as unknown as Variant[];
    const misses = (traits?: Traits) =>
      matchVariant(vs, { touches: { current: null, first: null, last: null }, device: 'desktop', traits }).misses.map(
        (m) => m.reason,
      );
    expect(misses()).toEqual(['traits not on this device yet', 'traits not on this device yet']);
    expect(misses({ tier: 'gold' })).toEqual(['trait tier is gold, wants vip', 'trait orders is missing, wants 3']);
    expect(misses({ tier: 'silver', orders: 3 })).toEqual([
      'trait tier is silver, wants vip',
      'trait tier is silver, wants gold or vip',
    ]);
    // A regex the browser refuses is told apart: the config needs fixing.
    const refused = matchVariant([{ ...vs[0]!, when: { touch: 'current', traits: { tier: '/(a+)+$/' } } }], {
      touches: { current: null, first: null, last: null },
      device: 'desktop',
      traits: { tier: 'aaa' },
    }).misses[0];
    expect(refused).toEqual({
      id: 'vip',
      reason: 'trait tier condition /(a+)+$/ refused: nested quantifier',
      refused: true,
    });
  });
});

describe('the visit’s kept variant', () => {
  const vip = {
    id: 'vip',
    name: 'VIP',
    when: { touch: 'current', traits: { tier: 'vip' }, path: '/' },
    slots: { hero: { text: 'Hello VIP' } },
  } as unknown as Variant;
  const run = (path: string, kept: string | null | undefined, traits?: Traits) => {
    document.body.innerHTML = '<h1 data-cairn-slot="hero">Default</h1>';
    const set = vi.fn();
    startVariants({
      config: { site: 'shop', variants: [vip] } as unknown as SiteConfig,
      touches: { current: null, first: null, last: null },
      traits,
      device: 'desktop',
      url: new URL('https://shop.example' + path),
      doc: document,
      sticky: { get: () => kept, set },
      emit: vi.fn(),
    } satisfies VariantContext);
    return { hero: document.querySelector('h1')!.textContent, set };
  };

  test('a kept traits variant applies only while the traits still match (a device moved to a fresh one has none)', () => {
    expect(run('/', 'vip', { tier: 'vip' }).hero).toBe('Hello VIP');
    expect(run('/', 'vip').hero).toBe('Default');
    expect(run('/', 'vip', { tier: 'gold' }).hero).toBe('Default');
  });

  test('"none" is kept only when no variant could match on any page, with the traits the device holds', () => {
    // A VIP on another page: the variant may match on the home page, so nothing is kept.
    expect(run('/category/x', undefined, { tier: 'vip' }).set).not.toHaveBeenCalled();
    // Anonymous: none could match; kept until the traits change (keepTraits clears it).
    expect(run('/category/x', undefined).set).toHaveBeenCalledWith(null);
  });
});

describe('prompts: audience.traits', () => {
  const prompt = promptSchema.parse({
    id: 'vip-sms',
    kind: 'optin',
    content: { title: 'VIP texts', cta: 'Join' },
    audience: { traits: { tier: 'vip' } },
  }) as Prompt;
  const input = (over: Partial<PickInput>): PickInput => ({
    pages: { session: 3, lifetime: 3 },
    path: '/',
    touch: null,
    device: 'desktop',
    identified: true,
    now: 1,
    sessionId: 's1',
    ...over,
  });
  const matches = (traits?: Traits) => (want: TraitsMatcher) => !traitsWhy(want, traits);

  test('for identified people whose traits match, and no one else', () => {
    // `traits` lets identified people in without `identified: true`: they are the only ones it can match.
    expect(pickPrompt([prompt], {}, input({ _traits: matches({ tier: 'VIP' }) }))?.id).toBe('vip-sms');
    expect(pickPrompt([prompt], {}, input({ _traits: matches({ tier: 'gold' }) }))).toBeNull();
    expect(pickPrompt([prompt], {}, input({ _traits: matches(undefined) }))).toBeNull();
    // No matcher handed over (an anonymous visitor's page), no match.
    expect(pickPrompt([prompt], {}, input({ identified: false }))).toBeNull();
    // A prompt without traits still keeps identified visitors out by default.
    const plain = promptSchema.parse({ id: 'p', kind: 'optin', content: { title: 't', cta: 'c' } }) as Prompt;
    expect(pickPrompt([plain], {}, input({ _traits: matches({ tier: 'vip' }) }))).toBeNull();
  });
});

describe('keepTraits', () => {
  const config = {
    site: 'shop',
    variants: [{ id: 'v', name: 'v', when: { traits: { tier: 'vip' } }, slots: { hero: { text: 'x' } } }],
    prompts: [{ id: 'p', kind: 'optin', content: { title: 't', cta: 'c' }, audience: { traits: { lapsed: false } } }],
  } as unknown as SiteConfig;
  const profile = (traits?: Traits): Profile => ({
    userId: 'ann',
    pageViews: [],
    products: [],
    categories: [],
    touches: [],
    firstTouch: null,
    lastTouch: null,
    optedIn: false,
    traits,
  });

  test('keeps only the traits the config names, only for an identified device', () => {
    const state: DeviceState = { _userId: 'ann' };
    keepTraits(state, profile({ tier: 'vip', lapsed: false, email: 'ann@example.com', ltv: 1234 }), config);
    expect(state._traits).toEqual({ tier: 'vip', lapsed: false });
    // A named trait the person lacks: an empty set, so the panel says which one is missing.
    keepTraits(state, profile({ email: 'ann@example.com' }), config);
    expect(state._traits).toEqual({});
    const anonymous: DeviceState = {};
    keepTraits(anonymous, profile({ tier: 'vip' }), config);
    expect(anonymous._traits).toBeUndefined();
    // A config that names no traits keeps none.
    const none: DeviceState = { _userId: 'ann' };
    keepTraits(none, profile({ tier: 'vip' }), { site: 'shop' } as SiteConfig);
    expect(none._traits).toBeUndefined();
  });

  test('an unvalidated config cannot make it keep what is not a trait', () => {
    const state: DeviceState = { _userId: 'ann' };
    const odd = {
      site: 'shop',
      variants: [null, 'x', { when: { traits: { constructor: 'x', toString: true } } }],
      prompts: { not: 'a list' },
    } as unknown as SiteConfig;
    keepTraits(state, profile({ tier: 'vip' }), odd);
    expect(state._traits).toEqual({});
  });

  test('a change clears the visit’s kept variant, so the next page decides afresh; no change keeps it', () => {
    const state: DeviceState = { _userId: 'ann', _variant: null };
    keepTraits(state, profile({ tier: 'vip' }), config);
    expect(state).toMatchObject({ _traits: { tier: 'vip' }, _variant: undefined });
    state._variant = 'v';
    keepTraits(state, profile({ tier: 'vip' }), config);
    expect(state._variant).toBe('v');
  });
});

describe('on the device', () => {
  let srv: FakeServer;
  const { open, start, make } = instances();
  const stored = () => JSON.parse(localStorage.getItem('cairn') || 'null') as Record<string, unknown> | null;
  const hero = () => document.querySelector('h1')!.textContent;
  /** A page load: the slot as the server sent it, then the SDK (head and core at once). */
  const page = (o = {}) => {
    document.body.innerHTML = '<h1 data-cairn-slot="hero">Default</h1>';
    return make({ config: CONFIG, ...o });
  };
  const CONFIG = {
    site: 'shop',
    variants: [{ id: 'vip', name: 'VIP', when: { traits: { tier: 'vip' } }, slots: { hero: { text: 'Hello VIP' } } }],
    measurement: { holdout: 0 },
  } as unknown as SiteConfig;
  const VIP = { tier: 'vip', email: 'ann@example.com', lifetimeValue: 1234 };
  let beacons: { url: string; body: string }[];

  beforeEach(() => {
    freshDevice();
    history.replaceState(null, '', '/');
    srv = fakeServer();
    srv.config = CONFIG;
    vi.stubGlobal('fetch', srv.fetch);
    beacons = [];
    vi.spyOn(navigator, 'sendBeacon').mockImplementation(
      (url, body) => (beacons.push({ url: String(url), body: String(body) }), true),
    );
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.ready));
    await settle();
  });

  test('anonymous: no traits and no variant; after login, only the named traits are kept, and the next page has the variant before first paint', async () => {
    srv.traits.set('ann', VIP);
    const first = page();
    // Decided synchronously, before the first paint: nothing to go on yet.
    expect(hero()).toBe('Default');
    await first.ready;
    await first.page();
    await settle(10);
    expect(stored()!.r).toBeUndefined();
    await first.identify('ann', 'signed:ann');
    expect(stored()!.r).toEqual({ tier: 'vip' });
    // Not on this page: no content changes under the visitor's eyes.
    expect(hero()).toBe('Default');
    // The trait the config does not name stays out of the state the head reads on every page.
    expect(localStorage.getItem('cairn')).not.toContain('ann@example.com');
    expect(localStorage.getItem('cairn')).not.toContain('lifetimeValue');

    page();
    expect(hero()).toBe('Hello VIP');
  });

  test('a person without the trait never gets the variant', async () => {
    srv.traits.set('bob', { tier: 'gold' });
    const c = page();
    await c.ready;
    await c.identify('bob', 'signed:bob');
    expect(stored()!.r).toEqual({ tier: 'gold' });
    const next = page();
    expect(hero()).toBe('Default');
    await next.ready;
    await settle(10);
    expect(hero()).toBe('Default');
  });

  test('the backend changes the traits: the pull brings them, and the next page decides afresh', async () => {
    srv.traits.set('ann', { tier: 'gold' });
    const c = page();
    await c.ready;
    await c.identify('ann', 'signed:ann');
    const second = page();
    expect(hero()).toBe('Default');
    await second.profile();
    // "No variant" was kept for the visit.
    expect(stored()!.x).toBeNull();
    srv.traits.set('ann', { tier: 'VIP' });
    const third = page();
    // Still the traits this device held when the page started.
    expect(hero()).toBe('Default');
    await third.profile();
    await settle(10);
    expect(stored()!.r).toEqual({ tier: 'VIP' });
    expect(stored()!.x).toBeUndefined();
    page();
    expect(hero()).toBe('Hello VIP');
  });

  test('reset() wipes the traits with the rest: the next page is anonymous', async () => {
    srv.traits.set('ann', VIP);
    const c = page();
    await c.ready;
    await c.identify('ann', 'signed:ann');
    await c.reset();
    expect(stored()!.r).toBeUndefined();
    expect(JSON.stringify(await idbDump())).not.toContain('vip');
    const next = page();
    expect(hero()).toBe('Default');
    await next.ready;
    await settle(10);
    expect(stored()!.r).toBeUndefined();
  });

  test('a denial wipes the traits, and the server hears it first: a logout with reason denied', async () => {
    srv.traits.set('ann', VIP);
    const c = page();
    await c.ready;
    await c.identify('ann', 'signed:ann');
    const device = stored()!.d;
    const token = stored()!.t;
    c.consent('denied');
    await settle(10);
    expect(localStorage.getItem('cairn')).toBeNull();
    expect(await idbDump()).toEqual({});
    const logouts = srv.requests.filter((r) => r.path.startsWith('/v1/logout'));
    expect(logouts).toEqual([
      expect.objectContaining({
        body: { site: 'shop', deviceId: device, reason: 'denied' },
        headers: expect.objectContaining({ authorization: 'Bearer ' + token }),
      }),
    ]);
    expect(srv.revoked.has(device as string)).toBe(true);
    expect(beacons).toEqual([]);
  });

  test('a denial offline goes by beacon, with the token and the reason; nothing of the device is kept to ask again', async () => {
    const c = await start();
    await c.page();
    await c.flush();
    const device = stored()!.d;
    const token = stored()!.t;
    srv.down = true;
    c.consent('denied');
    await settle(10);
    expect(beacons).toHaveLength(1);
    expect(beacons[0]!.url).toBe('http://sync.test/v1/logout?site=shop');
    expect(JSON.parse(beacons[0]!.body)).toEqual({
      site: 'shop',
      deviceId: device,
      deviceToken: token,
      reason: 'denied',
    });
    expect(Object.keys(localStorage).filter((k) => k.startsWith('cairn') && k !== 'cairn.denied')).toEqual([]);
    expect(localStorage.getItem('cairn.revoke')).toBeNull();
  });

  test('no denial request without a device the server could know: consent never granted, or no server', async () => {
    const pending = await start({ consent: 'pending' });
    await pending.page();
    pending.consent('denied');
    await settle(10);
    const local = await start({ server: undefined });
    await local.page();
    local.consent('denied');
    await settle(10);
    expect(srv.requests.filter((r) => r.path.startsWith('/v1/logout'))).toEqual([]);
    expect(beacons).toEqual([]);
  });

  test('a denial in another tab: this tab stops and forgets, and does not tell the server again', async () => {
    const c = await start();
    await c.page();
    await c.flush();
    const sent = srv.requests.length;
    // The denying tab wiped the shared state and set the marker; this tab hears of it.
    localStorage.removeItem('cairn');
    window.dispatchEvent(new StorageEvent('storage', { key: 'cairn.denied', newValue: '1' }));
    await settle(10);
    expect(srv.requests.slice(sent)).toEqual([]);
    expect(beacons).toEqual([]);
  });
});
