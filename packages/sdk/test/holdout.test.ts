// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { createCairn, type Cairn } from '../src/cairn';
import { startPrompts } from '../src/prompts';
import { readState, writeState } from '../src/state/device-state';
import type { Kv, PromptContext, SiteConfig, SiteConfigInput, VariantContext } from '../src/types';
import { uuid } from '../src/uuid';
import { heldOut, place } from '../src/variants/holdout';
import { startVariants } from '../src/variants/start';
import { fakeServer, freshDevice, settle, type FakeServer } from './core-helpers';

// Holdouts: who is kept on the default, and that the arm never flips for a person.

const HTML = '<h1 data-cairn-slot="hero">Default</h1>';
const PIN = '/?utm_source=pinterest&utm_medium=social';
const config = (holdout?: number): SiteConfigInput => ({
  site: 'shop',
  variants: [
    {
      id: 'pin',
      name: 'Pinterest',
      when: { source: 'pinterest' },
      slots: { hero: { text: 'Hello Pinterest' } },
      ...(holdout != null && { holdout }),
    },
  ],
});

let srv: FakeServer;
const open: Cairn[] = [];
beforeEach(() => {
  freshDevice();
  history.replaceState(null, '', '/');
  document.body.innerHTML = HTML;
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.ready));
  await settle();
});

/** A page load of the script tag (head and core) on `path`, with the page's slot in its default. */
const load = async (path: string, holdout?: number) => {
  history.replaceState(null, '', path);
  document.body.innerHTML = HTML;
  const c = createCairn({ site: 'shop', server: 'http://sync.test', config: config(holdout) as SiteConfig });
  open.push(c);
  const arm = document.querySelector('h1')!.textContent === 'Default' ? 'held' : 'treated';
  await c.ready;
  await settle(10);
  await c.flush();
  return arm;
};
const sent = (type: string) => [...srv.events.values()].filter((e) => e.type === type);

/** Seeded (mulberry32, as the server tests' `prng`), so the bounds are checked on the same ids on every run. */
const prng = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};
/** `count` version-4-shaped ids from `seed`: random-looking, the same on every run. */
const seededIds = (seed: number, count: number) => {
  const random = prng(seed);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  return Array.from({ length: count }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`);
};

describe('assignment', () => {
  const bounds = (share: number, n: number) => 3 * Math.sqrt((share * (1 - share)) / n);

  test.each([0.1, 0.5])('holds out %s of 2,000 ids, within binomial bounds (3 sigma)', (share) => {
    const ids = seededIds(7, 2000);
    const held = ids.filter((id) => heldOut({}, id, 'pin', share)).length / ids.length;
    expect(Math.abs(held - share)).toBeLessThanOrEqual(bounds(share, ids.length));
    // Another variant splits the same people independently: not the same half held out of both.
    const both = ids.filter((id) => heldOut({}, id, 'pin', share) && heldOut({}, id, 'other', share)).length;
    expect(Math.abs(both / ids.length - share * share)).toBeLessThanOrEqual(bounds(share * share, ids.length));
  });

  test('items whose ids differ only at the end hold out independent people (20,000 ids)', () => {
    const ids = seededIds(16, 20_000);
    for (const [a, b] of [
      ['variant-1', 'variant-2'],
      ['hero-a', 'hero-b'],
      ['prompt:popin-1', 'prompt:popin-2'],
    ]) {
      const inA = ids.filter((id) => heldOut({}, id, a!, 0.1));
      const inBoth = inA.filter((id) => heldOut({}, id, b!, 0.1));
      expect(Math.abs(inA.length / ids.length - 0.1)).toBeLessThanOrEqual(bounds(0.1, ids.length));
      // Held out of B, among those held out of A: B's share, as for anyone (not nearly all of them).
      expect(Math.abs(inBoth.length / inA.length - 0.1), `${a} / ${b}`).toBeLessThanOrEqual(bounds(0.1, inA.length));
    }
  });

  test('the same id and variant always land in the same place in [0, 1)', () => {
    const id = uuid();
    const at = place(id + ' pin');
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(1);
    expect(place(id + ' pin')).toBe(at);
    expect(heldOut({}, id, 'pin', 0.5)).toBe(at < 0.5);
  });

  test('a holdout of 0 never holds out, not even a visitor kept in the holdout before', () => {
    for (let i = 0; i < 2000; i++) expect(heldOut({}, uuid(), 'pin', 0)).toBe(false);
    expect(heldOut({ _arms: { pin: true } }, uuid(), 'pin', 0)).toBe(false);
  });

  test('an arm once kept wins over the hash (a device id may change; the arm does not)', () => {
    const id = uuid();
    const state = {};
    const first = heldOut(state, id, 'pin', 0.5);
    expect(state).toEqual({ _arms: { pin: first } });
    // Another id, or another share, changes nothing once decided.
    for (let i = 0; i < 50; i++) expect(heldOut(state, uuid(), 'pin', 0.5)).toBe(first);
    expect(heldOut(state, id, 'pin', first ? 0.01 : 0.49)).toBe(first);
  });
});

describe('the script tag', () => {
  test('both arms occur, and each visitor keeps theirs across pages, reloads, tabs and a new session', async () => {
    const seen = new Set<string>();
    for (let visitor = 0; visitor < 40 && seen.size < 2; visitor++) {
      freshDevice();
      vi.stubGlobal('fetch', srv.fetch);
      const arm = await load(PIN, 0.5);
      seen.add(arm);
      const device = readState()!._deviceId!;
      expect(readState()!._arms).toEqual({ pin: arm === 'held' });
      // The head decided with the id the device keeps: the hash of that id says the same.
      expect(place(device + ' pin') < 0.5).toBe(arm === 'held');
      // Another page, a reload, a second tab while the first is open.
      expect(await load('/')).toBe(arm);
      expect(await load('/')).toBe(arm);
      expect(await Promise.all([load('/?tab=2'), load('/?tab=3')])).toEqual([arm, arm]);
      // A new visit from Pinterest later: a new session, the same arm.
      const state = readState()!;
      writeState({ ...state, _lastActivity: Date.now() - 3 * 3600e3 });
      expect(await load(PIN + '&utm_campaign=again')).toBe(arm);
      expect(readState()!._sessionId).not.toBe(state._sessionId);
      // The exposure events follow the arm: one kind only per visitor, one per page.
      const mine = [...srv.events.values()].filter((e) => e.deviceId === device);
      const applied = mine.filter((e) => e.type === 'variant_applied');
      const held = mine.filter((e) => e.type === 'variant_held');
      expect(arm === 'held' ? [applied.length, held.length] : [held.length, applied.length]).toEqual([0, 6]);
      for (const e of [...applied, ...held]) expect(e).toMatchObject({ variant: 'pin', slots: ['hero'] });
    }
    expect([...seen].sort()).toEqual(['held', 'treated']);
  });

  test('a holdout of 0 applies the variant to every visitor; left out, 0.1 of them are held out', async () => {
    for (let visitor = 0; visitor < 20; visitor++) {
      freshDevice();
      vi.stubGlobal('fetch', srv.fetch);
      expect(await load(PIN, 0)).toBe('treated');
    }
    expect(sent('variant_held')).toEqual([]);
    // The default: the arm is the hash's at 0.1.
    freshDevice();
    vi.stubGlobal('fetch', srv.fetch);
    const arm = await load(PIN);
    expect(arm === 'held').toBe(place(readState()!._deviceId + ' pin') < 0.1);
  });

  test('a kept arm applies before first paint, even where the hash would say otherwise', async () => {
    const id = 'device-held-000001';
    const treatedByHash = place(id + ' pin') >= 0.5;
    document.cookie = `cairn_id=${id}; path=/`;
    writeState({ _deviceId: id, _arms: { pin: treatedByHash } });
    expect(await load(PIN, 0.5)).toBe(treatedByHash ? 'held' : 'treated');
  });

  test('a preview bypasses the holdout and is never counted: variant_applied with preview: true', async () => {
    const id = 'device-held-000002';
    document.cookie = `cairn_id=${id}; path=/`;
    writeState({ _deviceId: id, _arms: { pin: true } });
    expect(await load(PIN + '&cairn_variant=pin', 0.5)).toBe('treated');
    expect(sent('variant_held')).toEqual([]);
    expect(sent('variant_applied')).toEqual([expect.objectContaining({ variant: 'pin', preview: true })]);
    // The preview decides no arm, and leaves the kept one alone.
    expect(readState()!._arms).toEqual({ pin: true });
    freshDevice();
    vi.stubGlobal('fetch', srv.fetch);
    await load('/?cairn_variant=pin', 0.5);
    expect(readState()!._arms).toBeUndefined();
  });

  test('after a login, the arm of the person’s first exposure (on another device) wins for later pages', async () => {
    // The sync server's answer: the arm of the user's earliest exposure event, as the real one derives it.
    const withArms = async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await srv.fetch(input, init);
      const path = new URL(String(input)).pathname;
      if ((path !== '/v1/identify' && path !== '/v1/profile') || response.status !== 200) return response;
      const body = await response.json();
      const profile = path === '/v1/identify' ? body.profile : body;
      const user = profile?.userId;
      const devices = [...srv.links].filter(([, u]) => u === user).map(([d]) => d);
      const exposures = [...srv.events.values()]
        .filter((e) => devices.includes(e.deviceId) && /^variant_(applied|held)$/.test(e.type) && !e.preview)
        .sort((a, b) => a.at - b.at);
      const variants: Record<string, string> = {};
      for (const e of exposures) variants[e.variant] ??= e.type === 'variant_held' ? 'held' : 'treated';
      if (profile) profile.arms = { variants, prompts: {} };
      return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
    };
    vi.stubGlobal('fetch', withArms);
    const arm = await load(PIN, 0.5);
    const other = arm === 'held' ? 'variant_applied' : 'variant_held';
    // The same person, an hour earlier on their phone, in the other arm.
    srv.links.set('device-phone-0001', 'ann');
    srv.events.set('phone-exposure-1', {
      id: 'phone-exposure-1',
      type: other,
      variant: 'pin',
      slots: ['hero'],
      at: Date.now() - 3600e3,
      deviceId: 'device-phone-0001',
    });
    await open.at(-1)!.identify('ann', 'signed:ann');
    await settle(10);
    const flipped = arm === 'held' ? 'treated' : 'held';
    expect(readState()!._arms).toEqual({ pin: flipped === 'held' });
    expect(await load('/')).toBe(flipped);
    expect(await load(PIN)).toBe(flipped);
  });
});

describe('before consent', () => {
  const EXPOSURES = ['variant_applied', 'variant_held', 'prompt_shown', 'prompt_held'];

  test('no arm: a visitor sees the variant on every page and no exposure is recorded, nor sent on a grant', async () => {
    // Ten visitors of three pages at a holdout of 0.5: an arm drawn per page would hold most of them out somewhere.
    for (let visitor = 0; visitor < 10; visitor++) {
      freshDevice();
      vi.stubGlobal('fetch', srv.fetch);
      let last: Cairn | undefined;
      // Nothing persists before consent, so each page matches on its own touch: the landing, reloaded.
      for (const path of [PIN, PIN, PIN + '&p=3']) {
        history.replaceState(null, '', path);
        document.body.innerHTML = HTML;
        last = createCairn({
          site: 'shop',
          server: 'http://sync.test',
          consent: 'pending',
          config: config(0.5) as SiteConfig,
        });
        open.push(last);
        expect(document.querySelector('h1')!.textContent).toBe('Hello Pinterest');
        await last.ready;
        await settle(10);
      }
      // Granted on the third page: what it held is sent (its touch), with no exposure; no arm is decided yet.
      last!.consent('granted');
      await last!.flush();
      await settle(10);
      expect(sent('touch').length).toBe(visitor + 1);
      expect([...srv.events.values()].filter((e) => EXPOSURES.includes(e.type))).toEqual([]);
      expect(readState()!._arms).toBeUndefined();
    }
  });

  test('after a grant, the arm is decided once, on the first page with consent, with the id kept', async () => {
    const seen = new Set<string>();
    for (let visitor = 0; visitor < 40 && seen.size < 2; visitor++) {
      freshDevice();
      vi.stubGlobal('fetch', srv.fetch);
      history.replaceState(null, '', PIN);
      document.body.innerHTML = HTML;
      const first = createCairn({
        site: 'shop',
        server: 'http://sync.test',
        consent: 'pending',
        config: config(0.5) as SiteConfig,
      });
      open.push(first);
      await first.ready;
      first.consent('granted');
      await first.flush();
      await settle(10);
      const device = readState()!._deviceId!;
      // The grant is remembered: the next pages start granted, and decide with the kept id.
      const arm = await load('/?utm_source=pinterest&utm_medium=social&n=2', 0.5);
      seen.add(arm);
      expect(readState()!._deviceId).toBe(device);
      expect(readState()!._arms).toEqual({ pin: arm === 'held' });
      expect(place(device + ' pin') < 0.5).toBe(arm === 'held');
      expect(await load('/', 0.5)).toBe(arm);
      expect(await load('/', 0.5)).toBe(arm);
      const mine = [...srv.events.values()].filter((e) => e.deviceId === device && /^variant_/.test(e.type));
      expect(mine.map((e) => e.type)).toEqual(Array(3).fill(arm === 'held' ? 'variant_held' : 'variant_applied'));
    }
    expect([...seen].sort()).toEqual(['held', 'treated']);
  });

  test('a prompt shows with no holdout, and no prompt_shown or prompt_held is recorded', async () => {
    const prompt = {
      id: 'guide',
      kind: 'optin' as const,
      trigger: { afterPages: 1, scope: 'session' as const },
      content: { title: 'Get the guide', cta: 'Send it' },
      holdout: 0.5,
    };
    for (let visitor = 0; visitor < 10; visitor++) {
      freshDevice();
      vi.stubGlobal('fetch', srv.fetch);
      document.body.innerHTML = '<main></main>';
      const c = createCairn({
        site: 'shop',
        server: 'http://sync.test',
        consent: 'pending',
        config: { site: 'shop', prompts: [prompt] } as unknown as SiteConfig,
      });
      open.push(c);
      const recorded: string[] = [];
      c.on('*', (e) => recorded.push((e as { type: string }).type));
      await c.ready;
      await c.page();
      await settle(10);
      expect(document.querySelector('[data-cairn-prompt]')).not.toBeNull();
      expect(recorded.filter((type) => EXPOSURES.includes(type))).toEqual([]);
      expect(readState()).toBeUndefined();
    }
  });
});

describe('the variant held out', () => {
  /** A variant context for a visitor in the holdout, on a page still being parsed. */
  const heldContext = (url = 'https://shop.example/?cairn_debug=1') => {
    const emit = vi.fn();
    const debug = vi.fn();
    const c: VariantContext = {
      config: config(0.5) as SiteConfig,
      touches: {
        current: { source: 'pinterest', medium: 'social', channel: 'Organic Social', landingPath: '/', at: 1 },
        first: null,
        last: null,
      },
      device: 'desktop',
      url: new URL(url),
      doc: document,
      sticky: { get: () => undefined, set: vi.fn(), _heldOut: () => true },
      emit,
      debug,
    };
    return { c, emit, debug };
  };

  test('never shows the variant at any frame; sends variant_held when the page is parsed; the panel says so', async () => {
    let state = 'loading';
    Object.defineProperty(document, 'readyState', { configurable: true, get: () => state });
    document.body.innerHTML = '';
    const { c, emit, debug } = heldContext();
    const frames: string[] = [];
    const watch = new MutationObserver(() =>
      document.querySelectorAll('[data-cairn-slot]').forEach((e) => frames.push(e.textContent!)),
    );
    watch.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
    startVariants(c);
    document.body.innerHTML = HTML;
    await settle(1);
    document.body.insertAdjacentHTML('beforeend', '<p data-cairn-slot="hero">Default</p>');
    await settle(1);
    expect(emit).not.toHaveBeenCalled();
    state = 'interactive';
    document.dispatchEvent(new Event('DOMContentLoaded'));
    await settle(1);
    watch.disconnect();
    expect(new Set(frames)).toEqual(new Set(['Default']));
    expect(document.querySelector('[data-cairn-applied]')).toBeNull();
    expect(emit.mock.calls).toEqual([['variant_held', { variant: 'pin', slots: ['hero'] }]]);
    expect(debug.mock.calls[0]![2]).toBe('pin (held out)');
    Object.defineProperty(document, 'readyState', { configurable: true, get: () => 'complete' });
  });

  test('a page without the variant’s slots counts no exposure, in either arm', () => {
    document.body.innerHTML = '<h1>No slot here</h1>';
    const { c, emit } = heldContext();
    startVariants(c);
    startVariants({ ...c, sticky: { ...c.sticky, _heldOut: () => false } });
    expect(emit).not.toHaveBeenCalled();
  });
});

describe('prompts', () => {
  const PROMPT = {
    id: 'guide',
    kind: 'optin' as const,
    trigger: { afterPages: 1, scope: 'session' as const },
    content: { title: 'Get the guide', cta: 'Send it' },
    contentBySource: { pinterest: { title: 'Pinned it?' } },
    holdout: 0.5,
  };
  const memory = (): Kv => {
    const data = new Map<string, unknown>();
    return {
      get: async <T>(k: string) => data.get(k) as T | undefined,
      set: async (k, v) => void data.set(k, v),
      del: async (k) => void data.delete(k),
      update: async <T>(k: string, fn: (old: T | undefined) => T) => {
        const v = fn(data.get(k) as T | undefined);
        data.set(k, v);
        return v;
      },
    };
  };
  const context = (held: boolean) => {
    const emit = vi.fn();
    const heldOutOf = vi.fn((_key: string, _share: number) => held);
    const ctx: PromptContext = {
      config: { site: 'shop', prompts: [PROMPT] } as unknown as SiteConfig,
      doc: document,
      device: 'desktop',
      path: '/',
      touch: { source: 'pinterest', medium: 'social', channel: 'Organic Social', landingPath: '/', at: 1 },
      sessionId: 's1',
      pages: { session: 1, lifetime: 1 },
      identified: false,
      kv: memory(),
      emit,
      submitOptin: async () => {},
      returnUrl: '/',
      _heldOut: heldOutOf,
    };
    return { ctx, emit, heldOutOf };
  };

  test('held out: no prompt, and prompt_held with the props prompt_shown has, once per visit as shown', async () => {
    document.body.innerHTML = '<main></main>';
    const treated = context(false);
    expect((await startPrompts(treated.ctx))?.id).toBe('guide');
    const shown = treated.emit.mock.calls.find(([type]) => type === 'prompt_shown')![1];
    document.body.innerHTML = '<main></main>';

    const held = context(true);
    expect(await startPrompts(held.ctx)).toBeNull();
    expect(document.querySelector('[data-cairn-prompt]')).toBeNull();
    expect(held.emit.mock.calls).toEqual([['prompt_held', shown]]);
    expect(held.heldOutOf).toHaveBeenCalledWith('prompt:guide', 0.5);
    // The claim is the same as a shown prompt's: the next page of the visit gets nothing, nor another exposure.
    expect(await startPrompts(held.ctx)).toBeNull();
    expect(held.emit).toHaveBeenCalledTimes(1);
  });

  test('through the core: the prompt’s arm is kept on the device beside the variants’', async () => {
    document.body.innerHTML = '<main></main>';
    const id = 'device-held-000003';
    document.cookie = `cairn_id=${id}; path=/`;
    writeState({ _deviceId: id, _arms: { 'prompt:guide': true } });
    const c = createCairn({
      site: 'shop',
      server: 'http://sync.test',
      config: { site: 'shop', prompts: [PROMPT] } as unknown as SiteConfig,
    });
    open.push(c);
    const events: string[] = [];
    c.on('*', (e) => events.push((e as { type: string }).type));
    await c.ready;
    await c.page();
    await settle(10);
    expect(events).toContain('prompt_held');
    expect(events).not.toContain('prompt_shown');
    expect(document.querySelector('[data-cairn-prompt]')).toBeNull();
    expect(readState()!._arms).toEqual({ 'prompt:guide': true });
  });
});
