import type { DeviceKind, Touch, Touches, Variant } from '../types.js';
import { arr } from '../util/arr.js';
import { globMatch, same } from '../util/glob.js';

// Pure and DOM-free: which variant a visitor gets, and why each other one did not match.

export interface MatchInput {
  touches: Touches;
  device: DeviceKind;
  /** The page path; left out, path conditions are not checked. */
  path?: string;
  /** `?cairn_variant=<id>`: forces that variant. */
  preview?: string | null;
}
export interface Miss {
  id: string;
  reason: string;
}
export interface MatchResult {
  variant: Variant | null;
  misses: Miss[];
}

/** "/re/flags" is a regex (g and y dropped: they make test() stateful), a bad one never matches; anything else an exact, case-insensitive value. */
function one(cond: unknown, value: string): boolean {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(cond as string);
  try {
    return m ? RegExp(m[1]!, m[2]!.replace(/[gy]/g, '')).test(value) : same(cond, value);
  } catch {
    return false;
  }
}

/** The touch fields a variant can match on, also the debug panel's summary of a touch. */
export const KEYS = ['channel', 'source', 'medium', 'campaign', 'content'] as const;

const miss = (k: string, is: unknown, wants: unknown) => `${k} is ${is}, wants ${wants}`;

/** The first reason `v` does not match, or null when it does. */
function whyNot(v: Variant, c: MatchInput): string | null {
  const w: Partial<Variant['when']> = v.when || {};
  const t = w.touch || 'current';
  const touch: Touch | null | undefined = c.touches[t];
  for (const k of KEYS) {
    const cond = w[k] && [w[k]].flat();
    if (!cond) continue;
    if (!touch) return `no ${t} touch`;
    const val = touch[k];
    // A condition on a field the touch lacks (e.g. no campaign) fails.
    if (val == null || !cond.some((x) => one(x, val))) return miss(k, val ?? 'missing', cond.join(' or '));
  }
  return w.device && w.device != c.device
    ? miss('device', c.device, w.device)
    : w.path && c.path != null && !globMatch(w.path, c.path)
      ? miss('path', c.path, w.path)
      : null;
}

/**
 * The variant for this visitor: a preview wins, else the highest priority among those that match,
 * ties to the one declared first. `misses` explains every other variant, in declaration order.
 */
export function matchVariant(variants: readonly Variant[] | null | undefined, c: MatchInput): MatchResult {
  // The config may be unvalidated (inline): skip anything that is not a variant.
  const vs = arr<Variant>(variants).filter((v) => v?.slots);
  const why = vs.map((v) => whyNot(v, c));
  const best =
    (c.preview && vs.find((v) => v.id === c.preview)) ||
    vs.reduce<Variant | null>((b, v, i) => (!why[i] && (!b || (v.priority || 0) > (b.priority || 0)) ? v : b), null);
  return {
    variant: best,
    misses: vs.flatMap((v, i) => (v == best ? [] : { id: v.id, reason: why[i] || 'lost to ' + best!.id })),
  };
}
