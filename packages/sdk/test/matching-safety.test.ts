import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import type { Touch, Touches, Variant } from '../src/types';
import { matchVariant } from '../src/variants';
import { refusal, VALUE_CAP } from '../src/variants/match';
import { PATH_CAP } from '../src/util/glob';

// The matcher's steps, counted through the real entry point: globMatch gets a counter.
const glob = vi.hoisted(() => ({ steps: 0 }));
vi.mock('../src/util/glob.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/util/glob')>();
  return { ...real, globMatch: (g: unknown, p: string) => real.globMatch(g, p, () => glob.steps++) };
});

const touch = (o: Partial<Touch>): Touch => ({
  source: 'google',
  medium: 'cpc',
  channel: 'Paid Search',
  landingPath: '/',
  at: 1,
  ...o,
});
const touches = (t: Touch): Touches => ({ current: t, first: t, last: t });
const V = (when: Partial<Variant['when']>, id = 'v'): Variant =>
  ({ id, name: id, when: { touch: 'current', ...when }, slots: { hero: { text: id } }, priority: 0 }) as Variant;
const run = (when: Partial<Variant['when']>, t: Partial<Touch> = {}, path = '/') =>
  matchVariant([V(when)], { touches: touches(touch(t)), device: 'desktop', path });

// Every RegExp the matcher builds from a condition (regex literals do not go through the
// constructor), and every test() run on one of them. Building a `forbidden` one throws, so a
// matcher that lets one through fails here at once instead of hanging the test run.
const RealRegExp = RegExp;
let built: string[] = [];
let forbidden: string[] = [];
let tests: MockInstance<RegExp['test']>;
const ran = (source: string) => tests.mock.contexts.filter((re: unknown) => (re as RegExp).source === source).length;
beforeEach(() => {
  built = [];
  forbidden = [];
  const build = (source: unknown) => {
    built.push(String(source));
    if (forbidden.includes(String(source))) throw new Error(`built the refused /${source}/`);
  };
  globalThis.RegExp = new Proxy(RealRegExp, {
    apply: (target, self, args: [string, string?]) => (build(args[0]), Reflect.apply(target, self, args)),
    construct: (target, args: [string, string?], next) => (build(args[0]), Reflect.construct(target, args, next)),
  });
  tests = vi.spyOn(RealRegExp.prototype, 'test');
});
afterEach(() => {
  globalThis.RegExp = RealRegExp;
  tests.mockRestore();
});

describe('regex conditions the browser refuses', () => {
  it('/^(a+)+$/ on 30 a\'s and "!" is refused: never built, never run, reported', () => {
    forbidden = ['^(a+)+$'];
    const r = run({ campaign: '/^(a+)+$/' }, { campaign: 'a'.repeat(30) + '!' });
    expect(r.variant).toBeNull();
    expect(r.misses).toEqual([
      { id: 'v', reason: 'campaign condition /^(a+)+$/ refused: nested quantifier', refused: true },
    ]);
    expect(built).not.toContain('^(a+)+$');
    expect(ran('^(a+)+$')).toBe(0);
  });

  it('a safe regex is built and run once (the counters see it)', () => {
    expect(run({ campaign: '/^spring_/i' }, { campaign: 'spring_looks' }).variant?.id).toBe('v');
    expect(built.filter((s) => s === '^spring_')).toHaveLength(1);
    expect(ran('^spring_')).toBe(1);
  });

  it.each([
    ['^(a+)+$', 'nested quantifier'],
    ['(a*)*', 'nested quantifier'],
    ['(a|aa)+', 'nested quantifier'],
    ['(?:x\\d?)*y', 'nested quantifier'],
    ['((ab)+c)+', 'nested quantifier'],
    ['(?:a+){2}', 'nested quantifier'],
    ['(spring|summer)+', 'nested quantifier'],
    ['(\\w+)_\\1', 'backreference'],
    ['(?<c>\\w)\\k<c>', 'backreference'],
    ['a*a*a*b', 'too many ways to match'],
    ['.*_.*_.*_2024', 'too many ways to match'],
    ['(a|a)(a|a)(a|a)(a|a)(a|a)(a|a)(a|a)(a|a)b', 'too many ways to match'],
    ['a?a?a?a?a?a?a?a?b', 'too many ways to match'],
    ['x'.repeat(VALUE_CAP + 1), `over ${VALUE_CAP} characters`],
  ])('/%s/ is refused: %s, and never built', (source, why) => {
    expect(refusal(source)).toBe(why);
    forbidden = [source];
    const r = run({ campaign: `/${source}/` }, { campaign: 'a'.repeat(40) + '!' });
    expect(r.misses[0]).toEqual({ id: 'v', reason: `campaign condition /${source}/ refused: ${why}`, refused: true });
    expect(built).toEqual([]);
    expect(ran(source)).toBe(0);
  });

  it.each([
    ['^spring', 'spring_looks'],
    ['^(fb|ig|tt)_(spring|summer|fall|winter)_\\d+$', 'ig_summer_2024'],
    ['.*sale.*', 'big_sale_now'],
    ['.*?sale.*?', 'big_sale_now'],
    ['black.?friday|cyber.?monday', 'cyber-monday'],
    ['^(fb|ig|tt|yt|li|sc)_.*$', 'yt_x'],
    ['^spring_\\d{4}$', 'spring_2024'],
    ['\\d{1,3}_\\d{1,3}', '12_345'],
    ['(ab)+c', 'ababc'],
    ['(a+)?b', 'aab'],
    ['[(+*]|\\(', '('],
  ])('/%s/ runs and matches %s', (source, value) => {
    expect(refusal(source)).toBe('');
    expect(run({ campaign: `/${source}/` }, { campaign: value }).variant?.id).toBe('v');
    expect(built).toContain(source);
  });

  it('[\\1] is a character class, not a backreference; an escaped \\( is no group', () => {
    expect(refusal('[\\1]+')).toBe('');
    expect(refusal('\\(a+\\)+')).toBe('');
    expect(refusal('a)|(b')).toBe('');
  });

  it('in a list, a refused entry never matches but the others still can', () => {
    forbidden = ['^(a+)+$'];
    expect(run({ campaign: ['/^(a+)+$/', 'spring'] }, { campaign: 'Spring' }).variant?.id).toBe('v');
    expect(run({ campaign: ['x', '/^(a+)+$/'] }, { campaign: 'aaaa' }).misses[0]).toEqual({
      id: 'v',
      reason: 'campaign condition /^(a+)+$/ refused: nested quantifier',
      refused: true,
    });
    expect(built).toEqual([]);
  });
});

describe('inputs over the caps never match', () => {
  it(`a touch value over ${VALUE_CAP} characters is a miss, and no condition runs on it`, () => {
    const long = 'a'.repeat(VALUE_CAP + 1);
    expect(run({ campaign: '/^a+$/' }, { campaign: long }).misses[0]).toEqual({
      id: 'v',
      reason: `campaign is over ${VALUE_CAP} characters, wants /^a+$/`,
    });
    expect(run({ campaign: long }, { campaign: long }).variant).toBeNull();
    expect(built).toEqual([]);
    expect(run({ campaign: '/^a+$/' }, { campaign: long.slice(1) }).variant?.id).toBe('v');
  });

  it(`a path over ${PATH_CAP} characters is a miss, and the glob takes no step`, () => {
    const longest = '/' + 'a'.repeat(PATH_CAP - 1);
    glob.steps = 0;
    expect(run({ path: '/**' }, {}, longest + 'a').misses[0]).toEqual({
      id: 'v',
      reason: `path is over ${PATH_CAP} characters, wants /**`,
    });
    expect(glob.steps).toBe(0);
    expect(run({ path: '/**' }, {}, longest).variant?.id).toBe('v');
    expect(glob.steps).toBeGreaterThan(0);
  });

  it('a hostile path glob on the longest path stays within (tokens + 1) × path length steps', () => {
    const hostile = '/**/**/**/**/**/**/**/z';
    for (const segments of [40, 60, 80, 999]) {
      const path = '/a'.repeat(segments);
      glob.steps = 0;
      expect(run({ path: hostile }, {}, path).variant).toBeNull();
      expect(glob.steps).toBe((hostile.match(/\*\*?|./gs)!.length + 1) * path.length);
    }
  });
});
