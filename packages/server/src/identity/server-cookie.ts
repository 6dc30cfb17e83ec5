import { createHash, randomBytes } from 'node:crypto';
import type { SiteConfig } from '@cairn/schema';
import type { AppCtx, C } from '../context.js';

// The server-set cookie (identity.serverCookie): an HttpOnly first-party cookie holding a random
// secret, which the server binds to one device (it keeps only the secret's SHA-256). Script cannot
// read it, nor set it (HttpOnly cookies cannot be written from document.cookie), so a request that
// carries it comes from the browser the server gave it to. The device id (script-visible in
// `cairn_id`, sent to the shop's backend) is not a credential: a cookie holding it, or any value
// the server never issued, is bound to nothing and recovers nothing.

export type ServerCookie = NonNullable<NonNullable<SiteConfig['identity']>['serverCookie']>;

/** 13 months from the binding, the CNIL's limit, as the SDK's id cookie: never extended (a rotation keeps the time). */
export const SERVER_COOKIE_MAX_AGE = 396 * 86_400;
/** The SDK's lasting refusal: with it, no server cookie is set. */
const CONSENT_COOKIE = 'cairn_consent';
/** 32 random bytes, base64url. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export const newSecret = (): string => randomBytes(32).toString('base64url');
export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** The site's server cookie, when its config turns it on. */
export async function serverCookieOf(ctx: AppCtx, site: string): Promise<ServerCookie | undefined> {
  return (await ctx.configs.get(site))?.config.identity?.serverCookie;
}

/** Every value the request's Cookie header gives this name. */
export function requestCookies(c: C, name: string): string[] {
  const values: string[] = [];
  for (const part of (c.req.header('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** A cookie of the request, or undefined. */
export const requestCookie = (c: C, name: string): string | undefined => requestCookies(c, name)[0];

/** Secure when the request is https, or arrived through the trusted proxy as https (X-Forwarded-Proto). */
export function secureRequest(c: C, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  return trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/**
 * The cookie as this request's host gets it: host-only (no Domain, so no other subdomain shares or
 * shadows it) and Secure, named `__Host-…` (browsers refuse a `__Host-` cookie set by script, with a
 * Domain or without Secure: a sibling subdomain cannot toss one in). Plain http only on loopback or
 * with the server's insecureCookies (local development, tests). Undefined when the config's
 * `domain` does not contain this host: no cookie then.
 */
export function cookieJar(c: C, ctx: AppCtx, cookie: ServerCookie): { name: string; secure: boolean } | undefined {
  const host = new URL(c.req.url).hostname.toLowerCase();
  if (cookie.domain !== undefined) {
    const domain = cookie.domain.replace(/^\./, '').toLowerCase();
    if (host !== domain && !host.endsWith(`.${domain}`)) return undefined;
  }
  const secure = secureRequest(c, ctx.admin.trustProxy) || !(ctx.insecureCookies || LOOPBACK.has(host));
  return { name: secure ? `__Host-${cookie.name}` : cookie.name, secure };
}

/**
 * The secret the request's server cookie holds, if it has the shape of one the server issues.
 * `tossed`: the name came more than once (one of them planted by someone else): nothing is trusted.
 */
export function presentedSecret(c: C, jar: { name: string }): { secret?: string; tossed: boolean } {
  const values = requestCookies(c, jar.name);
  if (values.length > 1) return { tossed: true };
  const value = values[0];
  return value !== undefined && SECRET.test(value) ? { secret: value, tossed: false } : { tossed: false };
}

/** The visitor refused (the SDK's `cairn_consent=denied`, when the cookie domain shares it with this host). */
export const refused = (c: C): boolean => requestCookie(c, CONSENT_COOKIE) === 'denied';

/** Sets (a secret, for `maxAge` seconds) or expires (null) the server cookie on the answer. */
export function writeServerCookie(
  c: C,
  jar: { name: string; secure: boolean },
  secret: string | null,
  maxAge = SERVER_COOKIE_MAX_AGE,
): void {
  const attributes = [
    `${jar.name}=${secret ?? ''}`,
    'Path=/',
    `Max-Age=${secret === null ? 0 : maxAge}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (jar.secure) attributes.push('Secure');
  c.header('Set-Cookie', attributes.join('; '), { append: true });
}

/**
 * On a collect the device's token proved (so consent is granted: the SDK sends none without it):
 * the browser gets a server cookie bound to the device, unless the one it carries is already.
 * A refusal in the request, or a tossed cookie, sets nothing. One indexed read when the cookie is
 * there and good.
 */
export async function bindOnCollect(c: C, ctx: AppCtx, site: string, deviceId: string): Promise<void> {
  const cookie = await serverCookieOf(ctx, site);
  const jar = cookie && cookieJar(c, ctx, cookie);
  if (!jar || refused(c)) return;
  const { secret: presented, tossed } = presentedSecret(c, jar);
  if (tossed) return;
  if (
    presented !== undefined &&
    (await ctx.store.serverCookieDevice(site, hashSecret(presented)))?.deviceId === deviceId
  )
    return;
  const secret = newSecret();
  await ctx.store.bindServerCookie(site, deviceId, hashSecret(secret), ctx.now());
  writeServerCookie(c, jar, secret);
}
