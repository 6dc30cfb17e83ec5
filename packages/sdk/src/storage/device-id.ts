// The device id cookie: first-party, 13 months, SameSite=Lax, Secure on https, on a configurable
// domain so that subdomains share it.
//
// Written over document.cookie rather than with js-cookie for the byte budget:
// js-cookie cost 506 B gzip -9 of dist/cairn.js (measured with everything else equal: 11231 B with
// it, 10725 B with these lines), and the whole bundle has to fit in 8192 B. The id is [\w-] only,
// so it needs no encoding, and a cookie that is not such an id (tampered) reads as none.

export const COOKIE = 'cairn_id';
/** The device token's cookie, written with a cookie domain only. */
export const TOKEN_COOKIE = 'cairn_tk';
/**
 * The visitor's refusal, `cairn_consent=denied`: left by cairn.consent('denied'), lifted by
 * cairn.consent('granted') only (src/core/consent-change.ts). It names no one: a logout leaves it.
 */
export const CONSENT_COOKIE = 'cairn_consent';

export interface IdCookie {
  get(): string | undefined;
  /** The device token kept in its own cookie (with a cookie domain), if any. */
  token(): string | undefined;
  /**
   * Writes the id; false when cookies are blocked (it did not stick). With a cookie domain the
   * token goes in a cookie of its own (no token: that cookie goes): each subdomain has its own
   * localStorage, and without the token a subdomain could neither read the profile nor write to a
   * linked device. Without one, the token stays out of cookies, which travel with every request.
   */
  set(id: string, token?: string): boolean;
  /** Removes the id and token cookies (the refusal stays: it is not about the person). */
  remove(): void;
  /** Leaves the refusal (`keep`), or lifts it: on the id cookie's domain, never Secure-only. */
  _refuse(keep: boolean): void;
}

/**
 * A cookie's value when it is an id (or token) the server accepts, or matches `value`: a tampered
 * cookie reads as none.
 */
export const readCookie = (name: string, value = '[\\w-]{8,64}'): string | undefined => {
  try {
    return new RegExp(`(?:^|; )${name}=(${value})(;|$)`).exec(document.cookie)?.[1];
  } catch {}
};

export function idCookie(https: boolean, domain?: string): IdCookie {
  // document.cookie throws in sandboxed frames.
  const put = (name: string, v: string, days: number, secure = https) => {
    try {
      document.cookie =
        `${name}=${v}; path=/; expires=${new Date(Date.now() + 864e5 * days).toUTCString()}; sameSite=Lax` +
        (domain ? '; domain=' + domain : '') +
        (secure ? '; secure' : '');
    } catch {}
  };
  const get = () => readCookie(COOKIE);
  return {
    get,
    token: () => readCookie(TOKEN_COOKIE),
    set: (id, t) => (put(COOKIE, id, 396), domain && put(TOKEN_COOKIE, t || '', t ? 396 : -1), get() == id),
    remove: () => (put(COOKIE, '', -1), put(TOKEN_COOKIE, '', -1)),
    // Never Secure-only: it names no one, and an http page of the site must honour it too.
    _refuse: (keep) => put(CONSENT_COOKIE, 'denied', keep ? 396 : -1, false),
  };
}
