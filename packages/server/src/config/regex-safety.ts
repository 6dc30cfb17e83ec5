import { check, type Diagnostics } from 'recheck';
import type { SiteConfig, TraitsMatcher } from '@cairn/schema';
import { regexRefusal } from '@cairn/sdk';

// Regex conditions in a site config run in every visitor's browser against values from the landing
// URL (utm_source and friends), which anyone can write. A regex that backtracks catastrophically on
// some input would let a crafted link freeze the storefront's page, so each one is checked with
// recheck before a config is saved, validated by the CLI, or seeded at start. The same goes for the
// regexes of CRM traits matchers (variants' when.traits, prompts' audience.traits, triggers'
// where.traits): trait values often hold what a customer typed (a name, a company).

/** "/pattern/flags", as the site-config schema reads a matcher value. */
const REGEX_LITERAL = /^\/(.+)\/([gimsuy]*)$/s;

/** The fields of `variants[].when` whose values may be regexes (strings, or lists of them). */
const MATCHER_FIELDS = ['channel', 'source', 'medium', 'campaign', 'content'] as const;

export interface RegexCondition {
  /** Dotted, as the schema's issues name fields: `variants.0.when.campaign`, or `….campaign.1` in a list. */
  path: string;
  /** As written, slashes included. */
  literal: string;
  source: string;
  /** The flags the SDK matches with: it drops g and y. */
  flags: string;
}

export interface RegexIssue {
  path: string;
  message: string;
}

export interface RegexSafetyOptions {
  /** How long one regex may be analysed (ms). Default 3,000. */
  timeoutMs?: number;
  /** How long a whole config may take (ms); past it, the regexes left are refused as unchecked. Default 10,000. */
  budgetMs?: number;
  /** The analysis; default recheck's check(). Tests count its calls. */
  analyse?: (source: string, flags: string, timeoutMs: number) => Promise<Diagnostics>;
  now?: () => number;
}

export interface RegexSafety {
  /**
   * The regex conditions of a validated config that are open to ReDoS, or could not be shown safe
   * in time (refused too: an unproven regex may be a slow one), each with its path. Empty when all
   * are safe.
   */
  unsafeRegexes(config: SiteConfig): Promise<RegexIssue[]>;
}

/** Every regex condition of a validated config, with where it is. */
export function regexConditions(config: SiteConfig): RegexCondition[] {
  const found: RegexCondition[] = [];
  // A value, or each value of a list (numbers and booleans in a traits matcher are no regexes).
  const add = (at: string, value: unknown) => {
    const values: [string, unknown][] = Array.isArray(value) ? value.map((v, j) => [`${at}.${j}`, v]) : [[at, value]];
    for (const [path, v] of values) {
      const m = typeof v === 'string' ? REGEX_LITERAL.exec(v) : null;
      if (m) found.push({ path, literal: v as string, source: m[1] ?? '', flags: (m[2] ?? '').replace(/[gy]/g, '') });
    }
  };
  const addTraits = (at: string, traits: TraitsMatcher | undefined) => {
    for (const [key, value] of Object.entries(traits ?? {})) add(`${at}.${key}`, value);
  };
  config.variants.forEach((variant, i) => {
    for (const field of MATCHER_FIELDS) add(`variants.${i}.when.${field}`, variant.when[field]);
    addTraits(`variants.${i}.when.traits`, variant.when.traits);
  });
  config.prompts.forEach((prompt, i) => addTraits(`prompts.${i}.audience.traits`, prompt.audience.traits));
  (config.triggers ?? []).forEach((trigger, i) => addTraits(`triggers.${i}.where.traits`, trigger.where?.traits));
  return found;
}

const recheckAnalyse: NonNullable<RegexSafetyOptions['analyse']> = (source, flags, timeoutMs) =>
  check(source, flags, { timeout: timeoutMs });

/** Verdicts kept per checker, by flags and source. */
const MAX_VERDICTS = 1000;

/** What is wrong with one regex, or null when recheck finds it safe. */
function problem(condition: RegexCondition, d: Diagnostics): string | null {
  if (d.status === 'safe') return null;
  if (d.status === 'vulnerable') {
    const sample = d.attack.string.length > 40 ? `${d.attack.string.slice(0, 40)}…` : d.attack.string;
    const carrier = condition.path.includes('.traits.')
      ? 'which a trait value (often what a customer typed) can hold'
      : 'which a link to the store can carry';
    return (
      `the regex ${condition.literal} is open to ReDoS: matching takes ${d.complexity.summary} time on input such as ${JSON.stringify(sample)}, ` +
      `${carrier}; rewrite it so that no part can match the same text in more than one way`
    );
  }
  const why =
    d.error.kind === 'timeout'
      ? 'the check ran out of time'
      : d.error.kind === 'cancel'
        ? 'the check was cancelled'
        : `${d.error.kind}: ${d.error.message}`;
  return `the regex ${condition.literal} could not be proven safe from ReDoS (${why}); refused until it can: simplify it`;
}

/**
 * A checker bounded in time (`timeoutMs` a regex, `budgetMs` a config) that remembers its verdicts,
 * so a config saved again, or seeded at every start, is not analysed again. An unfinished analysis
 * is not remembered: it may finish next time.
 */
export function createRegexSafety(options: RegexSafetyOptions = {}): RegexSafety {
  const analyse = options.analyse ?? recheckAnalyse;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 3000;
  const budgetMs = options.budgetMs ?? 10_000;
  const verdicts = new Map<string, Diagnostics>();
  return {
    async unsafeRegexes(config) {
      const deadline = now() + budgetMs;
      const issues: RegexIssue[] = [];
      for (const condition of regexConditions(config)) {
        const key = `${condition.flags}/${condition.source}`;
        let d = verdicts.get(key);
        if (!d) {
          const left = deadline - now();
          d =
            left > 0
              ? await analyse(condition.source, condition.flags, Math.min(timeoutMs, left))
              : { source: condition.source, flags: condition.flags, status: 'unknown', error: { kind: 'timeout' } };
          if (d.status !== 'unknown') {
            if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
            verdicts.set(key, d);
          }
        }
        // The SDK's own guard, for inline configs, refuses some shapes recheck may pass (a budget of
        // backtracking, not a proof): refused here too, so that a saved config is one every browser runs.
        const refused = regexRefusal(condition.source);
        const message =
          problem(condition, d) ??
          (refused
            ? `the regex ${condition.literal} is refused by the SDK in the browser (${refused}): use a list of values, or a simpler regex`
            : null);
        if (message) issues.push({ path: condition.path, message });
      }
      return issues;
    },
  };
}

/** The checker the server, its start-up and the CLI share. */
export const regexSafety = createRegexSafety();
