import type { DeviceKind, Touch, Touches, Variant } from '../types';

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

const KEYS = ['channel', 'source', 'medium', 'campaign', 'content'] as const;

/** Regexes and globs compiled once (globs keyed with a leading space); null: a bad regex, never matches. */
const cache = new Map<string, RegExp | null>();

function rx(key: string, src: string, flags: string): RegExp | null {
  let r = cache.get(key);
  if (r === undefined) {
    try {
      r = RegExp(src, flags);
    } catch {
      r = null;
    }
    cache.set(key, r);
  }
  return r;
}

/** "/re/flags" is a regex (g and y dropped: they make test() stateful); anything else an exact, case-insensitive value. */
function one(cond: unknown, value: string): boolean {
  const s = String(cond);
  const m = /^\/(.+)\/([a-z]*)$/s.exec(s);
  return m ? !!rx(s, m[1]!, m[2]!.replace(/[gy]/g, ''))?.test(value) : s.toLowerCase() == value.toLowerCase();
}

/** A path glob, case-insensitive like the prompts' one: `*` within a segment, `**` across (`/a/**` does not match `/a`). */
export const globMatch = (glob: string, path: string): boolean =>
  !!rx(' ' + glob, '^' + String(glob).replace(/[^\w*/-]/g, '\\$&').replace(/\*\*?/g, (m) => (m[1] ? '.*' : '[^/]*')) + '$', 'i')?.test(path);

const miss = (k: string, is: unknown, wants: unknown) => `${k} is ${is}, wants ${wants}`;

/** The first reason `v` does not match, or null when it does. */
export function whyNot(v: Variant, c: MatchInput): string | null {
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
  if (w.device && w.device != c.device) return miss('device', c.device, w.device);
  if (w.path && c.path != null && !globMatch(w.path, c.path)) return miss('path', c.path, w.path);
  return null;
}

/**
 * The variant for this visitor: a preview wins, else the highest priority among those that match,
 * ties to the one declared first. `misses` explains every other variant, in declaration order.
 */
export function matchVariant(variants: readonly Variant[] | null | undefined, c: MatchInput): MatchResult {
  // The config may be unvalidated (inline): skip anything that is not a variant.
  const vs = (Array.isArray(variants) ? variants : []).filter((v) => v?.slots);
  const why = vs.map((v) => whyNot(v, c));
  let best: Variant | null = (c.preview && vs.find((v) => v.id === c.preview)) || null;
  if (!best)
    vs.forEach((v, i) => {
      if (!why[i] && (!best || (v.priority || 0) > (best.priority || 0))) best = v;
    });
  const won = best as Variant | null;
  return {
    variant: won,
    misses: vs.flatMap((v, i) => (v == won ? [] : { id: v.id, reason: why[i] || 'lost to ' + won!.id })),
  };
}
