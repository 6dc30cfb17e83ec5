import { z } from 'zod';
import {
  collectBodySchema,
  collectResponseSchema,
  errorSchema,
  identifyBodySchema,
  identifyResponseSchema,
  logoutBodySchema,
  logoutResponseSchema,
  optinBodySchema,
  orderConfirmBodySchema,
  orderConfirmResponseSchema,
  profileSchema,
  recoverBodySchema,
  recoverResponseSchema,
  siteConfigSchema,
  touchSchema,
  eventSchema,
  LIMITS,
} from '@cairn/schema';
import { reportsOpenApiPaths } from './routes/reports.js';
import { deliveriesOpenApiPaths } from './routes/deliveries.js';
import { traitsOpenApiPaths } from './routes/traits.js';
import { consoleOpenApiPaths } from './routes/console.js';

// The OpenAPI 3.1 document: component schemas generated from the zod schemas, paths assembled here.

type Json = Record<string, unknown>;

function schema(s: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const err = (description: string) => ({ description, content: json('Error') });
const q = (name: string, description: string, required = true) => ({
  name,
  in: 'query',
  required,
  description,
  schema: { type: 'string' },
});
const siteParam = q('site', 'The site id.');
const bearer = [{ deviceToken: [] }];
const admin = [{ adminKey: [] }];
const common = {
  '400': err('Invalid input; `field` names the first bad field.'),
  '403': err('Browser origin not allowed for this site.'),
  '429': {
    description: 'Rate limited; see Retry-After.',
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
    content: json('Error'),
  },
};
/** What every admin route may answer besides its own. */
const adminRefusals = {
  '401': err('Admin key missing or wrong.'),
  '403': err(
    "Admin endpoints disabled (no admin key), or a site's own admin key used for another site (`forbidden_site`).",
  ),
  '429': {
    description: 'Too many requests, or too many wrong keys, from this address; see Retry-After.',
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
    content: json('Error'),
  },
};
const etag = { ETag: { schema: { type: 'string' } }, 'Cache-Control': { schema: { type: 'string' } } };

export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cairn sync server',
      version: '1',
      description:
        'Device histories, signed identity links, merged profiles, opt-ins and site configs. Errors are JSON `{ error, message, field?, issues? }`. ' +
        "Browser calls are allowed from the site config's `origins` (and the server's --origins). Rate limits are per IP and per device, in memory per instance. " +
        'JSON and JavaScript answers of 1 KB or more are sent with brotli or gzip as Accept-Encoding allows (brotli preferred at equal q), with `Vary: Accept-Encoding`.',
    },
    components: {
      securitySchemes: {
        deviceToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            "The device token: the client's own (32+ characters), adopted when the server first sees the device. Every write and read about a device needs it. It stops working at logout (POST /v1/logout) and after 13 months unused. POST /v1/collect and /v1/logout also take it as `deviceToken` in the body.",
        },
        adminKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            "CAIRN_ADMIN_KEY (every site), or a site's own admin key (CAIRN_SITE_<SITE>_ADMIN_KEY, a keys file): that site only.",
        },
        metricsKey: { type: 'http', scheme: 'bearer', description: 'CAIRN_METRICS_KEY, when the server has one.' },
        backendKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            "For the store's backend: CAIRN_BACKEND_KEY (every site), or a site's own (CAIRN_SITE_<SITE>_BACKEND_KEY, a keys file's backendKey). It reaches the /v1/users/{id}/traits routes only.",
        },
      },
      schemas: {
        Touch: schema(touchSchema),
        Event: schema(eventSchema, 'input'),
        CollectBody: schema(collectBodySchema, 'input'),
        CollectResponse: schema(collectResponseSchema),
        Profile: schema(profileSchema),
        IdentifyBody: schema(identifyBodySchema, 'input'),
        IdentifyResponse: schema(identifyResponseSchema),
        LogoutBody: schema(logoutBodySchema, 'input'),
        LogoutResponse: schema(logoutResponseSchema),
        RecoverBody: schema(recoverBodySchema, 'input'),
        RecoverResponse: schema(recoverResponseSchema),
        OptinBody: schema(optinBodySchema, 'input'),
        OrderConfirmBody: schema(orderConfirmBodySchema, 'input'),
        OrderConfirmResponse: schema(orderConfirmResponseSchema),
        SiteConfigInput: schema(siteConfigSchema, 'input'),
        SiteConfig: schema(siteConfigSchema, 'output'),
        Error: schema(errorSchema),
      },
    },
    paths: {
      ...reportsOpenApiPaths(),
      ...deliveriesOpenApiPaths(),
      ...traitsOpenApiPaths(),
      ...consoleOpenApiPaths(),
      '/v1/collect': {
        post: {
          summary: `Store a batch of events from one device (≤ ${LIMITS.eventsPerBatch} events, ≤ ${LIMITS.batchBytes} bytes), idempotent by event id, in one transaction.`,
          description:
            'Accepts application/json or text/plain (sendBeacon). The device token goes as Bearer, or, from a client that cannot set headers (sendBeacon), as `deviceToken` in the body; with both, they must be the same. ' +
            'A device seen for the first time is adopted with the token its client presents (32+ characters, from either place); without one, nothing is stored. A known device must send its token.',
          security: bearer,
          parameters: [q('site', "Optional; must equal the body's site. Lets CORS preflight know the site.", false)],
          requestBody: { required: true, content: json('CollectBody') },
          responses: {
            '202': { description: 'Stored.', content: json('CollectResponse') },
            ...common,
            '400': err(
              'Invalid input; `field` names the first bad field (`deviceToken` when it differs from the Bearer token).',
            ),
            '401': err(
              'No device token, a wrong, revoked or expired one, or a new device without one of 32+ characters.',
            ),
            '413': err('Body too large.'),
          },
        },
      },
      '/v1/profile': {
        get: {
          summary: "The device's profile; once linked, the user's merged profile.",
          description:
            'Sent with a strong ETag of its JSON and `Cache-Control: private, no-cache`. If-None-Match with the current ETag answers 304 with no body, after the token check.',
          security: bearer,
          parameters: [
            siteParam,
            q('deviceId', 'The device id.'),
            { name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } },
          ],
          responses: {
            '200': { description: 'The profile.', headers: etag, content: json('Profile') },
            '304': { description: 'Not modified (If-None-Match).', headers: etag },
            ...common,
            '401': err('Missing or wrong device token.'),
          },
        },
      },
      '/v1/identify': {
        post: {
          summary: 'Link the device to a user with a signed identity token; answers the merged profile.',
          description:
            'The device sends its device token as Bearer; a device never seen is adopted with the token its client presents (32+ characters). ' +
            'A login token links one device: another device presenting it gets 401, the same device again a no-op. Its `exp` may be at most an hour ahead (--max-login-ttl), and a token naming a `device` links that device only. ' +
            '`previous` (a device this browser logged out of while the logout could not reach the server, with its token) is revoked once the link is made.',
          security: bearer,
          parameters: [q('site', "Optional; must equal the body's site.", false)],
          requestBody: { required: true, content: json('IdentifyBody') },
          responses: {
            '200': { description: 'Linked (or already linked).', content: json('IdentifyResponse') },
            ...common,
            '401': err(
              '`invalid_identity`: an invalid, expired, forged, wrong-site, too long-lived, other-device or already used login token; `unauthorized`: no device token, or a wrong one.',
            ),
            '409': err('`device_linked`: the device belongs to another user; start a fresh device and retry.'),
          },
        },
      },
      '/v1/logout': {
        post: {
          summary: "Revoke the device's token (logout): the device reads and writes nothing after. Idempotent.",
          description:
            'The token as Bearer, or as `deviceToken` in the body (sendBeacon). The device stays linked to its user for the reports and an erasure, but can no longer read the profile. ' +
            'A device never seen is recorded as revoked, so that a late request with the token cannot adopt it.',
          security: bearer,
          parameters: [q('site', "Optional; must equal the body's site.", false)],
          requestBody: { required: true, content: json('LogoutBody') },
          responses: {
            '200': { description: 'Revoked (or revoked already).', content: json('LogoutResponse') },
            ...common,
            '401': err('No device token, or a wrong one: the same answer as for any other request.'),
          },
        },
      },
      '/v1/recover': {
        post: {
          summary:
            'Recovery after a wipe of script storage: the device the server-set cookie is bound to (identity.serverCookie).',
          description:
            'Credentialed (the HttpOnly cookie the collect answers set). With a cookie the server issued and still binds to a device that is not revoked: that device id, a fresh token made by the server, its profile, and a rotated cookie. ' +
            'Anything else (no cookie, a forged or copied-before value, a logout, an erasure): 204, and nothing is written.',
          parameters: [q('site', "Optional; must equal the body's site.", false)],
          requestBody: { required: true, content: json('RecoverBody') },
          responses: {
            '200': { description: 'The device, a fresh token and its profile.', content: json('RecoverResponse') },
            '204': { description: 'Nothing to recover (a stale cookie is expired).' },
            ...common,
          },
        },
      },
      '/v1/server-cookie': {
        delete: {
          summary: 'Expires the server-set cookie and unbinds the secret it holds (a consent denial, a reset).',
          parameters: [siteParam],
          responses: { '204': { description: 'Expired (Set-Cookie with Max-Age=0).' }, ...common },
        },
      },
      '/v1/config': {
        get: {
          summary:
            "The site config (variants, prompts), without its triggers. With the site's admin key: the whole config, triggers included, `private, no-store`.",
          parameters: [siteParam],
          responses: {
            '200': { description: 'The config.', headers: etag, content: json('SiteConfig') },
            '304': { description: 'Not modified (If-None-Match).' },
            '400': common['400'],
            '401': err('An Authorization header with a wrong admin key.'),
            '404': err('Unknown site.'),
          },
        },
        put: {
          summary:
            'Replace a site config (admin). Optional If-Match for optimistic concurrency, or If-None-Match: * to create only.',
          security: admin,
          parameters: [
            q('site', "Optional; must equal the config's site.", false),
            {
              name: 'If-Match',
              in: 'header',
              required: false,
              description: 'Saves only over this ETag (`*`: over any stored config).',
              schema: { type: 'string' },
            },
            {
              name: 'If-None-Match',
              in: 'header',
              required: false,
              description: '`*` only: saves only when the site has no stored config yet.',
              schema: { type: 'string', enum: ['*'] },
            },
          ],
          requestBody: { required: true, content: json('SiteConfigInput') },
          responses: {
            '200': {
              description: 'Saved.',
              headers: etag,
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { site: { type: 'string' }, etag: { type: 'string' }, config: ref('SiteConfig') },
                  },
                },
              },
            },
            '400': err(
              'Invalid config; `issues` lists every problem with its path, including each regex condition open to ReDoS (or not shown safe in time).',
            ),
            ...adminRefusals,
            '413': err('Larger than 64 KB.'),
            '412': err('If-Match does not match the current ETag, or If-None-Match: * and a config is stored.'),
          },
        },
      },
      '/v1/optins': {
        post: {
          summary:
            "Record an email opt-in with its consent text, time, device and touch. Idempotent by id. Needs the device's token; a device never seen is adopted with it (32+ characters).",
          security: bearer,
          parameters: [q('site', "Optional; must equal the body's site.", false)],
          requestBody: { required: true, content: json('OptinBody') },
          responses: {
            '201': { description: 'Created.' },
            '200': { description: 'Already recorded (same id).' },
            ...common,
          },
        },
      },
      '/v1/orders/confirm': {
        post: {
          summary:
            "The shop's backend confirms an order: `token` is signed with the site's identity secret over `{ site, order, value, currency, exp, device? }` (signOrder).",
          description:
            'With `orders.confirmation: "required"` in the site config, the reports count only confirmed orders; a confirmed order always counts at the signed value and currency, for the device the token names (else the first to report it). ' +
            'Idempotent: the same confirmation again answers `already`; another value, currency or device for a confirmed order is refused (409).',
          parameters: [q('site', "Optional; must equal the body's site.", false)],
          requestBody: { required: true, content: json('OrderConfirmBody') },
          responses: {
            '200': { description: 'Confirmed, or confirmed already.', content: json('OrderConfirmResponse') },
            ...common,
            '401': err(
              '`invalid_order_token`: a forged, expired, wrong-site or malformed token; `unauthorized`: no identity secret for the site.',
            ),
            '409': err('`order_confirmed`: the order was confirmed with another value, currency or device.'),
          },
        },
      },
      '/v1/users/{id}/export': {
        get: {
          summary: 'Everything held about a user (admin).',
          security: admin,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, siteParam],
          responses: {
            '200': { description: "The user's data as JSON." },
            ...adminRefusals,
            '404': err('Unknown user.'),
          },
        },
      },
      '/v1/users/{id}': {
        delete: {
          summary:
            'Erase a user: the user, the links and every event of the linked devices (admin). The devices carry on anonymous.',
          description:
            'Answers once the deleted rows are also out of the database files as far as the database allows: SQLite (secure_delete on) checkpoints and truncates its WAL; PostgreSQL VACUUMs the touched tables. A failure of that step is logged, never answered: the erasure stands.',
          security: admin,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, siteParam],
          responses: {
            '200': { description: 'Erased.' },
            ...adminRefusals,
            '404': err('Unknown user.'),
          },
        },
      },
      '/v1/{file}': {
        get: {
          summary:
            "A deferred part of the SDK, loaded from beside /v1/sdk.js: `cairn-<name>.<hex content hash>.js` (the core, which the head loads after first paint, and the prompts' UI, which the core loads when a prompt is to show), from beside the built dist/cairn.js, else from the database, where each instance records its build's chunks at start and daily (after a failure, sooner; builds from before this version were never recorded) and keeps them 30 days after the last record.",
          description:
            'Immutable (`Cache-Control: public, max-age=31536000, immutable`), with an ETag and `Cross-Origin-Resource-Policy: cross-origin`.',
          parameters: [
            {
              name: 'file',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^cairn-[a-z0-9-]+\\.[0-9a-f]{8,64}\\.js$' },
            },
          ],
          responses: {
            '200': {
              description: 'JavaScript.',
              headers: etag,
              content: { 'application/javascript': { schema: { type: 'string' } } },
            },
            '304': { description: 'Not modified.' },
            '404': err('No such chunk (`Cache-Control: no-store`: another instance may record it soon).'),
            '503': err(
              'The SDK bundle is not built and the database keeps no such chunk, or the database is unavailable (`Cache-Control: no-store`).',
            ),
          },
        },
      },
      '/v1/sdk.js': {
        get: {
          summary: "The SDK's head with the site config embedded; it loads its other parts from /v1/{file}.",
          parameters: [siteParam],
          responses: {
            '200': {
              description: 'JavaScript.',
              headers: etag,
              content: { 'application/javascript': { schema: { type: 'string' } } },
            },
            '304': { description: 'Not modified.' },
            '503': err('The SDK bundle is not built.'),
          },
        },
      },
      '/v1/openapi.json': { get: { summary: 'This document.', responses: { '200': { description: 'OpenAPI 3.1.' } } } },
      '/healthz': {
        get: {
          summary: 'Liveness and database reachability.',
          responses: { '200': { description: 'OK.' }, '503': { description: 'Database unreachable.' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics for this instance. Open unless the server has a metrics key.',
          security: [{}, { metricsKey: [] }],
          responses: {
            '200': { description: 'text/plain; version=0.0.4' },
            '401': err('The server has a metrics key, and the request did not bring it as Bearer.'),
            '429': err('Too many wrong keys from this address; see Retry-After.'),
          },
        },
      },
    },
  };
}
