import { describe, expect, it } from 'vitest';
import { GLOB_CAP, globMatch, PATH_CAP } from '../src/util/glob';

/** The RegExp compilation globMatch replaced, kept as the reference for its semantics. */
const byRegExp = (glob: string, path: string) =>
  RegExp('^' + glob.replace(/[^\w*/-]/g, '\\$&').replace(/\*\*?/g, (m) => (m[1] ? '.*' : '[^/]*')) + '$', 'i').test(
    path,
  );

/** globMatch, counting its steps; past a million it throws, so a backtracking matcher fails fast instead of hanging. */
function counted(glob: string, path: string): { match: boolean; steps: number } {
  let steps = 0;
  const match = globMatch(glob, path, () => {
    if (++steps > 1e6) throw new Error(`over a million steps: ${glob} on ${path.length} characters`);
  });
  return { match, steps };
}

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const segments = (n: number, last = 'x') => '/a'.repeat(n - 1) + '/' + last;

describe('globMatch semantics', () => {
  it('agrees with the RegExp compilation it replaced on 20,000 random globs and paths', () => {
    const next = random(7);
    const pick = (alphabet: string, max: number) =>
      Array.from({ length: Math.floor(next() * max) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    let matched = 0;
    for (let i = 0; i < 20_000; i++) {
      // Paths have no line breaks (a URL's pathname cannot), where `.*` would have stopped.
      const glob = pick('ab/**.A-?(', 10);
      const path = pick('ab/.A-?(*', 10);
      const want = byRegExp(glob, path);
      if (globMatch(glob, path) !== want) expect({ glob, path, match: !want }).toEqual({ glob, path, match: want });
      matched += +want;
    }
    // The sample is not all misses.
    expect(matched).toBeGreaterThan(500);
  });

  it.each([
    ['/a/**', '/a', false],
    ['/a/**', '/a/', true],
    ['/a/*', '/a/', true],
    ['/a*', '/a/b', false],
    ['/**/z', '/a/b/z', true],
    ['/**/z', '/z', false],
    ['/***', '/a/b', true],
    ['', '', true],
    ['/A/B', '/a/b', true],
    ['/*.html', '/x.html', true],
    ['/*.html', '/xxhtml', false],
  ])('%s on %s → %s', (glob, path, want) => {
    expect(globMatch(glob, path)).toBe(want);
    expect(byRegExp(glob, path)).toBe(want);
  });
});

describe('globMatch cost', () => {
  // Each path character costs one step per glob token, plus one: no backtracking.
  const hostile = [
    '/**/**/**/**/**/**/**/z',
    '/*a*a*a*a*a*a*a*b',
    '/**a**a**a**a**b',
    '**'.repeat(100) + 'z',
    '/*/*/*/*/*/*/*/*/*/*/*/*/*/*/q',
  ];

  it.each(hostile)('%s on 64 segments stays within (tokens + 1) × path length steps', (glob) => {
    for (const path of [segments(64), segments(64, 'z'), '/' + 'a'.repeat(127)]) {
      const tokens = glob.match(/\*\*?|./gs)!.length;
      const { steps } = counted(glob, path);
      expect(steps).toBe((tokens + 1) * path.length);
    }
  });

  it('grows linearly with the path: 40, 60 and 80 segments cost equal increments', () => {
    const glob = '/**/**/**/**/**/**/**/z';
    const runs = [40, 60, 80].map((n) => counted(glob, segments(n)));
    expect(runs.map((r) => r.match)).toEqual([false, false, false]);
    const [s40, s60, s80] = runs.map((r) => r.steps) as [number, number, number];
    expect(s80 - s60).toBe(s60 - s40);
    expect(s80).toBe(2 * s40);
    // And it still finds the match at the end.
    expect(counted(glob, segments(80, 'z')).match).toBe(true);
  });

  it('the worst allowed case, the longest glob on the longest path, is bounded', () => {
    const glob = '/*'.repeat(GLOB_CAP / 2);
    const path = '/' + 'a'.repeat(PATH_CAP - 1);
    const { match, steps } = counted(glob, path);
    expect(match).toBe(false);
    expect(steps).toBe((GLOB_CAP + 1) * PATH_CAP);
  });

  it('never matches, nor takes a step, past the caps', () => {
    const longest = '/' + 'a'.repeat(PATH_CAP - 1);
    expect(counted('/**', longest)).toMatchObject({ match: true });
    expect(counted('/**', longest + 'a')).toEqual({ match: false, steps: 0 });
    const wide = '/*'.repeat(GLOB_CAP / 2) + 'x';
    expect(counted(wide, '/a')).toEqual({ match: false, steps: 0 });
  });
});
