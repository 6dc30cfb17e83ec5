import Cookies from 'js-cookie';

// The device id cookie: first-party, 13 months, SameSite=Lax, Secure on https, on a configurable
// domain so that subdomains share it.

export const COOKIE = 'cairn_id';

export interface IdCookie {
  get(): string | undefined;
  /** Writes the id; false when cookies are blocked (it did not stick). */
  set(id: string): boolean;
  remove(): void;
}

export function idCookie(https: boolean, domain?: string): IdCookie {
  const c = Cookies.withAttributes({ expires: 396, sameSite: 'Lax', secure: https, domain, path: '/' });
  const get = () => {
    try {
      // Only an id the server accepts: a tampered cookie would get every batch refused.
      const v = c.get(COOKIE);
      return /^[\w-]{8,64}$/.test(v!) ? v : undefined;
    } catch {}
  };
  return {
    get,
    set(id) {
      try {
        c.set(COOKIE, id);
      } catch {}
      return get() === id;
    },
    remove() {
      try {
        c.remove(COOKIE);
      } catch {}
    },
  };
}
