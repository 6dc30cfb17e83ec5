// Link safety for config URLs: a compact copy of @cairn/schema's isSafeUrl, since the SDK may not
// import runtime code from the schema package (zod would follow it into the bundle).

/** http(s) or relative only. Browsers ignore controls and spaces before a scheme, so they are stripped first. */
export const isSafeUrl = (u: unknown): u is string =>
  typeof u == 'string' && /^(https?:|(?![a-z][\w+.-]*:))/i.test(u.replace(/[\0- \x7f-\x9f]/g, ''));

/** Adds `returnTo=<encoded ret>` to the query (before any #fragment), whether or not there is one. */
export function withReturn(url: string, ret: string): string {
  const i = (url + '#').indexOf('#');
  const b = url.slice(0, i);
  return b + (/[?&]$/.test(b) ? '' : b.includes('?') ? '&' : '?') + 'returnTo=' + encodeURIComponent(ret) + url.slice(i);
}
