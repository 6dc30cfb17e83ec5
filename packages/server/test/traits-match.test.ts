// The server's traits matcher (triggers[].where.traits) against the table the SDK runs too.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Traits, TraitsMatcher } from '@cairn/schema';
import { matchTraits } from '../src/triggers/traits-match.js';

interface TraitsCase {
  matcher: TraitsMatcher;
  traits: Traits | null;
  matches: boolean;
  why: string;
}

const table = JSON.parse(
  readFileSync(new URL('../../schema/test/fixtures/traits-matching.json', import.meta.url), 'utf8'),
) as { cases: TraitsCase[] };

describe('matchTraits', () => {
  it.each(table.cases.map((c) => [c.why, c] as const))('%s', (_why, c) => {
    expect(matchTraits(c.matcher, c.traits ?? undefined)).toBe(c.matches);
  });

  it('bounds the work of a regex the SDK allows: a trait over the cap is not even tried', () => {
    // a*a*b on 200 a's is the worst the SDK lets through; a 1,000-character trait would be 125x slower.
    const traits = { note: 'a'.repeat(1000) };
    expect(matchTraits({ note: '/a*a*b/' }, traits)).toBe(false);
    expect(matchTraits({ note: 'a'.repeat(200) }, { note: 'a'.repeat(200) })).toBe(true);
  });
});
