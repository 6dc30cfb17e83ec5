import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { traitsBodySchema, traitsMatcherSchema } from '../src/index.js';

// The table of traits-matching cases that the SDK and the server's matcher both run. Here: that it
// is well formed, that its matchers and traits are ones the schemas take, and that it covers both outcomes.

interface TraitsCase {
  matcher: Record<string, unknown>;
  traits: Record<string, unknown> | null;
  matches: boolean;
  why: string;
  schemaValid?: boolean;
}

const table = JSON.parse(readFileSync(new URL('./fixtures/traits-matching.json', import.meta.url), 'utf8')) as {
  cases: TraitsCase[];
};

describe('fixtures/traits-matching.json', () => {
  it('holds cases of both outcomes, each with a distinct reason', () => {
    expect(table.cases.length).toBeGreaterThan(30);
    expect(table.cases.some((c) => c.matches)).toBe(true);
    expect(table.cases.some((c) => !c.matches)).toBe(true);
    const whys = table.cases.map((c) => c.why);
    expect(new Set(whys).size).toBe(whys.length);
    for (const c of table.cases) {
      expect(typeof c.matches, c.why).toBe('boolean');
      expect(c.why.length, c.why).toBeGreaterThan(5);
    }
  });

  it.each(table.cases.map((c) => [c.why, c] as const))('%s: the schemas take its matcher and traits', (_why, c) => {
    expect(traitsMatcherSchema.safeParse(c.matcher).success).toBe(c.schemaValid ?? true);
    if (c.traits !== null) expect(traitsBodySchema.safeParse(c.traits).success).toBe(true);
  });
});
