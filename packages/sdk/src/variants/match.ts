import type { DeviceKind, Touch, Touches, Traits, TraitsMatcher, Variant } from '../types.js';
import { arr } from '../util/arr.js';
import { globMatch, PATH_CAP, same } from '../util/glob.js';

// Pure and DOM-free: which variant a visitor gets, and why each other one did not match.

export interface MatchInput {
  touches: Touches;
  device: DeviceKind;
  /** The page path; left out, path conditions are not checked. */
  path?: string;
  /** `?cairn_variant=<id>`: forces that variant. */
  preview?: string | null;
  /** The person's CRM traits the config names, once identified (src/state/device-state.ts); left out, none are on the device. */
  traits?: Traits;
}
export interface Miss {
  id: string;
  reason: string;
  /** A condition the browser would not run (see refusal): the config needs fixing, not the visitor. */
  refused?: true;
}
export interface MatchResult {
  variant: Variant | null;
  misses: Miss[];
}

/**
 * A touch value over this never matches: the SDK cuts touch fields to 200 characters, so a longer
 * one did not come from it, and it bounds what a regex can be made to chew on.
 */
export const VALUE_CAP = 200;
/** One regex quantifier's choices on a value of VALUE_CAP characters. */
const MANY = VALUE_CAP + 1;

/**
 * Why the browser will not run the regex `source`, or '' when it may. One linear pass over tokens
 * (escapes, classes, groups), no engine involved. The server checks hosted configs with a real
 * ReDoS checker; this is the net for an inline config that skipped it, so it is coarse and errs
 * towards refusing. Refused:
 * - over 200 characters, the schema's cap on a value;
 * - a backreference (\1 to \9, \k<name>): matching one is NP-hard, backtracking exponential;
 * - a repeated group that holds a quantifier or an alternation: (a+)+, (a*)*, (a|aa)+. Overlap is
 *   not checked, so the safe (spring|summer)+ goes too (a list of values says it better);
 * - too many ways to backtrack, even unnested: k overlapping quantifiers take n^(k+1) steps (V8:
 *   1.5 s for a*a*a*b on 200 a's), k optional parts or alternations in a row 2^k. Counted as a
 *   product, ×201 per *, + or {n,m}, ×4 per ?, ×k² per group of k alternatives (small choices
 *   squared: the engine retries the rest of the pattern for each), up to that of two unbounded
 *   quantifiers alone. Measured in V8 on 200 characters, the worst allowed (a*a*b) take tens of
 *   milliseconds; top-level alternatives add up, so they are free.
 */
export function refusal(source: string): string {
  let ways = 1;
  // The previous token: 1 a quantifier, 2 a group with choices inside.
  let last = 0;
  // The innermost open group: `ways` when it opened, and its alternatives. The outermost is the
  // whole pattern, never closed: its alternatives add up, no choice.
  let group = [1, 1] as [number, number];
  const outer: [number, number][] = [];
  if (source.length > VALUE_CAP) return `over ${VALUE_CAP} characters`;
  for (const token of source.match(/\\.|\[(?:\\.|[^\\\]])*\]?|\(\??|\{\d+(,\d*)?\}|./gs) || []) {
    const previous = last;
    last = 0;
    if (/^\\[1-9k]/.test(token)) return 'backreference';
    if (token[0] == '(') outer.push(group), (group = [ways, 1]);
    else if (token == '|') group[1]++;
    else if (token == ')') {
      ways *= group[1] * group[1];
      last = ways > group[0] ? 2 : 0;
      // An unbalanced `)` (the RegExp will throw) must not throw here.
      group = outer.pop() || group;
    } else if (/^[*+?]|^\{./.test(token)) {
      // A ? right after a quantifier makes it lazy: still one quantifier. A group with choices may
      // be optional ((a+)? is a+ or nothing), not repeated.
      if (previous == 1 && token == '?') continue;
      if (previous == 2 && token != '?') return 'nested quantifier';
      // {n} is no choice; {n,} and {n,m} count as * does.
      ways *= token == '?' ? 4 : /^\{\d+\}/.test(token) ? 1 : MANY;
      last = 1;
    }
  }
  // `ways` only grows: one check at the end does.
  return ways > MANY * MANY ? 'too many ways to match' : '';
}

/**
 * True when `value` matches `cond`, else '' for a plain miss, or why the browser refused to run it.
 * A number or boolean (a trait's) matches only that value. A string matches a string only:
 * "/re/flags" is a regex (g and y dropped: they make test() stateful), a bad one never matches;
 * anything else an exact, case-insensitive value.
 */
function one(cond: unknown, value: unknown): true | string {
  if (typeof cond != 'string' || typeof value != 'string') return cond === value || '';
  const m = /^\/(.+)\/([a-z]*)$/s.exec(cond);
  let why = '';
  try {
    if (m ? !(why = refusal(m[1]!)) && RegExp(m[1]!, m[2]!.replace(/[gy]/g, '')).test(value) : same(cond, value))
      return true;
  } catch {}
  return why && `${cond} refused: ${why}`;
}

/** The touch fields a variant can match on, also the debug panel's summary of a touch. */
export const KEYS = ['channel', 'source', 'medium', 'campaign', 'content'] as const;

/** Why a variant did not match; null when it did. */
type Why = Omit<Miss, 'id'> | null;

const miss = (k: string, is: unknown, wants: unknown): Why => ({ reason: `${k} is ${is}, wants ${wants}` });

/**
 * Why `value` (a touch field, or a trait) misses `cond` (a value, or a list: any matches), named
 * `k`; null when it matches. A value missing, or a string over VALUE_CAP characters, never matches.
 */
function check(k: string, cond: unknown, value: unknown): Why {
  const list = [cond].flat();
  const is = value == null ? 'missing' : (value as string).length > VALUE_CAP ? `over ${VALUE_CAP} characters` : value;
  const results = is === value ? list.map((x) => one(x, value)) : [];
  if (results.includes(true)) return null;
  // A refusal explains more than the plain miss: the config needs fixing.
  const refused = results.find(Boolean);
  return refused ? { reason: `${k} condition ${refused}`, refused: true } : miss(k, is, list.join(' or '));
}

/**
 * Why the person's `traits` miss `want` (every trait named must match), null when they match.
 * No traits on the device (anonymous, or not identified yet) is a miss, never a guess.
 */
export const traitsWhy = (want: TraitsMatcher, traits: Traits | undefined): Why | undefined =>
  traits
    ? Object.keys(want)
        .map((k) => check('trait ' + k, want[k], traits[k]))
        .find(Boolean)
    : { reason: 'traits not on this device yet' };

/** The first reason `v` does not match, or null when it does. */
function whyNot(v: Variant, c: MatchInput): Why {
  const w: Partial<Variant['when']> = v.when || {};
  const t = w.touch || 'current';
  const touch: Touch | null | undefined = c.touches[t];
  for (const k of KEYS) {
    if (!w[k]) continue;
    if (!touch) return { reason: `no ${t} touch` };
    const why = check(k, w[k], touch[k]);
    if (why) return why;
  }
  return (
    (w.traits && traitsWhy(w.traits, c.traits)) ||
    (w.device && w.device != c.device
      ? miss('device', c.device, w.device)
      : w.path && c.path != null && !globMatch(w.path, c.path)
        ? miss('path', c.path.length > PATH_CAP ? `over ${PATH_CAP} characters` : c.path, w.path)
        : null)
  );
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
    misses: vs.flatMap((v, i) => (v == best ? [] : { id: v.id, ...(why[i] || { reason: 'lost to ' + best!.id }) })),
  };
}
