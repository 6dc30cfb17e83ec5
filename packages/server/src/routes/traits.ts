import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import {
  MAX_TRAITS,
  TRAIT_KEY,
  traitsBodySchema,
  traitsPatchSchema,
  traitsResponseSchema,
  type TraitsResponse,
} from '@cairn/schema';
import type { AppCtx, C, Env } from '../context.js';
import { HttpError } from '../errors.js';
import { checkAllowance, presentedKey } from '../middleware/admin/index.js';
import { bodyLimit } from '../middleware/body-limit/index.js';
import { BAD_CHARS, parse, parseQuery, readJson, siteQuery } from '../request.js';
import type { StoredTraits, TraitsChange, TraitsResult } from '../store/types.js';

// A user's CRM traits, from the store's backend: PUT replaces them, PATCH merges (null removes a
// key), DELETE …/traits/:key removes one, GET reads them. They enter the profile of the user's
// linked devices only. Trait values are personal data: they are never logged (the request log
// names the route pattern only, and no error here quotes a value).

/** 50 traits of 1,000 characters fit when they are plain text; a CRM sends far less. */
export const MAX_TRAITS_BODY_BYTES = 64 * 1024;

// As POST /v1/identify takes it; a path parameter is checked for the characters a body may not hold either.
const userId = z
  .string()
  .min(1)
  .max(128)
  .refine((v) => !BAD_CHARS.test(v), 'NUL and unpaired surrogate characters are not allowed');
const traitKey = z.string().regex(TRAIT_KEY, 'a trait key is a letter, then up to 63 letters, digits and "_"');

/**
 * The site's admin key (or the global one), or a backend key: CAIRN_BACKEND_KEY for every site,
 * a site's own for that site. A backend key reaches these routes only. Failed keys spend the same
 * per-address allowance as the admin routes'.
 */
function adminOrBackend(ctx: AppCtx): MiddlewareHandler<Env> {
  return async (c, next) => {
    const keys = ctx.admin.keys;
    if (!keys.adminEnabled && !keys.backendEnabled)
      throw new HttpError(
        403,
        'admin_disabled',
        'the traits endpoints are disabled: set CAIRN_BACKEND_KEY (or CAIRN_ADMIN_KEY)',
      );
    const ip = await checkAllowance(ctx.admin, c);
    const key = await presentedKey(ctx.admin, c, ip);
    // Both compared, whichever matches: the time taken does not tell an admin key from a backend key.
    const asAdmin = keys.adminScope(key);
    const asBackend = keys.backendScope(key);
    const scope = asAdmin ?? asBackend;
    if (scope === null) {
      await ctx.admin.failures?.take(ip);
      throw new HttpError(401, 'unauthorized', 'a backend or admin key is required as "Authorization: Bearer <key>"');
    }
    if (scope.kind === 'site') {
      const site = c.req.query('site');
      if (site === undefined || !scope.covers(site))
        throw new HttpError(403, 'forbidden_site', "this key is another site's: name its own site in ?site=", 'site');
    }
    await next();
  };
}

const response = (id: string, stored: StoredTraits): TraitsResponse => ({
  userId: id,
  traits: stored.traits,
  updatedAt: stored.updatedAt,
});

/**
 * A PUT's body, first refusing one of more than MAX_TRAITS keys, naming the first key past it. (A
 * PATCH's may hold more, removals included: its merged result is what counts, in the store.)
 */
async function replaceBody(c: C): Promise<Record<string, unknown>> {
  const body = (await readJson(c)) as Record<string, unknown>;
  const over = Object.keys(body)[MAX_TRAITS];
  if (over !== undefined)
    throw new HttpError(
      400,
      'too_many_traits',
      `${over}: at most ${MAX_TRAITS} traits per user; this body has ${Object.keys(body).length}`,
      over,
    );
  return body;
}

export function traitsRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  const auth = adminOrBackend(ctx);
  const limit = bodyLimit(MAX_TRAITS_BODY_BYTES);
  const noStore = { 'Cache-Control': 'no-store' };

  const apply = async (c: C, change: TraitsChange) => {
    const { site } = parseQuery(c, siteQuery);
    const id = parse(userId, c.req.param('id'), 'id');
    const r: TraitsResult = await ctx.store.changeTraits(site, id, change, ctx.now());
    if ('refused' in r) {
      if (r.refused === 'unknown_user') throw new HttpError(404, 'unknown_user', 'no such user for this site', 'id');
      throw new HttpError(
        400,
        'too_many_traits',
        `${r.key}: at most ${MAX_TRAITS} traits per user; merged with the stored ones, there would be ${r.count}`,
        r.key,
      );
    }
    return c.json(response(id, r), 200, noStore);
  };

  app.get('/v1/users/:id/traits', auth, async (c) => {
    const { site } = parseQuery(c, siteQuery);
    const id = parse(userId, c.req.param('id'), 'id');
    const stored = await ctx.store.getTraits(site, id);
    if (!stored) throw new HttpError(404, 'unknown_user', 'no such user for this site', 'id');
    return c.json(response(id, stored), 200, noStore);
  });

  // The site is checked (and the user id) before the body is read: a bad query costs no parse.
  app.put('/v1/users/:id/traits', limit, auth, async (c) => {
    parseQuery(c, siteQuery);
    parse(userId, c.req.param('id'), 'id');
    const traits = parse(traitsBodySchema, await replaceBody(c));
    return apply(c, { kind: 'replace', traits });
  });

  app.patch('/v1/users/:id/traits', limit, auth, async (c) => {
    parseQuery(c, siteQuery);
    parse(userId, c.req.param('id'), 'id');
    const traits = parse(traitsPatchSchema, await readJson(c));
    return apply(c, { kind: 'merge', traits });
  });

  app.delete('/v1/users/:id/traits/:key', auth, async (c) => {
    parseQuery(c, siteQuery);
    parse(userId, c.req.param('id'), 'id');
    const key = parse(traitKey, c.req.param('key'), 'key');
    return apply(c, { kind: 'remove', key });
  });
  return app;
}

/** The traits routes' OpenAPI paths (openapi.ts assembles the document). */
export function traitsOpenApiPaths(): Record<string, unknown> {
  const toJson = (s: z.ZodType, io: 'input' | 'output') => {
    const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
    return rest;
  };
  const body = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: toJson(s, 'input') } } });
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  const security = [{ backendKey: [] }, { adminKey: [] }];
  const id = {
    name: 'id',
    in: 'path',
    required: true,
    description: 'The user id, as the site logs users in.',
    schema: { type: 'string' },
  };
  const site = { name: 'site', in: 'query', required: true, description: 'The site id.', schema: { type: 'string' } };
  const ok = (description: string) => ({
    description,
    content: { 'application/json': { schema: toJson(traitsResponseSchema, 'output') } },
  });
  const refusals = {
    '400': error(
      'Invalid input; `field` names the first bad field (a trait key, `id`, `site`, `key`). `too_many_traits`: over 50 keys, naming the first key past the cap.',
    ),
    '401': error('Backend or admin key missing or wrong.'),
    '403': error(
      "No backend or admin key configured (`admin_disabled`), or a site's own key used for another site (`forbidden_site`).",
    ),
    '429': {
      description: 'Too many wrong keys from this address (shared with the admin routes); see Retry-After.',
      headers: { 'Retry-After': { schema: { type: 'integer' } } },
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    },
  };
  const note =
    "For the store's backend (server to server). The traits enter the profile of the user's linked devices only (GET /v1/profile `traits`), never an anonymous device's; they are exported with the user and erased with them, and never logged.";
  return {
    '/v1/users/{id}/traits': {
      get: {
        summary: "A user's CRM traits. `updatedAt` is 0 when none were ever set.",
        description: note,
        security,
        parameters: [id, site],
        responses: { '200': ok('The traits.'), ...refusals, '404': error('Unknown user.') },
      },
      put: {
        summary:
          "Replaces a user's CRM traits: a flat object of at most 50 keys (a letter, then letters, digits and _), holding strings (up to 1,000 characters), numbers and booleans. A user the site has not seen yet is created.",
        description: `${note} Body at most 64 KB.`,
        security,
        parameters: [id, site],
        requestBody: body(traitsBodySchema),
        responses: { '200': ok('The traits as stored.'), ...refusals, '413': error('Body over 64 KB.') },
      },
      patch: {
        summary:
          "Merges into a user's CRM traits: each key is set, `null` removes it. The merged result may hold at most 50 keys (else 400, nothing changed).",
        description: `${note} Body at most 64 KB.`,
        security,
        parameters: [id, site],
        requestBody: body(traitsPatchSchema),
        responses: { '200': ok('The traits as stored.'), ...refusals, '413': error('Body over 64 KB.') },
      },
    },
    '/v1/users/{id}/traits/{key}': {
      delete: {
        summary: "Removes one of a user's CRM traits (a key that is not there: no change).",
        description: note,
        security,
        parameters: [id, { name: 'key', in: 'path', required: true, schema: { type: 'string' } }, site],
        responses: { '200': ok('The traits left.'), ...refusals, '404': error('Unknown user.') },
      },
    },
  };
}
