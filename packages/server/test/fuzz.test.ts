import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { signIdentity } from '../src/identity/identity-token.js';
import { signOrder } from '../src/identity/order-token.js';
import { makeStores, type TestDb } from './helpers/db.js';
import {
  ADMIN_KEY,
  clientToken,
  config,
  harness,
  id,
  ORIGIN,
  pageEvent,
  SECRET,
  SITE,
  touch,
  type Harness,
} from './helpers/http.js';

// Property: whatever arrives (random or malformed bodies, headers, queries, methods) the server answers
// a 2xx/3xx for valid requests or a 4xx, never a 5xx, and a refused request leaves every table as it was.

const RUNS = 200; // per store: 400 in all

const special = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\ud800',
  'a\udc00b',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'x'.repeat(3000),
  '%',
  '%zz',
  '%E0%A4%A',
  'null',
  '{}',
  '[]',
  '__proto__',
  'constructor',
  '😀',
  'javascript:alert(1)',
  '9'.repeat(400),
  'Bearer',
  'W/"x"',
  '*',
);
const str = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), special);
const json: fc.Arbitrary<unknown> = fc.oneof(
  str,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(-1, 2 ** 53, 1e308, 0.5),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 120 }),
);
const headerText = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  special.map((s) => s.replace(/[^\x20-\x7e]/g, '')),
);

type Mut = { path: number; value: unknown; del: boolean };

/** Every key path of a JSON value down to depth 3, for mutations. */
function paths(v: unknown, prefix: (string | number)[] = [], depth = 0): (string | number)[][] {
  if (depth > 3 || v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, child]) => {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    return [p, ...paths(child, p, depth + 1)];
  });
}

function mutate(template: unknown, muts: Mut[]): unknown {
  const out = structuredClone(template) as Record<string | number, unknown>;
  const all = paths(out);
  for (const m of muts) {
    const p = all[m.path % all.length];
    if (!p) continue;
    let obj = out as Record<string | number, unknown>;
    for (const k of p.slice(0, -1)) {
      const next = obj?.[k];
      if (next === null || typeof next !== 'object') break;
      obj = next as Record<string | number, unknown>;
    }
    const last = p.at(-1) as string | number;
    if (m.del) delete obj[last];
    else obj[last] = m.value;
  }
  return out;
}

describe.each(makeStores())('fuzzing every endpoint on $name', (db: TestDb) => {
  let h: Harness;
  let dev: string;
  let deviceToken: string;
  beforeAll(async () => {
    h = await harness(db, { origins: [] });
    dev = id();
    deviceToken = clientToken();
    await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: dev, events: [pageEvent()] },
      headers: { authorization: `Bearer ${deviceToken}` },
    });
    await h.req('PUT', '/v1/config', { body: config(), headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  });
  afterAll(() => db.cleanup());

  it('answers only 2xx/3xx/4xx, and refused requests write nothing', async () => {
    const idToken = signIdentity({ userId: 'alice', secret: SECRET, site: SITE, ttlSeconds: 3600 });
    const templates: Record<
      string,
      { method: string; path: string; body?: () => unknown; query?: Record<string, string>; auth?: 'device' | 'admin' }
    > = {
      collect: {
        method: 'POST',
        path: '/v1/collect',
        body: () => ({
          site: SITE,
          deviceId: id(),
          events: [pageEvent(), { id: id(), type: 'touch', at: 1, touch: touch() }],
          // A new device's own token, in the body as a beacon sends it.
          deviceToken: clientToken(),
        }),
      },
      identify: {
        method: 'POST',
        path: '/v1/identify',
        // One login token links one device: the known one, presenting it again and again.
        body: () => ({ site: SITE, deviceId: dev, userId: 'alice', token: idToken, device: 'mobile' }),
        auth: 'device',
      },
      logout: {
        method: 'POST',
        path: '/v1/logout',
        // Devices never seen (the known one stays logged in, for the other endpoints).
        body: () => ({ site: SITE, deviceId: id(), deviceToken: clientToken() }),
      },
      optins: {
        method: 'POST',
        path: '/v1/optins',
        body: () => ({
          id: id(),
          site: SITE,
          deviceId: dev,
          email: 'a@example.com',
          consentText: 'yes',
          at: 1,
          touch: touch(),
        }),
        auth: 'device',
      },
      confirmOrder: {
        method: 'POST',
        path: '/v1/orders/confirm',
        // A new order each time; the backend's token is the only credential.
        body: () => ({
          site: SITE,
          token: signOrder({ secret: SECRET, site: SITE, orderId: `F-${id()}`, value: 12.5, currency: 'EUR' }),
        }),
      },
      putConfig: { method: 'PUT', path: '/v1/config', body: () => config(), auth: 'admin' },
      profile: { method: 'GET', path: '/v1/profile', query: { site: SITE, deviceId: '' }, auth: 'device' },
      getConfig: { method: 'GET', path: '/v1/config', query: { site: SITE } },
      sdk: { method: 'GET', path: '/v1/sdk.js', query: { site: SITE } },
      exportUser: { method: 'GET', path: '/v1/users/alice/export', query: { site: SITE }, auth: 'admin' },
      deleteUser: { method: 'DELETE', path: '/v1/users/nobody', query: { site: SITE }, auth: 'admin' },
      openapi: { method: 'GET', path: '/v1/openapi.json' },
      health: { method: 'GET', path: '/healthz' },
      metrics: { method: 'GET', path: '/metrics' },
    };

    const request = fc.record({
      endpoint: fc.constantFrom(...Object.keys(templates)),
      // Each perturbation is occasional, so that most requests get deep enough to reach the store.
      method: fc.oneof(
        { weight: 8, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
      ),
      bodyKind: fc.constantFrom(
        'valid',
        'valid',
        'valid',
        'mutated',
        'mutated',
        'mutated',
        'json',
        'raw',
        'bytes',
        'none',
      ),
      muts: fc.array(fc.record({ path: fc.nat(), value: json, del: fc.boolean() }), { minLength: 1, maxLength: 3 }),
      json,
      raw: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), special),
      bytes: fc.uint8Array({ maxLength: 200 }),
      query: fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        {
          weight: 2,
          arbitrary: fc.dictionary(fc.constantFrom('site', 'deviceId', 'x', ''), fc.oneof(str, fc.constant(SITE))),
        },
        { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => ({ __raw: s })) },
      ),
      auth: fc.oneof(
        { weight: 6, arbitrary: fc.constant('natural') },
        { weight: 2, arbitrary: fc.constantFrom(null, 'device', 'admin') },
        { weight: 1, arbitrary: headerText },
      ),
      contentType: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 4, arbitrary: fc.constantFrom('application/json', 'text/plain;charset=UTF-8') },
        {
          weight: 1,
          arbitrary: fc.oneof(fc.constantFrom('multipart/form-data', 'application/json; charset=latin1'), headerText),
        },
      ),
      origin: fc.oneof(
        { weight: 5, arbitrary: fc.constant(null) },
        { weight: 3, arbitrary: fc.constant(ORIGIN) },
        { weight: 1, arbitrary: headerText },
      ),
      etag: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: headerText }),
    });

    let before = await h.snapshot();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const t = templates[r.endpoint]!;
        const method = r.method ?? t.method;
        let url = t.path;
        if (r.query && '__raw' in r.query) url += `?${r.query.__raw}`;
        else if (r.query) url += `?${new URLSearchParams(r.query as Record<string, string>).toString()}`;
        else if (t.query)
          url += `?${new URLSearchParams({ ...t.query, ...(t.query.deviceId !== undefined ? { deviceId: dev } : {}) }).toString()}`;

        const headers: Record<string, string> = {};
        const auth = r.auth === 'natural' ? (t.auth ?? null) : r.auth;
        if (auth === 'device') headers.authorization = `Bearer ${deviceToken}`;
        else if (auth === 'admin') headers.authorization = `Bearer ${ADMIN_KEY}`;
        else if (auth !== null) headers.authorization = auth;
        if (r.contentType !== null) headers['content-type'] = r.contentType;
        if (r.origin !== null) headers.origin = r.origin;
        if (r.etag !== null) {
          headers['if-none-match'] = r.etag;
          headers['if-match'] = r.etag;
        }

        let raw: string | Uint8Array | undefined;
        const template = t.body?.();
        if (method !== 'GET' && method !== 'HEAD') {
          if (r.bodyKind === 'valid' && template) raw = JSON.stringify(template);
          else if (r.bodyKind === 'mutated' && template) raw = JSON.stringify(mutate(template, r.muts));
          else if (r.bodyKind === 'json') raw = JSON.stringify(r.json);
          else if (r.bodyKind === 'raw') raw = r.raw;
          else if (r.bodyKind === 'bytes') raw = r.bytes;
        }

        const res = await h.req(method, url, { ...(raw !== undefined ? { raw } : {}), headers });
        expect(res.status, `${method} ${url}`).toBeLessThan(500);
        await res.arrayBuffer();
        const after = await h.snapshot();
        if (res.status >= 400) {
          if (res.status === 409) {
            // A refused link leaves only its audit record.
            for (const k of Object.keys(before).filter((k) => k !== 'links')) expect(after[k], k).toEqual(before[k]);
          } else {
            expect(after, `${method} ${url} → ${res.status} wrote rows`).toEqual(before);
          }
        }
        before = after;
      }),
      { numRuns: RUNS },
    );
    expect((await h.req('GET', '/healthz')).status).toBe(200);
  });
});
