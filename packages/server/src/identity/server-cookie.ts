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

/** 13 months, the CNIL's limit, as the SDK's id cookie: never extended by later visits. */
export const SERVER_COOKIE_MAX_AGE = 396 * 86_400;
/** The SDK's lasting refusal: with it, no server cookie is set. */
const CONSENT_COOKIE = 'cairn_consent';
/** 32 random bytes, base64url. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export const newSecret = (): string => randomBytes(32).toString('base64url');
export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** The site's server cookie, when its config turns it on. */
export async function serverCookieOf(ctx: AppCtx, site: string): Promise<ServerCookie | undefined> {
  return (await ctx.configs.get(site))?.config.identity?.serverCookie;
}

/** A cookie of the request, or undefined. */
export function requestCookie(c: C, name: string): string | undefined {
  for (const part of (c.req.header('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The secret the request's server cookie holds, if it has the shape of one the server issues. */
export function presentedSecret(c: C, cookie: ServerCookie): string | undefined {
  const value = requestCookie(c, cookie.name);
  return value !== undefined && SECRET.test(value) ? value : undefined;
}

/** The visitor refused (the SDK's `cairn_consent=denied`, when the cookie domain shares it with this host). */
export const refused = (c: C): boolean => requestCookie(c, CONSENT_COOKIE) === 'denied';

/** Secure when the request is https, or arrived through the trusted proxy as https (X-Forwarded-Proto). */
export function secureRequest(c: C, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  return trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/** Sets (a secret) or expires (null) the server cookie on the answer. */
export function writeServerCookie(c: C, ctx: AppCtx, cookie: ServerCookie, secret: string | null): void {
  const attributes = [
    `${cookie.name}=${secret ?? ''}`,
    `Domain=${cookie.domain}`,
    'Path=/',
    `Max-Age=${secret === null ? 0 : SERVER_COOKIE_MAX_AGE}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (secureRequest(c, ctx.admin.trustProxy)) attributes.push('Secure');
  c.header('Set-Cookie', attributes.join('; '), { append: true });
}

/**
 * On a collect the device's token proved (so consent is granted: the SDK sends none without it):
 * the browser gets a server cookie bound to the device, unless the one it carries is already.
 * A refusal in the request sets nothing. One indexed read when the cookie is there and good.
 */
export async function bindOnCollect(c: C, ctx: AppCtx, site: string, deviceId: string): Promise<void> {
  const cookie = await serverCookieOf(ctx, site);
  if (!cookie || refused(c)) return;
  const presented = presentedSecret(c, cookie);
  if (presented !== undefined && (await ctx.store.serverCookieDevice(site, hashSecret(presented))) === deviceId) return;
  const secret = newSecret();
  await ctx.store.bindServerCookie(site, deviceId, hashSecret(secret), ctx.now());
  writeServerCookie(c, ctx, cookie, secret);
}
