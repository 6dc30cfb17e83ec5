/**
 * http(s) or relative only: a compact, stricter copy of @cairn/schema's isSafeUrl (the SDK may not
 * import runtime code from there: zod would follow it into the bundle). It splits at every
 * control, space and comma (browsers drop tabs and newlines inside URLs; srcset lists several),
 * and each piece must start with exactly http(s): or have no `:` nor `&` (entity tricks) before
 * its first / ? #.
 */
export const isSafeUrl = (u: unknown): u is string =>
  typeof u == 'string' && u.split(/[\0- ,\x7f-\x9f]+/).every((p) => /^(https?:|[^:&/?#]*)([/?#]|$)/i.test(p));
