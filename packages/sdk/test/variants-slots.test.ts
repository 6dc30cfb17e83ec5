// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SlotAction } from '../src/types';
import { applySlots, hideSlots, isSafeUrl } from '../src/variants';

const page = (html: string) => {
  document.body.innerHTML = html;
  return document;
};
const slot = (name: string) => document.querySelector<HTMLElement>(`[data-cairn-slot="${name}"]`)!;

afterEach(() => {
  document.body.innerHTML = '';
  document.adoptedStyleSheets = [];
  vi.useRealTimers();
});

describe('isSafeUrl', () => {
  it.each([
    'javascript:alert(1)',
    ' JaVaScRiPt:alert(1)',
    '\tjavascript:alert(1)',
    'java\tscript:alert(1)',
    'java\nscript:alert(1)',
    'java\u0000script:alert(1)',
    '\u0001javascript:alert(1)',
    'javascript&#58;alert(1)',
    'javascript&colon;alert(1)',
    '&#106;avascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'DATA:image/svg+xml;base64,PHN2Zz4=',
    'vbscript:msgbox(1)',
    'https:javascript:alert(1)',
    'a.jpg 1x, javascript:alert(1) 2x',
    'mailto:a@b.c',
  ])('refuses %j', (u) => expect(isSafeUrl(u)).toBe(false));

  it.each([
    'https://cdn.example.com/a.jpg',
    'HTTP://example.com/',
    '/img/hero.jpg',
    'img/hero.jpg',
    '../guide?x=a:b&y=1#top',
    '//cdn.example.com/a.jpg',
    '?utm=1',
    '#guide',
    '/a.jpg 1x, https://cdn.example.com/a@2x.jpg 2x',
  ])('allows %j', (u) => expect(isSafeUrl(u)).toBe(true));
});

describe('applySlots', () => {
  it('sets text with textContent only: markup stays text', () => {
    const doc = page('<h1 data-cairn-slot="title">Default <em>title</em></h1>');
    const evil = '"><img src=x onerror="window.__pwned=1">';
    expect(applySlots(doc, { title: { text: evil } })).toEqual(['title']);
    expect(slot('title').textContent).toBe(evil);
    expect(slot('title').children).toHaveLength(0);
    expect(doc.querySelector('img')).toBeNull();
  });

  it('sets src, srcset, alt and href when safe, dropping a default srcset that would win over src', () => {
    const doc = page(
      '<img data-cairn-slot="a" src="/d.jpg" srcset="/d.jpg 1x, /d2.jpg 2x" alt="d"><img data-cairn-slot="b" src="/d.jpg"><a data-cairn-slot="c" href="/default">go</a>',
    );
    applySlots(doc, {
      a: { src: 'https://cdn.example.com/life.jpg', alt: 'A lifestyle picture' },
      b: { src: '/b.jpg', srcset: '/b.jpg 1x, /b2.jpg 2x' },
      c: { href: '/guides/styling' },
    });
    expect(slot('a').getAttribute('src')).toBe('https://cdn.example.com/life.jpg');
    expect(slot('a').hasAttribute('srcset')).toBe(false);
    expect(slot('a').getAttribute('alt')).toBe('A lifestyle picture');
    expect(slot('b').getAttribute('srcset')).toBe('/b.jpg 1x, /b2.jpg 2x');
    expect(slot('c').getAttribute('href')).toBe('/guides/styling');
  });

  it('refuses unsafe URLs and keeps the default', () => {
    const doc = page(
      '<a data-cairn-slot="c" href="/default">go</a><img data-cairn-slot="i" src="/d.jpg" srcset="/d.jpg 1x">',
    );
    applySlots(doc, {
      c: { href: ' JaVaScRiPt:alert(1)' },
      i: { src: 'data:image/svg+xml,<svg onload=alert(1)>', srcset: '/ok.jpg 1x, java\tscript:alert(1) 2x' },
    });
    expect(slot('c').getAttribute('href')).toBe('/default');
    expect(slot('i').getAttribute('src')).toBe('/d.jpg');
    expect(slot('i').getAttribute('srcset')).toBe('/d.jpg 1x');
  });

  it('hides, reveals and adds classes', () => {
    const doc = page(
      '<div data-cairn-slot="guide" hidden class="box">g</div><div data-cairn-slot="promo">p</div><p data-cairn-slot="cta" class="btn">c</p>',
    );
    applySlots(doc, {
      guide: { hidden: false, addClass: 'guide--pin' },
      promo: { hidden: true },
      cta: { addClass: ['btn--big', 'bad class', 'x"y', 'ok_1'] },
    });
    expect(slot('guide').hidden).toBe(false);
    expect([...slot('guide').classList]).toEqual(['box', 'guide--pin']);
    expect(slot('promo').hidden).toBe(true);
    expect([...slot('cta').classList]).toEqual(['btn', 'btn--big', 'ok_1']);
  });

  it('is idempotent: marks applied slots and changes nothing the second time', () => {
    const doc = page('<h1 data-cairn-slot="t">x</h1><h2 data-cairn-slot="other">o</h2><h3 data-cairn-slot="t">y</h3>');
    const slots: Record<string, SlotAction> = { t: { text: 'New', addClass: 'v' } };
    expect(applySlots(doc, slots)).toEqual(['t', 't']);
    const html = doc.body.innerHTML;
    expect(doc.querySelectorAll('[data-cairn-applied]')).toHaveLength(2);
    expect(slot('other').hasAttribute('data-cairn-applied')).toBe(false);
    expect(applySlots(doc, slots)).toEqual([]);
    expect(doc.body.innerHTML).toBe(html);
  });

  it('repairs content the parser appended after the slot was applied', () => {
    const doc = page('<h1 data-cairn-slot="t"></h1>');
    applySlots(doc, { t: { text: 'New' } });
    slot('t').append('Default');
    applySlots(doc, { t: { text: 'New' } });
    expect(slot('t').textContent).toBe('New');
  });

  it('applies within an element root, and only own slot names', () => {
    const doc = page(
      '<section id="s"><b data-cairn-slot="constructor">c</b><b data-cairn-slot="toString">c</b></section><b data-cairn-slot="t">out</b>',
    );
    expect(applySlots(doc.getElementById('s')!, { t: { text: 'no' } })).toEqual([]);
    expect(slot('t').textContent).toBe('out');
    expect(applySlots(doc, {})).toEqual([]);
    expect(doc.querySelectorAll('[data-cairn-applied]')).toHaveLength(0);
  });
});

describe('hideSlots', () => {
  const vis = (el: Element) => getComputedStyle(el).visibility;

  it('hides unapplied slots until released, without a <style> tag or hiding the page', () => {
    const doc = page('<h1 data-cairn-slot="t">Default</h1><p id="other">text</p>');
    const release = hideSlots(doc);
    expect(vis(slot('t'))).toBe('hidden');
    expect(vis(doc.getElementById('other')!)).not.toBe('hidden');
    expect(vis(doc.body)).not.toBe('hidden');
    expect(doc.querySelector('style')).toBeNull();
    // A slot parsed later is hidden too, and shows as soon as it is applied.
    doc.body.insertAdjacentHTML('beforeend', '<h2 data-cairn-slot="u">Default</h2>');
    expect(vis(slot('u'))).toBe('hidden');
    applySlots(doc, { u: { text: 'New' } });
    expect(vis(slot('u'))).not.toBe('hidden');
    release();
    expect(vis(slot('t'))).not.toBe('hidden');
    expect(doc.adoptedStyleSheets).toHaveLength(0);
    release();
  });

  it('releases by itself after the timeout', () => {
    vi.useFakeTimers();
    const doc = page('<h1 data-cairn-slot="t">Default</h1>');
    hideSlots(doc, 300);
    vi.advanceTimersByTime(299);
    expect(vis(slot('t'))).toBe('hidden');
    vi.advanceTimersByTime(1);
    expect(vis(slot('t'))).not.toBe('hidden');
  });

  it('keeps other adopted sheets', () => {
    vi.useFakeTimers();
    const mine = new CSSStyleSheet();
    document.adoptedStyleSheets = [mine];
    const release = hideSlots(document, 300);
    expect(document.adoptedStyleSheets).toHaveLength(2);
    release();
    expect(document.adoptedStyleSheets).toEqual([mine]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
