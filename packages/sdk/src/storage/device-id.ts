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
  /** Writes the id; false when cookies are blocked (it did not stick). */
  set(id: string): boolean;
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
  const get = () => {
    try {
      // Only an id the server accepts: a tampered cookie would get every batch refused.
      return /(?:^|; )cairn_id=([\w-]{8,64})(;|$)/.exec(document.cookie)?.[1];
    } catch {}
  };
  return { get, set: (id) => (put(id, 396), get() == id), remove: () => put('', -1) };
}
