import type { Context } from 'hono';
import { z } from 'zod';
import { siteIdSchema } from '@cairn/schema';
import { ClientClosedRequest, fromZod, HttpError } from './errors.js';

// Reading what a request carries: JSON bodies (any content type: sendBeacon posts text/plain),
// validated queries, and Bearer credentials.

/** NUL and lone surrogates: valid JSON, but PostgreSQL refuses them, so they are refused here for both stores. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point.
export const BAD_CHARS = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function findBadString(value: unknown, path: string[], depth: number): string[] | null {
  if (typeof value === 'string') return BAD_CHARS.test(value) ? path : null;
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (BAD_CHARS.test(k)) return [...path, '(key)'];
    const hit = findBadString(v, [...path, k], depth + 1);
    if (hit) return hit;
  }
  return null;
}

export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header('content-type');
  if (type && !/^\s*(application\/json|text\/plain)\b/i.test(type)) {
    throw new HttpError(415, 'unsupported_media_type', 'send JSON as application/json or text/plain');
  }
  let text: string;
  try {
    text = await c.req.text();
  } catch (e) {
    // The only connection read here is the client's: a reset or abort means it went away mid-body.
    const code = (e as { code?: unknown } | null)?.code;
    if (code === 'ECONNRESET' || (e as Error | null)?.name === 'AbortError')
      throw new ClientClosedRequest('the client closed the connection before its request body arrived');
    throw e;
  }
  if (!text.trim()) throw new HttpError(400, 'invalid_json', 'the request body is empty; send a JSON object');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new HttpError(400, 'invalid_json', 'the request body must be a JSON object');
  }
  // Decoded from UTF-8, the text holds no lone surrogate, and JSON allows no raw NUL in a string:
  // either can only come from a \u escape. Without one, there is nothing to look for.
  const bad = text.includes('\\u') ? findBadString(data, [], 0) : null;
  if (bad) {
    const field = bad.join('.');
    throw new HttpError(
      400,
      'invalid_request',
      `${field || 'body'}: NUL and unpaired surrogate characters are not allowed`,
      field || undefined,
    );
  }
  return data;
}

export function parse<S extends z.ZodType>(schema: S, data: unknown, prefix?: string): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw fromZod(r.error, prefix);
  return r.data;
}

/** The query as plain strings (first value of each), checked against a schema. */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const q = c.req.query();
  for (const [k, v] of Object.entries(q)) {
    if (BAD_CHARS.test(v)) throw new HttpError(400, 'invalid_request', `${k}: invalid characters`, k);
  }
  return parse(schema, q);
}

/** The Bearer credential, or null when there is none. A malformed Authorization header is a 401. */
export function bearer(c: Context): string | null {
  const h = c.req.header('authorization');
  if (h === undefined) return null;
  const m = /^Bearer[ \t]+([\x21-\x7e]{1,1024})[ \t]*$/i.exec(h);
  if (!m?.[1]) throw new HttpError(401, 'unauthorized', 'the Authorization header must be "Bearer <token>"');
  return m[1];
}

/** `?site=`, on the GETs that read one site. */
export const siteQuery = z.object({ site: siteIdSchema });

/** A `?site=` on a request whose body names its site must agree with it. */
export function checkQuerySite(c: Context, site: string): void {
  const q = c.req.query('site');
  if (q !== undefined && q !== site)
    throw new HttpError(400, 'invalid_request', 'site: the query and the body name different sites', 'site');
}
