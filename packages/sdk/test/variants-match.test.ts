import { describe, expect, it } from 'vitest';
import type { Touch, Touches, Variant } from '../src/types';
import { globMatch, matchVariant } from '../src/variants';

const touch = (o: Partial<Touch>): Touch => ({
  source: '(direct)',
  medium: '(none)',
  channel: 'Direct',
  landingPath: '/',
  at: 1,
  ...o,
});
const pin = touch({ source: 'pinterest', medium: 'social', channel: 'Organic Social', campaign: 'Spring_Looks' });
const fb = touch({
  source: 'facebook',
  medium: 'paid_social',
  channel: 'Paid Social',
  campaign: 'summer-sale',
  content: 'carousel',
});
const goo = touch({ source: 'google', medium: 'organic', channel: 'Organic Search' });
const touches = (current: Touch | null, first: Touch | null = current, last: Touch | null = current): Touches => ({
  current,
  first,
  last,
});

let n = 0;
const V = (when: Partial<Variant['when']>, priority = 0, id = `v${++n}`): Variant =>
  ({ id, name: id, when: { touch: 'current', ...when }, slots: { hero: { text: id } }, priority }) as Variant;
const pick = (vs: Variant[], t: Touches, o: { device?: 'mobile' | 'desktop'; path?: string; preview?: string } = {}) =>
  matchVariant(vs, { touches: t, device: o.device ?? 'desktop', path: o.path ?? '/', preview: o.preview });

describe('matchVariant', () => {
  it('picks the highest priority among matching variants, ties to the first declared', () => {
    const a = V({ source: 'pinterest' }, 1, 'a');
    const b = V({ channel: 'Organic Social' }, 5, 'b');
    const c = V({ medium: 'social' }, 5, 'c');
    const d = V({ source: 'facebook' }, 9, 'd');
    const r = pick([a, b, c, d], touches(pin));
    expect(r.variant?.id).toBe('b');
    expect(r.misses).toEqual([
      { id: 'a', reason: 'lost to b' },
      { id: 'c', reason: 'lost to b' },
      { id: 'd', reason: 'source is pinterest, wants facebook' },
    ]);
    expect(pick([c, b], touches(pin)).variant?.id).toBe('c');
    expect(pick([a, d], touches(fb)).variant?.id).toBe('d');
  });

  it('returns null with a reason for each variant when nothing matches', () => {
    const r = pick([V({ source: 'pinterest' }, 0, 'p'), V({ medium: ['email', 'newsletter'] }, 0, 'e')], touches(goo));
    expect(r.variant).toBeNull();
    expect(r.misses).toEqual([
      { id: 'p', reason: 'source is google, wants pinterest' },
      { id: 'e', reason: 'medium is organic, wants email or newsletter' },
    ]);
  });

  it('matches exact values case-insensitively, and lists by any member', () => {
    expect(pick([V({ source: 'PINTEREST', channel: 'organic social' })], touches(pin)).variant).not.toBeNull();
    expect(pick([V({ campaign: 'spring_looks' })], touches(pin)).variant).not.toBeNull();
    expect(pick([V({ campaign: 'spring' })], touches(pin)).variant).toBeNull();
    const list = V({ source: ['instagram', 'Facebook'] });
    expect(pick([list], touches(fb)).variant).toBe(list);
    expect(pick([list], touches(pin)).variant).toBeNull();
    expect(pick([V({ channel: ['Paid Search', 'Paid Social'] })], touches(fb)).variant).not.toBeNull();
  });

  it('matches "/regex/flags", honouring flags and never throwing on a bad regex', () => {
    expect(pick([V({ campaign: '/^spring_/i' })], touches(pin)).variant).not.toBeNull();
    expect(pick([V({ campaign: '/^spring_/' })], touches(pin)).variant).toBeNull(); // no i: case matters
    expect(pick([V({ channel: '/^paid/i' })], touches(fb)).variant).not.toBeNull();
    expect(pick([V({ source: ['bing', '/^face/'] })], touches(fb)).variant).not.toBeNull();
    // A g flag must not make the second test fail (lastIndex).
    const g = V({ source: '/pin/g' });
    expect([1, 2, 3].map(() => pick([g], touches(pin)).variant?.id)).toEqual([g.id, g.id, g.id]);
    const bad = V({ source: '/(/' }, 0, 'bad');
    const ok = V({ source: 'pinterest' }, -1, 'ok');
    const r = pick([bad, ok], touches(pin));
    expect(r.variant?.id).toBe('ok');
    expect(r.misses[0]).toEqual({ id: 'bad', reason: 'source is pinterest, wants /(/' });
  });

  it('fails a condition on a field the touch lacks', () => {
    const r = pick([V({ campaign: '/.*/' }, 0, 'x')], touches(goo));
    expect(r.variant).toBeNull();
    expect(r.misses[0]!.reason).toBe('campaign is missing, wants /.*/');
  });

  it('reads the current, first or last touch', () => {
    const t = touches(goo, pin, fb);
    expect(pick([V({ source: 'google' })], t).variant).not.toBeNull();
    expect(pick([V({ source: 'pinterest' })], t).variant).toBeNull();
    expect(pick([V({ source: 'pinterest', touch: 'first' })], t).variant).not.toBeNull();
    expect(pick([V({ source: 'facebook', touch: 'last' })], t).variant).not.toBeNull();
    expect(pick([V({ source: 'facebook', touch: 'first' })], t).variant).toBeNull();
  });

  it('fails conditions on a missing touch, but a variant without touch conditions still matches', () => {
    const r = pick(
      [V({ source: 'pinterest', touch: 'last' }, 0, 'l'), V({ channel: 'Direct' }, 0, 'd')],
      touches(null, null, null),
    );
    expect(r.variant).toBeNull();
    expect(r.misses.map((m) => m.reason)).toEqual(['no last touch', 'no current touch']);
    expect(
      pick([V({ device: 'mobile', touch: 'first' })], touches(null, null, null), { device: 'mobile' }).variant,
    ).not.toBeNull();
  });

  it('matches device', () => {
    const m = V({ device: 'mobile' }, 0, 'm');
    expect(pick([m], touches(pin), { device: 'mobile' }).variant).toBe(m);
    expect(pick([m], touches(pin), { device: 'desktop' }).misses[0]!.reason).toBe('device is desktop, wants mobile');
  });

  it('matches path globs, and skips path conditions when no path is given', () => {
    const home = V({ path: '/' }, 0, 'home');
    expect(pick([home], touches(pin), { path: '/' }).variant).toBe(home);
    expect(pick([home], touches(pin), { path: '/category/shoes' }).misses[0]!.reason).toBe(
      'path is /category/shoes, wants /',
    );
    expect(matchVariant([home], { touches: touches(pin), device: 'mobile' }).variant).toBe(home);
  });

  it('forces a previewed variant even when it does not match, and ignores unknown previews', () => {
    const a = V({ source: 'pinterest' }, 0, 'a');
    const b = V({ source: 'facebook', device: 'mobile', path: '/x' }, 0, 'b');
    const r = pick([a, b], touches(pin), { preview: 'b' });
    expect(r.variant).toBe(b);
    expect(r.misses).toEqual([{ id: 'a', reason: 'lost to b' }]);
    expect(pick([a, b], touches(pin), { preview: 'nope' }).variant).toBe(a);
  });

  it('survives an unvalidated config', () => {
    const junk = [
      null,
      3,
      { id: 'noslots' },
      { slots: { hero: {} }, when: { source: 'facebook' } },
      { id: 'bare', slots: { hero: { text: 'x' } } },
    ] as unknown as Variant[];
    expect(pick(junk, touches(pin)).variant?.id).toBe('bare');
    expect(pick(undefined as unknown as Variant[], touches(pin))).toEqual({ variant: null, misses: [] });
  });
});

describe('globMatch', () => {
  it.each([
    ['/', '/', true],
    ['/', '/about', false],
    ['/category/*', '/category/shoes', true],
    ['/category/*', '/category/shoes/red', false],
    ['/category/*', '/category', false],
    ['/category/**', '/category/shoes/red', true],
    ['/cart/**', '/cart', false],
    ['/product/*-sale', '/product/boots-sale', true],
    ['/product/*-sale', '/product/boots-salex', false],
    ['/a.b', '/axb', false],
    ['/a.b', '/a.b', true],
    ['/(x)+[y]?', '/(x)+[y]?', true],
    ['/Category/*', '/category/shoes', true],
    ['/**', '/anything/at/all', true],
  ])('%s on %s → %s', (glob, path, want) => expect(globMatch(glob, path)).toBe(want));
});
