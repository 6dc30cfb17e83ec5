// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SiteConfig, Touch, Variant, VariantContext } from '../src/types';
import { startVariants } from '../src/variants';

const hostile = '"><img src=x onerror=alert(1)><script>window.__pwned=1</script>';
const evil: Touch = { source: 'pinterest', medium: 'social', channel: 'Organic Social', campaign: hostile, landingPath: '/', at: 1 };
const first: Touch = { source: 'google', medium: 'organic', channel: 'Organic Search', landingPath: '/', at: 0 };
const variants: Variant[] = [
  { id: 'fb', name: 'Facebook', when: { source: 'facebook', touch: 'current' }, slots: { title: { text: 'FB' } }, priority: 0 },
  { id: 'pin', name: 'Pinterest', when: { source: 'pinterest', touch: 'current' }, slots: { title: { text: 'PIN' } }, priority: 0 },
  { id: 'mob', name: 'Mobile', when: { touch: 'current', device: 'mobile' }, slots: { title: { text: 'M' } }, priority: 0 },
];

function start(url: string, readyState?: string) {
  if (readyState) Object.defineProperty(document, 'readyState', { configurable: true, get: () => readyState });
  const c: VariantContext = {
    config: { site: 'demo', variants } as SiteConfig,
    touches: { current: evil, first, last: null },
    device: 'desktop',
    url: new URL(url),
    doc: document,
    sticky: { get: () => undefined, set: vi.fn() },
    emit: vi.fn(),
  };
  startVariants(c);
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
    expect([...root.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()).sort()).toEqual(['b', 'button', ...Array(6).fill('div')]);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
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
