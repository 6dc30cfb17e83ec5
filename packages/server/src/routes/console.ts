import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { validateSiteConfig } from '@cairn/schema';
import { regexSafety } from '../config/regex-safety.js';
import type { Env } from '../context.js';
import { configSizeIssue, MAX_CONFIG_BYTES } from '../config/site-configs.js';
import { missingWebhookSecret } from '../keys/site-keys.js';
import { adminOnly, type AdminAuth, type SiteOf } from '../middleware/admin/index.js';
import { bodyLimit } from '../middleware/body-limit/index.js';

// The marketer console: static files (public, they hold no data) under /console/, and the live
// config check its editor calls (admin). Every page is served with a strict CSP: scripts and styles
// from this origin only, no inline code, no framing.

export interface ConsoleDeps {
  /** The app's admin keys, or one global key. */
  adminKey?: AdminAuth | string | undefined;
  /** The console's static files; default @cairn/console's public/ folder. */
  dir?: string | URL;
  /** The site's webhook secret, as the save checks it: triggers need one. Absent: every site has none. */
  webhookSecretFor?: ((site: string) => string | undefined) | undefined;
}

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Plain names only: no dot-files, no `..`, no backslashes or encoded tricks. */
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export function defaultConsoleDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@cairn/console')), 'public');
  } catch {
    // Not a dependency (yet): the monorepo's copy, three levels up from src/routes or dist/routes.
    return fileURLToPath(new URL('../../../console/public/', import.meta.url));
  }
}

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * The site a checked config names, which a site's admin key must be for. A body that names none
 * (the console's sign-in check sends `{}`, an editor may hold broken JSON) reads no site's data.
 */
const configSite: SiteOf = async (c) => {
  try {
    const body = JSON.parse(await c.req.text()) as { site?: unknown } | null;
    return typeof body?.site === 'string' ? body.site : null;
  } catch {
    return null;
  }
};

export function consoleRoutes(deps: ConsoleDeps = {}): Hono<Env> {
  const root = resolve(deps.dir instanceof URL ? fileURLToPath(deps.dir) : (deps.dir ?? defaultConsoleDir()));
  const app = new Hono<Env>();

  // '/console/*' matches '/console' itself too.
  app.use('/console/*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });

  app.get('/console', (c) => c.redirect('/console/', 308));

  // The editor's live check: the very checks PUT /v1/config makes (schema, size, ReDoS, triggers'
  // webhook secret), so it never says "Valid" for a config the save refuses. Always 200 with the issues.
  app.post('/console/api/validate', bodyLimit(MAX_CONFIG_BYTES), adminOnly(deps.adminKey, configSite), async (c) => {
    const text = await c.req.text();
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (e) {
      return c.json(
        { ok: false, issues: [{ path: '(json)', message: `not valid JSON: ${(e as Error).message}` }] },
        200,
        { 'Cache-Control': 'no-store' },
      );
    }
    const r = validateSiteConfig(input);
    const tooLarge = r.ok ? configSizeIssue(r.config) : null;
    const issues = r.ok ? (tooLarge ? [tooLarge] : await regexSafety.unsafeRegexes(r.config)) : r.issues;
    if (r.ok && issues.length === 0 && r.config.triggers.length > 0 && !deps.webhookSecretFor?.(r.config.site))
      issues.push({ path: 'triggers', message: missingWebhookSecret(r.config.site) });
    return c.json({ ok: issues.length === 0, issues: issues.slice(0, 100) }, 200, { 'Cache-Control': 'no-store' });
  });

  // Hono answers HEAD through GET routes, without the body.
  app.get('/console/*', async (c) => {
    const rel = c.req.path.slice('/console/'.length) || 'index.html';
    if (!SAFE_PATH.test(rel)) return c.notFound();
    const file = resolve(root, rel);
    const type = TYPES[extname(file).toLowerCase()];
    if (!type || !file.startsWith(root + sep)) return c.notFound();
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return c.notFound();
    const etag = `"${createHash('sha256').update(`${file}:${st.mtimeMs}:${st.size}`).digest('base64url').slice(0, 22)}"`;
    const headers = { 'Content-Type': type, ETag: etag, 'Cache-Control': 'no-cache' };
    if (
      c.req
        .header('if-none-match')
        ?.split(',')
        .some((t) => t.trim() === etag)
    )
      return c.body(null, 304, headers);
    return c.body(await readFile(file), 200, headers);
  });

  return app;
}

/** The console's operations, for the server's OpenAPI document (`paths: { ...consoleOpenApiPaths() }`). */
export function consoleOpenApiPaths(): Record<string, unknown> {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    '/console': { get: { summary: 'Redirects to /console/.', responses: { '308': { description: 'To /console/.' } } } },
    '/console/*': {
      get: {
        summary: 'The marketer console: static files (no data) under a strict Content-Security-Policy.',
        responses: {
          '200': { description: 'A file.' },
          '304': { description: 'Not modified.' },
          '404': error('No such file.'),
        },
      },
    },
    '/console/api/validate': {
      post: {
        summary:
          'Checks a site config (the request body, as JSON text) against the schema PUT /v1/config uses (admin). Saves nothing.',
        security: [{ adminKey: [] }],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/SiteConfigInput' } } },
        },
        responses: {
          '200': {
            description: '`{ ok, issues: [{ path, message }] }`; a JSON syntax error is one issue at path `(json)`.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    ok: { type: 'boolean' },
                    issues: {
                      type: 'array',
                      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
                    },
                  },
                },
              },
            },
          },
          '401': error('Admin key missing or wrong.'),
          '403': error('Admin endpoints disabled (no admin key), or a site admin key for another site.'),
          '413': error(`Larger than ${MAX_CONFIG_BYTES} bytes (64 KB).`),
          '429': error('Too many wrong admin keys, or requests, from this address; see Retry-After.'),
        },
      },
    },
  };
}
