import type { MiddlewareHandler } from 'hono';
import type { AppCtx, C, Env } from '../../context.js';
import { HttpError } from '../../errors.js';

// CORS for the /v1 API, per site: a browser origin is allowed when the site's config lists it in
// `origins`, or the server's --origins list does. Allowed origins may send credentials (cookies).

/** What an origin check reads: the --origins list and the site configs. */
export type OriginPolicy = Pick<AppCtx, 'origins' | 'configs'>;

export const PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, If-None-Match, If-Match',
  'Access-Control-Max-Age': '600',
};

/** Response headers a browser script may read besides the simple ones. */
export const EXPOSED_HEADERS = 'ETag, Retry-After';

const SITE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether a browser origin may call the API for this site (or, site unknown, for any site this instance knows). */
export async function originAllowed(policy: OriginPolicy, origin: string, site: string | undefined): Promise<boolean> {
  if (policy.origins.has(origin)) return true;
  if (!site) return policy.configs.knownOrigins.has(origin);
  const loaded = await policy.configs.get(site);
  return loaded?.config.origins.includes(origin) ?? false;
}

/** Data endpoints refuse browsers from origins the site has not configured: nothing is read or written. */
export async function requireOrigin(policy: OriginPolicy, c: C, site: string): Promise<void> {
  c.set('site', site);
  const origin = c.req.header('origin');
  if (origin === undefined || (await originAllowed(policy, origin, site))) return;
  throw new HttpError(
    403,
    'origin_not_allowed',
    `this origin is not allowed for site "${site}"; add it to the site config's "origins"`,
  );
}

/**
 * Answers preflights, and adds Access-Control-Allow-Origin to every other answer for an allowed
 * origin. That decision is made after the handler: a POST names its site in the body, which only
 * the handler reads (it records it with `c.set('site')`), and error answers need the header too,
 * so the SDK can read a 4xx instead of seeing a network failure.
 */
export function siteCors(policy: OriginPolicy): MiddlewareHandler<Env> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    const querySite = c.req.query('site');
    const site = querySite && SITE_ID.test(querySite) ? querySite : undefined;
    const allowed = async (s: string | undefined) =>
      origin !== undefined && (await originAllowed(policy, origin, s).catch(() => false));

    if (c.req.method === 'OPTIONS') {
      if (!(await allowed(site)))
        throw new HttpError(
          403,
          'origin_not_allowed',
          'this origin is not allowed; add it to the site config\'s "origins"',
        );
      return c.body(null, 204, {
        ...PREFLIGHT_HEADERS,
        'Access-Control-Allow-Origin': origin as string,
        'Access-Control-Allow-Credentials': 'true',
        Vary: 'Origin',
      });
    }

    await next();
    c.res.headers.append('Vary', 'Origin');
    if (await allowed(c.get('site') ?? site)) {
      c.res.headers.set('Access-Control-Allow-Origin', origin as string);
      c.res.headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      // Credentialed (the SDK's fetches and beacons carry the server-set cookie): the origin is
      // always the exact allowed one, never "*".
      c.res.headers.set('Access-Control-Allow-Credentials', 'true');
    }
  };
}
