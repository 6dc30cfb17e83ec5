// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SiteConfig, Touch, Variant, VariantContext } from '../src/types';
import { startVariants } from '../src/variants';
import { showDebug } from '../src/variants/debug';

const hostile = '"><img src=x onerror=alert(1)><script>window.__pwned=1</script>';
const evil: Touch = {
  source: 'pinterest',
  medium: 'social',
  channel: 'Organic Social',
  campaign: hostile,
  landingPath: '/',
  at: 1,
};
const first: Touch = { source: 'google', medium: 'organic', channel: 'Organic Search', landingPath: '/', at: 0 };
const variants: Variant[] = [
  {
    id: 'fb',
    name: 'Facebook',
    when: { source: 'facebook', touch: 'current' },
    slots: { title: { text: 'FB' } },
    priority: 0,
  },
  {
    id: 'pin',
    name: 'Pinterest',
    when: { source: 'pinterest', touch: 'current' },
    slots: { title: { text: 'PIN' } },
    priority: 0,
  },
  {
    id: 'mob',
    name: 'Mobile',
    when: { touch: 'current', device: 'mobile' },
    slots: { title: { text: 'M' } },
    priority: 0,
  },
];

function start(url: string, readyState?: string, vs = variants) {
  if (readyState) Object.defineProperty(document, 'readyState', { configurable: true, get: () => readyState });
  const c = {
    config: { site: 'demo', variants: vs } as SiteConfig,
    touches: { current: evil, first, last: null },
    device: 'desktop',
    url: new URL(url),
    doc: document,
    sticky: { get: () => undefined, set: vi.fn() },
    emit: vi.fn(),
    // The panel is the caller's to show (the script tag's deferred part).
    debug: showDebug,
  };
  startVariants(c as VariantContext);
}
const panel = () => document.querySelector('cairn-debug');
const lines = () => [...panel()!.shadowRoot!.querySelectorAll('div')].map((d) => d.textContent);

afterEach(() => {
  delete (document as unknown as Record<string, unknown>).readyState;
  document.body.innerHTML = '';
  document.querySelectorAll('cairn-debug').forEach((e) => e.remove());
});

describe('?cairn_debug=1 overlay', () => {
  it('shows the touches, the variant and why the others did not match', () => {
    document.body.innerHTML = '<h1 data-cairn-slot="title">Default</h1>';
    start('https://shop.example/?cairn_debug=1&utm_campaign=x');
    expect(panel()).not.toBeNull();
    expect(lines()).toEqual([
      `current: Organic Social / pinterest / social / ${hostile}`,
      'first: Organic Search / google / organic',
      'last: none',
      'variant: pin',
      '- fb: source is pinterest, wants facebook',
      '- mob: device is desktop, wants mobile',
    ]);
  });

  it('keeps a hostile utm_campaign as text: no element is created from it', () => {
    document.body.innerHTML = '<h1 data-cairn-slot="title">Default</h1>';
    start('https://shop.example/?cairn_debug=1');
    const root = panel()!.shadowRoot!;
    expect(root.textContent).toContain(hostile);
    expect(root.querySelectorAll('img, script')).toHaveLength(0);
    expect(document.querySelectorAll('img, script')).toHaveLength(0);
    expect([...root.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()).sort()).toEqual([
      'b',
      'button',
      ...Array(6).fill('div'),
    ]);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('sets a refused condition apart, as text, with why it was refused', () => {
    const redos = '/<img src=x onerror=alert(1)>(a+)+$/';
    const refused: Variant = {
      id: 'redos',
      name: 'R',
      when: { campaign: redos, touch: 'current' },
      slots: { title: { text: 'R' } },
      priority: 9,
    };
    document.body.innerHTML = '<h1 data-cairn-slot="title">Default</h1>';
    start('https://shop.example/?cairn_debug=1', undefined, [refused, ...variants]);
    const root = panel()!.shadowRoot!;
    const line = [...root.querySelectorAll('div')].find((d) => d.textContent!.includes('redos'))!;
    expect(line.textContent).toBe(`! redos: campaign condition ${redos} refused: nested quantifier`);
    expect(line.className).toBe('r');
    // Plain misses stay plain.
    expect(lines()).toContain('- fb: source is pinterest, wants facebook');
    expect(root.querySelectorAll('.r')).toHaveLength(1);
    expect(root.querySelectorAll('img')).toHaveLength(0);
    const css = [...root.adoptedStyleSheets].map((s) => [...s.cssRules].map((r) => r.cssText).join('')).join('');
    expect(css).toMatch(/\.r\s*\{[^}]*color/);
  });

  it('is fixed and styled from a constructable sheet, and closes', () => {
    start('https://shop.example/?cairn_debug=1');
    const root = panel()!.shadowRoot!;
    expect(root.adoptedStyleSheets).toHaveLength(1);
    expect(getComputedStyle(panel()!).position).toBe('fixed');
    root.querySelector('button')!.click();
    expect(panel()).toBeNull();
  });

  it('marks a preview, waits for the body while parsing, and stays off without the parameter', () => {
    start('https://shop.example/?cairn_debug=1&cairn_variant=mob', 'loading');
    expect(panel()).toBeNull();
    document.dispatchEvent(new Event('DOMContentLoaded'));
    expect(lines()).toContain('variant: mob (preview)');
    panel()!.remove();
    start('https://shop.example/?cairn_debug=0');
    expect(panel()).toBeNull();
  });
});
