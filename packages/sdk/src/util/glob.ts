/**
 * A path glob, case-insensitive: `*` matches within a segment, `**` across segments (`/a/**` does
 * not match `/a`). Every other character is literal; escaped, it always compiles.
 */
export const globMatch = (glob: unknown, path: string): boolean =>
  RegExp('^' + String(glob).replace(/[^\w*/-]/g, '\\$&').replace(/\*\*?/g, (m) => (m[1] ? '.*' : '[^/]*')) + '$', 'i').test(path);

/** Case-insensitive equality of any two values. */
export const same = (a: unknown, b: unknown): boolean => String(a).toLowerCase() == String(b).toLowerCase();
