/**
 * The longest path matched: the SDK records paths cut to 2,000 characters, and a longer one is no
 * real page. With GLOB_CAP it bounds a match at about 600,000 steps, so a hostile URL cannot stall
 * the page; over it, nothing matches (not even an exclusion).
 */
export const PATH_CAP = 2000;
/** The site-config schema's cap on a glob's length: a glob of more tokens (an unvalidated inline config) never matches. */
export const GLOB_CAP = 300;

/**
 * A path glob, case-insensitive: `*` matches within a segment, `**` across segments (`/a/**` does
 * not match `/a`). Every other character is literal. Read like a regex's `**?` left to right:
 * `***` is `**` then `*`.
 *
 * No backtracking: it tracks every glob position the path read so far can have reached (an NFA
 * as a set of positions), so it takes at most (glob length + 1) steps per path character, whatever
 * the glob. `step` (tests only) is called once per step.
 */
export function globMatch(glob: unknown, path: string, step?: () => void): boolean {
  const tokens =
    String(glob)
      .toLowerCase()
      .match(/\*\*?|./gs) || [];
  const text = path.toLowerCase();
  // reached[i]: the text read so far matches tokens[0..i).
  const reached: unknown[] = [1];
  if (tokens.length > GLOB_CAP || text.length > PATH_CAP) return false;
  for (let k = 0; ; k++) {
    // A star also matches nothing: it passes its position on to the next token.
    tokens.map((token, i) => reached[i] && token[0] == '*' && (reached[i + 1] = 1));
    if (k == text.length) return !!reached[tokens.length];
    // Downwards, so reached[i - 1] is still the value before text[k].
    for (let i = tokens.length + 1; i--; ) {
      step?.();
      reached[i] =
        (reached[i - 1] && tokens[i - 1] == text[k]) ||
        (reached[i] && (tokens[i] == '**' || (tokens[i] == '*' && text[k] != '/')));
    }
  }
}

/** Case-insensitive equality of any two values. */
export const same = (a: unknown, b: unknown): boolean => String(a).toLowerCase() == String(b).toLowerCase();
