import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '@cairn/schema';
import { signIdentity } from '../src/identity/identity-token.js';
import { makeStores, type TestDb } from './helpers/db.js';
import { admin, bearer, config, harness, id, pageEvent, SECRET, SITE, type Harness } from './helpers/http.js';

// A table of bad inputs per endpoint: each gets a 4xx naming the field (where there is one) and writes no row.

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  field?: string;
}

const dev = id();
const ev = () => pageEvent();
const collect = (body: unknown, extra: Partial<Case> = {}): Partial<Case> => ({
  method: 'POST',
  path: '/v1/collect',
  body,
  ...extra,
});
const optin = { id: id(), site: SITE, deviceId: dev, email: 'a@example.com', consentText: 'yes', at: 1 };
const identify = {
  site: SITE,
  deviceId: dev,
  userId: 'alice',
  token: signIdentity({ userId: 'alice', secret: SECRET, site: SITE }),
};

const cases: Case[] = [
  // POST /v1/collect
  { name: 'collect: malformed JSON', ...collect(undefined), raw: '{"site":', status: 400 } as Case,
  { name: 'collect: empty body', ...collect(undefined), raw: '', status: 400 } as Case,
  { name: 'collect: JSON array', ...collect([1, 2]), status: 400 } as Case,
  {
    name: 'collect: form content type',
    ...collect(undefined),
    raw: 'a=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
  } as Case,
  { name: 'collect: missing site', ...collect({ deviceId: dev, events: [ev()] }), status: 400, field: 'site' } as Case,
  {
    name: 'collect: bad site chars',
    ...collect({ site: 'a b', deviceId: dev, events: [ev()] }),
    status: 400,
    field: 'site',
  } as Case,
  {
    name: 'collect: short deviceId',
    ...collect({ site: SITE, deviceId: 'x', events: [ev()] }),
    status: 400,
    field: 'deviceId',
  } as Case,
  {
    name: 'collect: no events',
    ...collect({ site: SITE, deviceId: dev, events: [] }),
    status: 400,
    field: 'events',
  } as Case,
  {
    name: 'collect: 101 events',
    ...collect({ site: SITE, deviceId: dev, events: Array.from({ length: LIMITS.eventsPerBatch + 1 }, ev) }),
    status: 400,
    field: 'events',
  } as Case,
  {
    name: 'collect: over 64 KB',
    ...collect({ site: SITE, deviceId: dev, events: [ev()], pad: 'x'.repeat(LIMITS.batchBytes) }),
    status: 413,
  } as Case,
  {
    name: 'collect: one bad event rejects the batch',
    ...collect({ site: SITE, deviceId: dev, events: [ev(), { ...ev(), at: -1 }] }),
    status: 400,
    field: 'events.1.at',
  } as Case,
  {
    name: 'collect: event type not snake_case',
    ...collect({ site: SITE, deviceId: dev, events: [{ ...ev(), type: 'Bad Type' }] }),
    status: 400,
    field: 'events.0.type',
  } as Case,
  {
    name: 'collect: NUL in a string',
    ...collect({ site: SITE, deviceId: dev, events: [{ ...ev(), title: 'a\u0000b' }] }),
    status: 400,
    field: 'events.0.title',
  } as Case,
  {
    name: 'collect: lone surrogate',
    ...collect({ site: SITE, deviceId: dev, events: [{ ...ev(), title: 'a\ud800b' }] }),
    status: 400,
    field: 'events.0.title',
  } as Case,
  {
    name: 'collect: nested props too deep',
    ...collect({ site: SITE, deviceId: dev, events: [{ ...ev(), extra: { a: { b: 1 } } }] }),
    status: 400,
    field: 'events.0.extra',
  } as Case,
  {
    name: 'collect: query site disagrees',
    ...collect({ site: SITE, deviceId: dev, events: [ev()] }),
    path: '/v1/collect?site=other',
    status: 400,
    field: 'site',
  } as Case,
  {
    name: 'collect: malformed Authorization',
    ...collect({ site: SITE, deviceId: dev, events: [ev()] }),
    headers: { authorization: 'Bearer' },
    status: 401,
  } as Case,
  // GET /v1/profile
  { name: 'profile: no query', method: 'GET', path: '/v1/profile', status: 400, field: 'site' },
  {
    name: 'profile: bad deviceId',
    method: 'GET',
    path: `/v1/profile?site=${SITE}&deviceId=%00%00%00%00%00%00%00%00`,
    status: 400,
    field: 'deviceId',
  },
  { name: 'profile: no token', method: 'GET', path: `/v1/profile?site=${SITE}&deviceId=${dev}`, status: 401 },
  // POST /v1/identify
  {
    name: 'identify: missing token',
    method: 'POST',
    path: '/v1/identify',
    body: { ...identify, token: undefined },
    status: 400,
    field: 'token',
  },
  {
    name: 'identify: userId too long',
    method: 'POST',
    path: '/v1/identify',
    body: { ...identify, userId: 'u'.repeat(129) },
    status: 400,
    field: 'userId',
  },
  {
    name: 'identify: bad device kind',
    method: 'POST',
    path: '/v1/identify',
    body: { ...identify, device: 'tablet' },
    status: 400,
    field: 'device',
  },
  // The signature's first character: its last one also holds padding bits, which decoding ignores.
  {
    name: 'identify: forged token',
    method: 'POST',
    path: '/v1/identify',
    body: { ...identify, token: identify.token.replace(/\.(.)/, (_, c: string) => '.' + (c === 'A' ? 'B' : 'A')) },
    status: 401,
    field: 'token',
  },
  {
    name: 'identify: body too large',
    method: 'POST',
    path: '/v1/identify',
    body: { ...identify, pad: 'x'.repeat(9000) },
    status: 413,
  },
  // POST /v1/optins
  {
    name: 'optins: bad email',
    method: 'POST',
    path: '/v1/optins',
    body: { ...optin, email: 'not-an-email' },
    status: 400,
    field: 'email',
  },
  {
    name: 'optins: empty consent',
    method: 'POST',
    path: '/v1/optins',
    body: { ...optin, consentText: '' },
    status: 400,
    field: 'consentText',
  },
  {
    name: 'optins: bad touch',
    method: 'POST',
    path: '/v1/optins',
    body: { ...optin, touch: { source: 1 } },
    status: 400,
    field: 'touch.source',
  },
  {
    name: 'optins: at as string',
    method: 'POST',
    path: '/v1/optins',
    body: { ...optin, at: '1' },
    status: 400,
    field: 'at',
  },
  // GET /v1/config, PUT /v1/config
  { name: 'config: no site', method: 'GET', path: '/v1/config', status: 400, field: 'site' },
  { name: 'config: bad site', method: 'GET', path: '/v1/config?site=%3Cscript%3E', status: 400, field: 'site' },
  { name: 'config put: no admin key', method: 'PUT', path: '/v1/config', body: config(), status: 401 },
  {
    name: 'config put: unknown top-level key',
    method: 'PUT',
    path: '/v1/config',
    body: { ...config(), surprise: 1 },
    headers: admin,
    status: 400,
  },
  {
    name: 'config put: data: URL',
    method: 'PUT',
    path: '/v1/config',
    body: config({ variants: [{ id: 'v', name: 'v', slots: { hero: { src: 'data:text/html,x' } } }] }),
    headers: admin,
    status: 400,
    field: 'variants.0.slots.hero.src',
  },
  {
    name: 'config put: duplicate variant ids',
    method: 'PUT',
    path: '/v1/config',
    body: config({
      variants: [
        { id: 'v', name: 'v', slots: { a: { text: 'a' } } },
        { id: 'v', name: 'w', slots: { a: { text: 'b' } } },
      ],
    }),
    headers: admin,
    status: 400,
    field: 'variants.1.id',
  },
  {
    name: 'config put: query site disagrees',
    method: 'PUT',
    path: '/v1/config?site=other',
    body: config(),
    headers: admin,
    status: 400,
    field: 'site',
  },
  // privacy endpoints
  { name: 'export: no admin key', method: 'GET', path: `/v1/users/alice/export?site=${SITE}`, status: 401 },
  {
    name: 'export: no site',
    method: 'GET',
    path: '/v1/users/alice/export',
    headers: admin,
    status: 400,
    field: 'site',
  },
  {
    name: 'delete: wrong admin key',
    method: 'DELETE',
    path: `/v1/users/alice?site=${SITE}`,
    headers: bearer('guess'),
    status: 401,
  },
  {
    name: 'delete: id too long',
    method: 'DELETE',
    path: `/v1/users/${'u'.repeat(129)}?site=${SITE}`,
    headers: admin,
    status: 400,
    field: 'id',
  },
  {
    name: 'export: NUL in the id',
    method: 'GET',
    path: `/v1/users/%00/export?site=${SITE}`,
    headers: admin,
    status: 400,
    field: 'id',
  },
  {
    name: 'delete: NUL in the id',
    method: 'DELETE',
    path: `/v1/users/a%00b?site=${SITE}`,
    headers: admin,
    status: 400,
    field: 'id',
  },
  // others
  { name: 'sdk.js: no site', method: 'GET', path: '/v1/sdk.js', status: 400, field: 'site' },
  { name: 'unknown route', method: 'POST', path: '/v1/nothing', body: {}, status: 404 },
  { name: 'wrong method', method: 'DELETE', path: '/v1/collect', status: 404 },
];

describe.each(makeStores())('bad input on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
    // A known device and user, so that refusals are not just "unknown".
    await h.req('POST', '/v1/collect', { body: { site: SITE, deviceId: dev, events: [pageEvent()] } });
  });
  afterAll(() => db.cleanup());

  it.each(cases)('$name → $status', async (c) => {
    const before = await h.snapshot();
    const res = await h.req(c.method, c.path, {
      ...(c.body !== undefined ? { body: c.body } : {}),
      ...(c.raw !== undefined ? { raw: c.raw } : {}),
      ...(c.headers ? { headers: c.headers } : {}),
    });
    expect(res.status).toBe(c.status);
    const err = (await res.json()) as { error: string; message: string; field?: string };
    expect(typeof err.error).toBe('string');
    expect(err.message.length).toBeGreaterThan(0);
    if (c.field !== undefined) expect(err.field).toBe(c.field);
    expect(await h.snapshot()).toEqual(before);
  });
});
