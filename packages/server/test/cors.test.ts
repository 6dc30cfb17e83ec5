import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteConfig } from '@cairn/schema';
import { makeStores, type TestDb } from './helpers/db.js';
import {
  admin,
  bearer,
  clientToken,
  config,
  harness,
  id,
  ORIGIN,
  pageEvent,
  SITE,
  type Harness,
} from './helpers/http.js';

const EVIL = 'https://evil.example';
const GLOBAL = 'https://admin.example';
const OTHER = 'https://other-shop.example';

describe.each(makeStores())('CORS on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db, { origins: [GLOBAL] });
    expect((await h.req('PUT', '/v1/config', { body: config(), headers: admin })).status).toBe(200);
    expect(
      (await h.req('PUT', '/v1/config', { body: config({ site: 'other', origins: [OTHER] }), headers: admin })).status,
    ).toBe(200);
  });
  afterAll(() => db.cleanup());

  const preflight = (path: string, origin: string) =>
    h.req('OPTIONS', path, {
      headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
  const collect = (origin?: string, site = SITE) =>
    h.req('POST', '/v1/collect', {
      body: { site, deviceId: id(), events: [pageEvent()] },
      headers: { ...bearer(clientToken()), ...(origin ? { origin } : {}) },
    });

  it('answers a preflight from a configured origin', async () => {
    const res = await preflight(`/v1/profile?site=${SITE}&deviceId=${id()}`, ORIGIN);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('refuses a preflight from any other origin', async () => {
    for (const origin of [EVIL, OTHER, 'null', `${ORIGIN}.evil.example`]) {
      const res = await preflight(`/v1/profile?site=${SITE}&deviceId=${id()}`, origin);
      expect(res.status, origin).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('a preflight without ?site= passes for an origin some site allows, and for the --origins list', async () => {
    expect((await preflight('/v1/identify', ORIGIN)).status).toBe(204);
    expect((await preflight('/v1/identify', GLOBAL)).status).toBe(204);
    expect((await preflight('/v1/identify', EVIL)).status).toBe(403);
  });

  it('a fresh instance knows the origins of the configs it was started with', async () => {
    const fresh = await harness(db, { knownConfigs: [] });
    expect(
      (
        await fresh.req('OPTIONS', '/v1/collect', {
          headers: { origin: OTHER, 'access-control-request-method': 'POST' },
        })
      ).status,
    ).toBe(403);
    const seeded = await harness(db, {
      knownConfigs: [(await (await h.req('GET', '/v1/config?site=other')).json()) as SiteConfig],
    });
    const res = await seeded.req('OPTIONS', '/v1/collect', {
      headers: { origin: OTHER, 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(OTHER);
  });

  it('allows the configured origin, with the header on the answer', async () => {
    const res = await collect(ORIGIN);
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
    const global = await collect(GLOBAL);
    expect(global.status).toBe(202);
    expect(global.headers.get('access-control-allow-origin')).toBe(GLOBAL);
  });

  it('refuses another origin (even one another site allows) before writing anything', async () => {
    const before = await h.snapshot();
    for (const origin of [EVIL, OTHER]) {
      const res = await collect(origin);
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(((await res.json()) as { error: string }).error).toBe('origin_not_allowed');
    }
    expect(await h.snapshot()).toEqual(before);
    // ...while the other site accepts its own origin.
    expect((await collect(OTHER, 'other')).status).toBe(202);
  });

  it('requests without an Origin (servers, curl) are not browser requests and need no CORS', async () => {
    const res = await collect();
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('public GETs answer everyone, but only allowed origins may read them from a browser', async () => {
    const allowed = await h.req('GET', `/v1/config?site=${SITE}`, { headers: { origin: ORIGIN } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-expose-headers')).toMatch(/ETag/);
    const other = await h.req('GET', `/v1/config?site=${SITE}`, { headers: { origin: EVIL } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('error answers to an allowed origin carry CORS headers, so the SDK can read the 4xx', async () => {
    const res = await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: 'x', events: [] },
      headers: { origin: ORIGIN },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });
});
