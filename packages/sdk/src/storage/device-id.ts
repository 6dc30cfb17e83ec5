// The device id cookie: first-party, 13 months, SameSite=Lax, Secure on https, on a configurable
// domain so that subdomains share it.
//
// Written over document.cookie rather than with js-cookie (which issue 2 names) for the byte budget:
// js-cookie cost 506 B gzip -9 of dist/cairn.js (measured with everything else equal: 11231 B with
// it, 10725 B with these lines), and the whole bundle has to fit in 8192 B. The id is [\w-] only,
// so it needs no encoding, and a cookie that is not such an id (tampered) reads as none.

export const COOKIE = 'cairn_id';

export interface IdCookie {
  get(): string | undefined;
  /** The device token kept beside the id (`<id>.<token>`), with a cookie domain only. */
  token(): string | undefined;
  /**
   * Writes the id; false when cookies are blocked (it did not stick). With a cookie domain the
   * token goes along: each subdomain has its own localStorage, and without the token a subdomain
   * could neither read the profile nor write to a linked device. Without one, the token stays out
   * of the cookie, which travels with every request to the shop.
   */
  set(id: string, token?: string): boolean;
  remove(): void;
}

export function idCookie(https: boolean, domain?: string): IdCookie {
  // document.cookie throws in sandboxed frames.
  const put = (v: string, days: number) => {
    try {
      document.cookie =
        `${COOKIE}=${v}; path=/; expires=${new Date(Date.now() + 864e5 * days).toUTCString()}; sameSite=Lax` + (domain ? '; domain=' + domain : '') + (https ? '; secure' : '');
    } catch {}
  };
  const read = () => {
    try {
      // Only an id the server accepts: a tampered cookie would get every batch refused.
      return /(?:^|; )cairn_id=([\w-]{8,64})(?:\.([\w-]{32,64}))?(;|$)/.exec(document.cookie) || undefined;
    } catch {}
  };
  const get = () => read()?.[1];
  return { get, token: () => read()?.[2], set: (id, t) => (put(domain && t ? id + '.' + t : id, 396), get() == id), remove: () => put('', -1) };
}
