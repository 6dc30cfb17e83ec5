import type { Traits, TraitsMatcher } from '@cairn/schema';
import { regexRefusal } from '@cairn/sdk';

// The server's reading of a traits matcher (triggers[].where.traits), the same as the SDK's for
// when.traits and audience.traits: both run packages/schema/test/fixtures/traits-matching.json.

/**
 * A string trait longer than this never matches a string matcher: it bounds what a regex can be
 * made to chew on, as the SDK's cap on touch values does (the schema allows 1,000 characters).
 */
export const TRAIT_MATCH_CAP = 200;

/** "/pattern/flags", as the SDK reads it (an unknown flag makes the RegExp throw: no match). */
const REGEX_LITERAL = /^\/(.+)\/([a-z]*)$/s;

type Value = string | number | boolean;

/** One condition against one trait value: strings (exact, case-insensitive, or a regex) match strings only. */
function matchesOne(condition: Value, value: Value): boolean {
  if (typeof condition !== 'string') return condition === value;
  if (typeof value !== 'string' || value.length > TRAIT_MATCH_CAP) return false;
  const m = REGEX_LITERAL.exec(condition);
  if (!m) return condition.toLowerCase() === value.toLowerCase();
  const source = m[1] ?? '';
  // A regex the browser would refuse is refused here too: a saved config never holds one (the
  // ReDoS check), but the same answer on both sides matters more than the config's origin.
  if (regexRefusal(source)) return false;
  try {
    // g and y make test() stateful: dropped, as the SDK does.
    return new RegExp(source, (m[2] ?? '').replace(/[gy]/g, '')).test(value);
  } catch {
    return false;
  }
}

/**
 * Whether a person's traits satisfy every key of the matcher: a list matches when any of its values
 * does; a missing key, or no traits at all (an anonymous person), never matches.
 */
export function matchTraits(matcher: TraitsMatcher, traits: Traits | undefined | null): boolean {
  if (!traits) return false;
  for (const [key, condition] of Object.entries(matcher)) {
    // Own keys only: "constructor" is no trait of {}.
    if (!Object.hasOwn(traits, key)) return false;
    const value = traits[key];
    if (value === undefined) return false;
    const conditions: Value[] = Array.isArray(condition) ? condition : [condition];
    if (!conditions.some((c) => matchesOne(c, value))) return false;
  }
  return true;
}
