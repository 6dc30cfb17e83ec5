// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SiteConfig, Touch, Touches, Variant, VariantContext } from '../src/types';
import { startVariants } from '../src/variants';

const touch = (o: Partial<Touch>): Touch => ({
  source: '(direct)',
  medium: '(none)',
  channel: 'Direct',
  landingPath: '/',
  at: 1,
  ...o,
});
const pin = touch({ source: 'pinterest', medium: 'social', channel: 'Organic Social' });
const goo = touch({ source: 'google', medium: 'organic', channel: 'Organic Search' });
const t = (current: Touch | null): Touches => ({ current, first: current, last: current });

const variants: Variant[] = [
  {
    id: 'pin-home',
    name: 'Pinterest',
    when: { source: 'pinterest', touch: 'current', path: '/' },
    slots: { title: { text: 'Pinterest title' }, guide: { hidden: false } },
    priority: 0,
  },
  {
    id: 'pin-cat',
    name: 'Pinterest categories',
    when: { source: 'pinterest', touch: 'current', path: '/category/*' },
    slots: { title: { text: 'Pinterest category' } },
    priority: 0,
  },
  {
    id: 'mobile',
    name: 'Mobile',
    when: { touch: 'current', device: 'mobile' },
    slots: { title: { text: 'Mobile title' } },
    priority: -1,
  },
];
const HTML = '<h1 data-cairn-slot="title">Default title</h1><div data-cairn-slot="guide" hidden>Guide</div>';

function store(initial?: string | null) {
  let v: string | null | undefined = initial;
  return { get: vi.fn(() => v), set: vi.fn((id: string | null) => void (v = id)) };
}

function ctx(
  o: {
    url?: string;
    touches?: Touches;
    device?: 'mobile' | 'desktop';
    sticky?: ReturnType<typeof store>;
    doc?: Document;
    vs?: Variant[];
  } = {},
) {
  const emit = vi.fn();
  const sticky = o.sticky ?? store();
  const c: VariantContext = {
    config: { site: 'demo', variants: o.vs ?? variants } as SiteConfig,
    touches: o.touches ?? t(pin),
    device: o.device ?? 'desktop',
    url: new URL(o.url ?? 'https://shop.example/'),
    doc: o.doc ?? document,
    sticky,
    emit,
  };
  return { c, emit, sticky };
}
const title = () => document.querySelector('[data-cairn-slot="title"]')!.textContent;

/** Makes the document look like it is still being parsed, until `done()`. */
function parsing() {
  let state = 'loading';
  Object.defineProperty(document, 'readyState', { configurable: true, get: () => state });
  return () => {
    state = 'interactive';
    document.dispatchEvent(new Event('DOMContentLoaded'));
  };
}

afterEach(() => {
  delete (document as unknown as Record<string, unknown>).readyState;
  document.body.innerHTML = '';
  document.querySelectorAll('cairn-debug').forEach((e) => e.remove());
});

describe('startVariants on a parsed page', () => {
  it('applies the matching variant, keeps it for the visit and emits variant_applied once', () => {
    document.body.innerHTML = HTML;
    const { c, emit, sticky } = ctx();
    startVariants(c);
    expect(title()).toBe('Pinterest title');
    expect(document.querySelector<HTMLElement>('[data-cairn-slot="guide"]')!.hidden).toBe(false);
    expect(sticky.set).toHaveBeenCalledWith('pin-home');
    expect(emit).toHaveBeenCalledTimes(1);
    expect(emit).toHaveBeenCalledWith('variant_applied', { variant: 'pin-home', slots: ['title', 'guide'] });
  });

  it('leaves the default and emits nothing when no variant matches, and keeps "none" for the visit', () => {
    document.body.innerHTML = HTML;
    const { c, emit, sticky } = ctx({ touches: t(goo) });
    startVariants(c);
    expect(title()).toBe('Default title');
    expect(emit).not.toHaveBeenCalled();
    expect(sticky.set).toHaveBeenCalledWith(null);
    // Next page, now on a mobile-sized window: still none for this visit.
    document.body.innerHTML = HTML;
    startVariants(ctx({ touches: t(goo), device: 'mobile', sticky }).c);
    expect(title()).toBe('Default title');
  });

  it('does not emit when none of the variant slots is on the page', () => {
    document.body.innerHTML = '<p data-cairn-slot="elsewhere">x</p>';
    const { c, emit, sticky } = ctx();
    startVariants(c);
    expect(emit).not.toHaveBeenCalled();
    expect(sticky.set).toHaveBeenCalledWith('pin-home');
  });
});

describe('stickiness across pages', () => {
  it('re-applies the kept variant where its path matches, even when the device changed', () => {
    const sticky = store();
    document.body.innerHTML = HTML;
    startVariants(ctx({ sticky, device: 'desktop' }).c);
    expect(sticky.get()).toBe('pin-home');
    // Back to the home page on a mobile-sized window: "mobile" would now win on priority… if it were not sticky.
    const vs = variants.map((v) => (v.id === 'mobile' ? { ...v, priority: 10 } : v));
    document.body.innerHTML = HTML;
    const { c, emit } = ctx({ sticky, device: 'mobile', vs });
    startVariants(c);
    expect(title()).toBe('Pinterest title');
    expect(emit).toHaveBeenCalledWith('variant_applied', { variant: 'pin-home', slots: ['title', 'guide'] });
    expect(sticky.set).toHaveBeenCalledTimes(1);
  });

  it("applies the page's own match where the kept variant's path does not match", () => {
    const sticky = store('pin-home');
    document.body.innerHTML = HTML;
    startVariants(ctx({ sticky, url: 'https://shop.example/category/dresses' }).c);
    expect(title()).toBe('Pinterest category');
    document.body.innerHTML = HTML;
    startVariants(ctx({ sticky, url: 'https://shop.example/product/sku-1' }).c);
    expect(title()).toBe('Default title');
    expect(sticky.set).not.toHaveBeenCalled();
  });

  it('landing on a page no variant targets does not cost the visitor the home page variant', () => {
    const sticky = store();
    document.body.innerHTML = HTML;
    startVariants(ctx({ sticky, url: 'https://shop.example/product/sku-1' }).c);
    expect(title()).toBe('Default title');
    expect(sticky.set).not.toHaveBeenCalled();
    document.body.innerHTML = HTML;
    startVariants(ctx({ sticky }).c);
    expect(title()).toBe('Pinterest title');
    expect(sticky.get()).toBe('pin-home');
  });

  it('decides again when the kept variant left the config', () => {
    const sticky = store('gone');
    document.body.innerHTML = HTML;
    startVariants(ctx({ sticky }).c);
    expect(title()).toBe('Pinterest title');
    expect(sticky.get()).toBe('pin-home');
  });
});

describe('preview', () => {
  it('forces the variant from ?cairn_variant and does not keep it', () => {
    const sticky = store('pin-home');
    document.body.innerHTML = HTML;
    const { c, emit } = ctx({ sticky, touches: t(goo), url: 'https://shop.example/?cairn_variant=mobile' });
    startVariants(c);
    expect(title()).toBe('Mobile title');
    expect(emit).toHaveBeenCalledWith('variant_applied', { variant: 'mobile', slots: ['title'], preview: true });
    expect(sticky.set).not.toHaveBeenCalled();
    expect(sticky.get()).toBe('pin-home');
  });
});

describe('before first paint, while the parser runs', () => {
  it('gives each slot its content in the same mutation batch the parser inserted it', async () => {
    const done = parsing();
    const { c, emit } = ctx();
    const observe = vi.spyOn(MutationObserver.prototype, 'observe');
    startVariants(c);
    // Chromium's parser appends a slot's late text into its last text node (the variant's own):
    // only a characterData record reports that. (happy-dom reports it either way, hence this check.)
    expect(observe).toHaveBeenCalledWith(document.documentElement, {
      childList: true,
      subtree: true,
      characterData: true,
    });
    observe.mockRestore();
    // Observers are called in creation order: this one runs after the SDK's, in the same microtask
    // checkpoint, i.e. before the browser could paint.
    const seen: (string | null)[] = [];
    const spy = new MutationObserver(() =>
      seen.push(document.querySelector('[data-cairn-slot="title"]')?.textContent ?? null),
    );
    spy.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
    const h1 = document.createElement('h1');
    h1.setAttribute('data-cairn-slot', 'title');
    h1.textContent = 'Default title';
    document.body.append(h1);
    await Promise.resolve();
    expect(seen[0]).toBe('Pinterest title');
    // The parser may append the slot's text after the element itself, in a later chunk: as a new
    // node, or (as Chromium does) into the slot's last text node, which is then the variant's own.
    h1.append(' (more default)');
    await Promise.resolve();
    expect(seen.at(-1)).toBe('Pinterest title');
    const n = seen.length;
    (h1.lastChild as Text).appendData(' (default)');
    await Promise.resolve();
    expect(seen.length).toBeGreaterThan(n);
    expect(seen.at(-1)).toBe('Pinterest title');
    expect(seen.every((s) => s === 'Pinterest title')).toBe(true);
    // Re-applying settles: the SDK's own textContent write must not wake its observer forever.
    const drain = async (n: number) => {
      for (let i = 0; i < n; i++) await Promise.resolve();
    };
    await drain(5);
    const calls = seen.length;
    await drain(20);
    expect(seen.length).toBe(calls);
    expect(emit).not.toHaveBeenCalled();
    document.body.insertAdjacentHTML('beforeend', '<div data-cairn-slot="guide" hidden>Guide</div>');
    done();
    expect(emit).toHaveBeenCalledTimes(1);
    expect(emit).toHaveBeenCalledWith('variant_applied', { variant: 'pin-home', slots: ['title', 'guide'] });
    expect(document.querySelector<HTMLElement>('[data-cairn-slot="guide"]')!.hidden).toBe(false);
    // Disconnected on DOMContentLoaded: later DOM changes are left alone.
    document.body.insertAdjacentHTML('beforeend', '<h1 data-cairn-slot="title" id="late">Late</h1>');
    await Promise.resolve();
    expect(document.getElementById('late')!.textContent).toBe('Late');
    spy.disconnect();
  });

  it('applies slots already parsed right away (script after the slots)', () => {
    document.body.innerHTML = HTML;
    parsing();
    startVariants(ctx().c);
    expect(title()).toBe('Pinterest title');
  });
});

describe('never throws into the page', () => {
  it.each([
    ['no config', { config: null }],
    ['variants not an array', { config: { variants: 'x' } }],
    [
      'junk variants',
      {
        config: {
          variants: [
            null,
            { id: 'x', slots: { title: null } },
            { id: 'y', when: null, slots: { title: { text: 1, addClass: 'a b' } } },
          ],
        },
      },
    ],
    [
      'sticky store throws',
      {
        sticky: {
          get: () => {
            throw new Error('storage');
          },
          set: () => {},
        },
      },
    ],
    ['no URL', { url: null }],
  ])('%s', (_, patch) => {
    document.body.innerHTML = HTML;
    const c = { ...ctx().c, ...patch } as unknown as VariantContext;
    expect(() => startVariants(c)).not.toThrow();
  });

  it('a failing emit does not throw', () => {
    document.body.innerHTML = HTML;
    const c = ctx().c;
    c.emit = () => {
      throw new Error('listener');
    };
    expect(() => startVariants(c)).not.toThrow();
    expect(title()).toBe('Pinterest title');
  });
});
