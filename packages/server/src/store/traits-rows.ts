import { MAX_TRAITS, type Traits } from '@cairn/schema';
import type { TraitsChange } from './types.js';

// What both stores do with a user's traits between reading and writing them: pure, so that the
// two dialects agree on every rule (order kept, null removes, the cap on the merged result).

/** The stored JSON text as traits; anything but a flat object (never written) reads as none. */
export function traitsFromText(text: unknown): Traits {
  if (typeof text !== 'string') return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return {};
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return {};
  const out: Traits = {};
  for (const [k, v] of Object.entries(data))
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  return out;
}

/**
 * The traits after `change`, or, when a merge would leave over MAX_TRAITS keys, how many and the
 * first key that did not fit. A merge keeps the current keys' order and appends new ones; a
 * replace takes the body's order.
 */
export function applyTraitsChange(
  current: Traits,
  change: TraitsChange,
): { traits: Traits; tooMany?: undefined } | { tooMany: number; key: string } {
  if (change.kind === 'replace') return { traits: { ...change.traits } };
  const next: Traits = { ...current };
  if (change.kind === 'remove') {
    delete next[change.key];
    return { traits: next };
  }
  for (const [k, v] of Object.entries(change.traits)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  const keys = Object.keys(next);
  // Removals count first (a PATCH may drop some keys to make room); the first key past the cap is named.
  const over = keys[MAX_TRAITS];
  return over === undefined ? { traits: next } : { tooMany: keys.length, key: over };
}
